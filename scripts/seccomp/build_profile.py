#!/usr/bin/env python3
"""Merge traced syscall lists with the hand-kept sets into the shipped seccomp profile (JSON).

Usage: python3 scripts/seccomp/build_profile.py [--traced scripts/seccomp/traced/*.txt]
                                                [--out roles/gateway/files/seccomp/picoclaw.json]
                                                [--comment TEXT]
       [--default-action SCMP_ACT_LOG]  (audit variant: unlisted syscalls are logged, not denied)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from syscall_sets import AARCH64_EQUIVALENTS, COMMON, DENY, RUNTIME, SPECIAL

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EPERM, ENOSYS = 1, 38
# CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone() may not create namespaces.
CLONE_NAMESPACE_FLAGS = 0x7E020000
# Socket families an HTTP client and a shell need: unix, IPv4, IPv6, netlink (getaddrinfo/ip).
SOCKET_FAMILIES = {"AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16}


def allowed_names(traced: set[str]) -> list[str]:
    leaked = traced & DENY
    if leaked:
        print(f"note: the trace saw denied syscalls {sorted(leaked)}; they stay denied", file=sys.stderr)
    return sorted((traced | RUNTIME | COMMON | AARCH64_EQUIVALENTS) - DENY - SPECIAL)


def aarch64_only(traced_aarch64: set[str], names: list[str]) -> list[str]:
    """Names only the aarch64 trace (qemu-user, trace_aarch64_qemu.py) saw: allowed on arm64 alone, so
    the x86_64 filter, the one the test suites prove, is not widened by an emulated trace."""
    return sorted(traced_aarch64 - set(names) - DENY - SPECIAL)


GATEWAY_COMMENT = "PicoClaw gateway allowlist; regenerate with scripts/seccomp/generate.sh"


def profile(
    names: list[str], default_action: str, arm64_names: list[str] | None = None, comment: str = GATEWAY_COMMENT
) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [
        {"names": names, "action": "SCMP_ACT_ALLOW"},
    ]
    if arm64_names:
        rules.append({"names": arm64_names, "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]},
                      "comment": "seen only in the aarch64 trace"})  # fmt: skip
    rules += [
        {
            "names": ["clone"],
            "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": CLONE_NAMESPACE_FLAGS, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
            "comment": "threads and processes, but no new namespaces",
        },
        # clone3 passes its flags in a struct seccomp cannot inspect: ENOSYS makes libc fall back to clone.
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS},
    ]
    rules += [
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "comment": family,
         "args": [{"index": 0, "value": number, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}
        for family, number in SOCKET_FAMILIES.items()
    ]  # fmt: skip
    return {
        "comment": comment,
        "defaultAction": default_action,
        "defaultErrnoRet": EPERM,
        "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
        ],
        "syscalls": rules,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--traced", type=Path, nargs="*", default=sorted((HERE / "traced").glob("*.txt")))
    parser.add_argument("--out", type=Path, default=REPO / "roles/gateway/files/seccomp/picoclaw.json")
    parser.add_argument(
        "--default-action", default="SCMP_ACT_ERRNO", choices=["SCMP_ACT_ERRNO", "SCMP_ACT_LOG"]
    )
    parser.add_argument("--comment", default=GATEWAY_COMMENT, help="the profile's comment (which container)")
    args = parser.parse_args()
    if not args.traced:
        sys.exit("no traced lists: run scripts/seccomp/trace_gateway.py first (see generate.sh)")
    # traced/aarch64.txt (emulated) only adds arm64-only names; every other trace feeds the common list.
    by_arch = {
        path.stem: {ln.strip() for ln in path.read_text().splitlines() if ln.strip()} for path in args.traced
    }
    traced_aarch64 = by_arch.pop("aarch64", set())
    names = allowed_names(set().union(*by_arch.values()))
    arm64_names = aarch64_only(traced_aarch64, names)
    leaked = traced_aarch64 & DENY
    if leaked:
        print(
            f"note: the aarch64 trace saw denied syscalls {sorted(leaked)}; they stay denied", file=sys.stderr
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(profile(names, args.default_action, arm64_names, args.comment), indent=2) + "\n")
    print(f"{len(names)} plain-allowed names (+ clone, socket filtered), {len(arm64_names)} more on arm64"
          f" -> {args.out}", file=sys.stderr)  # fmt: skip


if __name__ == "__main__":
    main()
