#!/usr/bin/env python3
"""Print how many syscalls our profile allows, next to Docker's default profile.

Usage: python3 scripts/seccomp/count.py [PROFILE] [--docker-default moby-default.json]

"Allowed" means: names an SCMP_ACT_ALLOW rule lists (with or without an argument filter) that apply to
a container with no capabilities (the gateway runs with --cap-drop ALL), counted once, for one
architecture (x86_64 by default). Names absent from that architecture are still counted when the
profile lists them, as `docker` does not check either; the x86_64-only figure is printed as well.

Docker's default profile is not on disk here: its figures were counted once from moby's
profiles/seccomp/default.json and are kept in docker-default-count.json (source and version inside).
Pass --docker-default FILE to count a copy of that file instead.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
UNISTD_64 = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
ARCH_ALIASES = {"x86_64": {"amd64", "x86_64"}, "aarch64": {"arm64", "aarch64"}}


def rule_applies(rule: dict[str, Any], arch: str) -> bool:
    """Docker's includes/excludes, for a container without capabilities on `arch`."""
    includes, excludes = rule.get("includes") or {}, rule.get("excludes") or {}
    if includes.get("caps"):  # only granted with a capability we drop
        return False
    if includes.get("arches") and not set(includes["arches"]) & ARCH_ALIASES[arch]:
        return False
    return not (excludes.get("arches") and set(excludes["arches"]) & ARCH_ALIASES[arch])


def allowed(profile: dict[str, Any], arch: str = "x86_64") -> set[str]:
    return {
        name
        for rule in profile["syscalls"]
        if rule["action"] == "SCMP_ACT_ALLOW" and rule_applies(rule, arch)
        for name in rule["names"]
    }


def x86_64_names() -> set[str] | None:
    if not UNISTD_64.is_file():
        return None
    return set(re.findall(r"#define __NR_(\w+) \d+", UNISTD_64.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "profile", type=Path, nargs="?", default=REPO / "roles/gateway/files/seccomp/picoclaw.json"
    )
    parser.add_argument("--docker-default", type=Path, help="a copy of moby's profiles/seccomp/default.json")
    args = parser.parse_args()
    ours = allowed(json.loads(args.profile.read_text()))
    native = x86_64_names()
    print(f"picoclaw profile ({args.profile.name}): {len(ours)} syscall names allowed", end="")
    print(f", {len(ours & native)} of them exist on x86_64" if native else "")
    if args.docker_default:
        theirs = allowed(json.loads(args.docker_default.read_text()))
        print(f"docker default ({args.docker_default}): {len(theirs)} names allowed without capabilities",
              f"({len(theirs & native)} exist on x86_64)" if native else "")  # fmt: skip
    else:
        data = json.loads((HERE / "docker-default-count.json").read_text())
        print(f"docker default ({data['source']}): {data['allowed_without_caps_x86_64']} names allowed "
              f"without capabilities ({data['exist_on_x86_64']} exist on x86_64)")  # fmt: skip


if __name__ == "__main__":
    main()
