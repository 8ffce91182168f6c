"""Print the requirements a wheelhouse still lacks for a TARGET Python (one per line, pip syntax).

Usage: python wheelhouse_missing.py WHEEL_DIR PY_VERSION ARCH ROOT_PROJECT[EXTRA,...]

Why: `pip download --python-version X` picks wheels for X but evaluates dependency markers with the
Python running pip, so e.g. discord.py's `audioop-lts; python_version >= "3.13"` is dropped when the
controller runs 3.11. This walks the wheels' metadata from the root project with the target's marker
environment and lists every applicable requirement whose project has no wheel yet.
Stdlib + the `packaging` copy that ships inside pip, so it runs wherever pip does.
"""

from __future__ import annotations

import sys
import zipfile
from email.parser import Parser
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # pip always carries it
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef]


def target_environment(py_version: str, arch: str) -> dict[str, str]:
    return {
        "python_version": py_version,
        "python_full_version": f"{py_version}.0",
        "implementation_name": "cpython",
        "implementation_version": f"{py_version}.0",
        "platform_python_implementation": "CPython",
        "platform_machine": arch,
        "platform_system": "Linux",
        "sys_platform": "linux",
        "os_name": "posix",
        "platform_release": "",
        "platform_version": "",
    }


def wheel_requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA") and n.count("/") == 1]
        message = Parser().parsestr(archive.read(metadata).decode("utf-8"))
    return message.get_all("Requires-Dist") or []


def missing(wheel_dir: Path, env: dict[str, str], root: Requirement) -> list[str]:
    wheels = {canonicalize_name(w.name.split("-")[0]): w for w in wheel_dir.glob("*.whl")}
    wanted: dict[str, set[str]] = {canonicalize_name(root.name): set(root.extras)}
    lacking: dict[str, Requirement] = {}
    queue = [canonicalize_name(root.name)]
    while queue:
        name = queue.pop()
        if name not in wheels:
            continue
        for line in wheel_requirements(wheels[name]):
            req = Requirement(line)
            extras = wanted[name] | {""}
            if req.marker is not None and not any(req.marker.evaluate({**env, "extra": e}) for e in extras):
                continue
            dep = canonicalize_name(req.name)
            if dep not in wheels:
                lacking[dep] = req
            new_extras = set(req.extras) - wanted.get(dep, set())
            if dep not in wanted or new_extras:
                wanted[dep] = wanted.get(dep, set()) | set(req.extras)
                queue.append(dep)
    return [
        str(Requirement(f"{r.name}[{','.join(sorted(r.extras))}]{r.specifier}")) for r in lacking.values()
    ]


def main() -> int:
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    wheel_dir, py_version, arch, root = sys.argv[1:]
    for line in missing(Path(wheel_dir), target_environment(py_version, arch), Requirement(root)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
