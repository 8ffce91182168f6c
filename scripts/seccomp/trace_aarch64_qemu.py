#!/usr/bin/env python3
"""Trace the gateway's aarch64 syscalls under qemu-user emulation (no arm machine needed).

Usage (root, Debian/Ubuntu host with qemu-user-static and debootstrap installed):
    python3 scripts/seccomp/trace_aarch64_qemu.py [--root /var/tmp/picoclaw-arm64]
                                                   [--out scripts/seccomp/traced/aarch64.txt]

How: an arm64 Debian 13 userland (debootstrap --foreign; its .debs unpacked with dpkg-deb, no emulated
second stage) gets the gateway in /opt/picoclaw/venv exactly like the image (python3 -m venv, the
aarch64 wheels of tools/build-wheelhouse.sh). A binfmt_misc handler for aarch64 ELF files (Debian's
qemu-aarch64 entry, removed again at the end unless it was there before) lets every arm64 program
run, including the exec tool's children. QEMU_STRACE=1 is inherited by each of them, and qemu logs the
GUEST's syscalls (aarch64 names) to one file per process. The gateway runs chrooted as uid 1000 on the
host network against the native protocol fakes and is driven by trace_gateway.py's flow: start,
polling, an answer, every tool (exec running sh, ls, cat, grep, sed, find, python3, `picoclaw
healthcheck`, an httpx/ssl TLS handshake), then SIGTERM shutdown.

Not covered (there is no container): runc, tini and Docker's own processes; build_profile.py adds
them from syscall_sets.RUNTIME as for x86_64. qemu itself makes host calls (not logged, not relevant).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import trace_gateway
from trace_gateway import REPO, drive, free_port, gateway_config, start_simulator, start_tls_server

CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"
BINFMT = Path("/proc/sys/fs/binfmt_misc")
BINFMT_CONF = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")  # from Debian's qemu-user-static
MIRROR = "http://deb.debian.org/debian"
# qemu -strace lines: `PID name(args) = ret`, or `PID Unknown syscall NR` for calls qemu 7.2 cannot name.
SYSCALL_LINE = re.compile(r"^\d+ (?:([a-z_][a-z0-9_]*)\(|Unknown syscall (\d+))")
# aarch64 (asm-generic) numbers of calls newer than qemu 7.2's name table.
AARCH64_NEWER = {293: "rseq", 424: "pidfd_send_signal", 435: "clone3", 436: "close_range",
                 439: "faccessat2", 441: "epoll_pwait2"}  # fmt: skip


# Inherited by every qemu binfmt starts, so child processes are traced too; %d = the host pid.
QEMU_ENV = "QEMU_STRACE=1 QEMU_LOG_FILENAME=/tmp/qemu-strace/%d.log"  # inside the chroot
plain_http = trace_gateway.http


def run(*cmd: str, **kwargs: object) -> None:
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


def build_root(root: Path) -> None:
    """arm64 userland with python3 and the gateway venv; kept between runs (delete it to rebuild)."""
    if not (root / "usr/bin/python3").exists():
        run("debootstrap", "--arch=arm64", "--foreign", "--variant=minbase",
            "--include=python3,python3-venv", "trixie", str(root), MIRROR)  # fmt: skip
        for deb in sorted((root / "var/cache/apt/archives").glob("*.deb")):
            run("dpkg-deb", "-x", str(deb), str(root))
    venv = root / "opt/picoclaw/venv"
    if (venv / "bin/picoclaw").exists():
        return
    wheels = root / "opt/picoclaw/wheelhouse"
    if not (wheels / "MANIFEST.sha256").exists():
        run("bash", str(REPO / "gateway_src/tools/build-wheelhouse.sh"), str(wheels), "3.13", "aarch64",
            env={**os.environ, "MAX_GLIBC": "41", "PYTHON": sys.executable})  # fmt: skip
    run("chroot", str(root), "/usr/bin/python3", "-m", "venv", "--without-pip", "/opt/picoclaw/venv")
    site = next((venv / "lib").glob("python3.*/site-packages"))
    # Host pip installs the aarch64 wheels (fast; nothing to compile); the console script as pip writes it.
    run(sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(wheels),
        "--only-binary=:all:", "--platform", "manylinux2014_aarch64", "--python-version", "3.13",
        "--implementation", "cp", "--target", str(site), "picoclaw-gateway[all]")  # fmt: skip
    shutil.rmtree(site / "bin", ignore_errors=True)
    script = venv / "bin/picoclaw"
    script.write_text(
        "#!/opt/picoclaw/venv/bin/python\nimport sys\n"
        "from picoclaw_gateway.cli import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    # Bytecode is architecture-independent: a host CPython 3.13 compiles it natively (as the image's
    # build does, unchecked-hash). Without it the emulated gateway spends minutes compiling at start.
    host_py = shutil.which("python3.13") or sys.exit("a host python3.13 is needed to precompile bytecode")
    run(host_py, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
        str(root / "usr/lib/python3.13"), str(venv / "lib"), stdout=subprocess.DEVNULL)  # fmt: skip


def register_binfmt() -> bool:
    """Register qemu for aarch64 ELF files; True when this call added it (so it must be removed)."""
    if not (BINFMT / "register").exists():
        run("mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT))
    if (BINFMT / "qemu-aarch64").exists():
        return False
    (BINFMT / "register").write_text(BINFMT_CONF.read_text().strip())
    return True


def names_from(logs: list[Path]) -> list[str]:
    found: set[str] = set()
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if not (m := SYSCALL_LINE.match(line)):
                continue
            if m.group(2) and int(m.group(2)) not in AARCH64_NEWER:
                sys.exit(f"{log}: aarch64 syscall {m.group(2)} has no name here: add it to AARCH64_NEWER")
            found.add(m.group(1) or AARCH64_NEWER[int(m.group(2))])
    return sorted(found)


def traced_exec(url: str, body: Any = None) -> Any:
    """trace_gateway's http(), but exec tool commands first export the qemu variables: the exec tool
    gives its children a minimal environment, so without this they would run untraced."""
    if isinstance(body, list):
        for rule in body:
            for call in rule.get("tool_calls", []):
                if call["name"] == "exec":
                    call["arguments"]["command"] = f"export {QEMU_ENV}; {call['arguments']['command']}"
    return plain_http(url, body)


def wait_ready(port: int, limit: float = 600) -> None:
    """The emulated gateway starts slowly: drive only once its channel is connected (GET /ready)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5, trust_env=False).status_code == 200:
                return
        time.sleep(2)
    sys.exit(f"the emulated gateway was not ready within {limit:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=Path("/var/tmp/picoclaw-arm64"))  # noqa: S108 - root-only tool
    parser.add_argument("--out", type=Path, default=REPO / "scripts/seccomp/traced/aarch64.txt")
    args = parser.parse_args()
    root = args.root.resolve()
    build_root(root)
    added = register_binfmt()
    mounts = [root / "proc", root / "dev"]
    run("mount", "-t", "proc", "proc", str(mounts[0]))
    run("mount", "--bind", "/dev", str(mounts[1]))
    token = f"{secrets.randbelow(9 * 10**9) + 10**9}:AA{secrets.token_urlsafe(24)}"
    api_key = "sk-or-v1-" + secrets.token_hex(32)
    simulator, urls = start_simulator(token, api_key)
    logs = root / "tmp/qemu-strace"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    workspace = root / "workspace"
    shutil.rmtree(workspace, ignore_errors=True)
    workspace.mkdir(mode=0o750)
    os.chown(workspace, 1000, 1000)
    os.chmod(root / "tmp", 0o1777)  # noqa: S103 - the chroot's /tmp, like any /tmp
    os.chmod(logs, 0o1777)  # noqa: S103 - every traced process (uid 1000) writes its own log
    config = gateway_config(urls, api_key, token)
    (root / "config").mkdir(exist_ok=True)
    (root / "config/config.json").write_text(json.dumps(config))
    os.chmod(root / "config/config.json", 0o444)
    health_port = free_port()
    env = {  # paths inside the chroot; the image's ENV
        "PATH": "/opt/picoclaw/venv/bin:/usr/local/bin:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1", "PICOCLAW_CONFIG": "/config/config.json", "PICOCLAW_WORKSPACE": "/workspace",
        "HOME": "/tmp", "TMPDIR": "/tmp", "MALLOC_ARENA_MAX": "2", "PICOCLAW_HEALTH_PORT": str(health_port),  # noqa: S108
    } | dict(pair.split("=", 1) for pair in QEMU_ENV.split())  # fmt: skip
    command = [
        CHROOT,
        "--userspec=1000:1000",
        str(root),
        "/bin/sh",
        "-c",
        "cd /workspace && exec picoclaw gateway",
    ]
    gateway: subprocess.Popen[bytes] | None = None
    try:
        gateway = subprocess.Popen(command, env=env)
        wait_ready(health_port)
        trace_gateway.http = traced_exec  # drive() posts the LLM script through it
        drive(urls, start_tls_server(root / "tmp"), health_port)
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(timeout=60)
    finally:
        if gateway is not None and gateway.poll() is None:
            gateway.kill()
        simulator.terminate()
        time.sleep(1)
        for mount in reversed(mounts):
            subprocess.run(["umount", str(mount)], check=False)
        if added:
            (BINFMT / "qemu-aarch64").write_text("-1")
        (root / "config/config.json").unlink(missing_ok=True)  # holds the run's (throwaway) secrets
    log_files = sorted(logs.glob("*.log"))
    names = names_from(log_files)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(names) + "\n")
    print(
        f"{len(names)} aarch64 syscalls from {len(log_files)} traced processes -> {args.out}", file=sys.stderr
    )


if __name__ == "__main__":
    main()
