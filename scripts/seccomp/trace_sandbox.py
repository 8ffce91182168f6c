#!/usr/bin/env python3
"""Trace every syscall the tools sandbox container makes through the tools' real workloads.

Usage (root, Docker engine, host `strace`):
    python3 scripts/seccomp/trace_sandbox.py --image IMAGE [--out scripts/seccomp/traced/sandbox/x86_64.txt]
                                             [--seccomp PROFILE]   (report what PROFILE refused)

How: the container runs as the role deploys it (uid 1001, no network, read-only root, no capabilities,
noexec /tmp, tini as init, `picoclaw sandbox --kill-all-others`, minus seccomp so nothing is hidden).
Its entrypoint waits a few seconds before exec'ing the sandbox, long enough for the host's strace to
attach to tini and that shell with -f, so every later process of the container is traced. The socket
directory is a host folder, so this script talks to the sandbox the way the gateway does
(SandboxClient): every file tool (openat2 under RESOLVE_BENEATH where the kernel has it), exec running
sh/ls/cat/grep/sed/find/python3, an exec that leaves setsid/daemon children (killed by the sweep) and
one that times out; the healthcheck (`picoclaw sandbox --ping` by docker exec); then `docker stop`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trace_gateway import container_pids, docker, report, traced_names

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "gateway_src" / "src"))
UID = 1001
HARDENING = [
    "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--user", f"{UID}:{UID}",
    "--memory", "128m", "--pids-limit", "64", "--cpus", "1", "--ulimit", "nofile=2048:2048",
    "--tmpfs", "/tmp:rw,noexec,nosuid,nodev,size=16m", "--init", "--network", "none",  # noqa: S108
]  # fmt: skip
COMMANDS = [
    "ls -la /workspace /tmp; cat /etc/os-release; grep -c root /etc/passwd; echo x | sh -c 'cat; pwd'",
    "python3 -c 'import os, json; print(json.dumps(os.listdir()))'; id; date; sort /etc/group | head -3",
    "sleep 0.2 & wait; find . -maxdepth 1 | wc -l; sed -n 1p notes.txt; mkdir -p d && rm -r d; true",
    "cp notes.txt copy.txt && mv copy.txt moved.txt && ln -s moved.txt link && ls -l && rm link moved.txt",
    "python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:9/\", timeout=2)'; echo $?",
    # What users' own programs do (the sandbox itself runs no event loop, so it no longer traces these):
    # an asyncio loop with a child process and a worker thread, and a buffer that grows by realloc.
    "python3 - <<'PY'\nimport asyncio\n\nasync def main():\n    child = await asyncio.create_subprocess_exec('true')\n"
    "    await child.wait()\n    await asyncio.to_thread(sum, [1])\n    await asyncio.sleep(0.01)\n\n"
    "asyncio.run(main())\nbuf = bytearray()\nfor _ in range(40):\n    buf.extend(bytes(1 << 20))\nPY\necho user-programs",
    # Left behind on purpose: the sweep after the call kills them (setsid, nohup, a daemonizing python).
    "setsid sleep 300 & nohup sleep 300 >/dev/null 2>&1 & "
    "python3 -c 'import os; os.fork() and os._exit(0); os.setsid(); os.fork() and os._exit(0); "
    "import time; time.sleep(300)'; echo started",
]


async def drive(socket_path: str) -> None:
    from picoclaw_gateway.config import ExecConfig
    from picoclaw_gateway.sandbox.client import SandboxClient

    client = SandboxClient(socket_path)
    config = ExecConfig(timeout_s=20)
    calls = [
        ("write_file", {"path": "notes.txt", "content": "alpha\nbeta\n"}),
        ("write_file", {"path": "sub/dir/deep.txt", "content": "deep"}),
        ("read_file", {"path": "notes.txt"}),
        ("read_file", {"path": "sub/dir/deep.txt"}),
        ("edit_file", {"path": "notes.txt", "old_text": "beta", "new_text": "gamma"}),
        ("list_dir", {"path": "."}),
        ("list_dir", {"path": "sub"}),
        ("read_file", {"path": "../etc/passwd"}),
        *(("exec", {"command": c}) for c in COMMANDS),
    ]
    for tool, args in calls:
        result = await client.call(tool, args, config, 60)
        print(f"{tool}: {result[:160]!r}", file=sys.stderr)
    timed_out = await client.call("exec", {"command": "sleep 30"}, ExecConfig(timeout_s=1), 30)
    print(f"exec timeout: {timed_out[-80:]!r}", file=sys.stderr)
    if await client.ping():
        sys.exit("the sandbox stopped answering during the traced flow")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", required=True, help="gateway image (the sandbox runs the same image)")
    parser.add_argument("--out", type=Path, help="write the sorted syscall names here (default: stdout)")
    parser.add_argument("--seccomp", default="unconfined", help="profile to run under (default unconfined)")
    args = parser.parse_args()
    name = f"picoclaw-sandbox-trace-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        os.chmod(workdir, 0o755)  # noqa: S103 - the container's uid must traverse it
        workspace, run = workdir / "workspace", workdir / "run"
        for path in (workspace, run):
            path.mkdir()
            os.chown(path, UID, UID)
        os.chmod(workspace, 0o2770)  # noqa: S103 - as the role makes it: shared by group
        trace_file = workdir / "strace.out"
        try:
            docker("run", "--detach", "--name", name, *HARDENING, "--security-opt", f"seccomp={args.seccomp}",
                   "--volume", f"{workspace}:/workspace", "--volume", f"{run}:/run/picoclaw",
                   "--entrypoint", "sh", args.image, "-c",
                   "sleep 3; exec picoclaw sandbox --socket /run/picoclaw/tools.sock --kill-all-others")  # fmt: skip
            pids = container_pids(name)
            strace = subprocess.Popen(["strace", "-f", "-qq", "-o", str(trace_file),
                                       *[a for pid in pids for a in ("-p", pid)]])  # fmt: skip
            socket_path = run / "tools.sock"
            deadline = time.monotonic() + 60
            while not socket_path.exists():
                if time.monotonic() > deadline:
                    sys.exit(f"the sandbox did not start: {docker('logs', name, check=False)[-2000:]}")
                time.sleep(0.2)
            asyncio.run(drive(str(socket_path)))
            health = docker("exec", name, "picoclaw", "sandbox", "--ping", "/run/picoclaw/tools.sock")
            print(f"healthcheck: {health.strip()}", file=sys.stderr)
            docker("stop", "--time", "20", name, timeout=60)
            strace.wait(timeout=60)
            names = traced_names(trace_file)
        finally:
            docker("rm", "--force", "--volumes", name, check=False)
    report(names, args.seccomp, args.out)


if __name__ == "__main__":
    main()
