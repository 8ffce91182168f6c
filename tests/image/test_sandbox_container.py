"""The tools sandbox as the role runs it from the gateway image: uid 1001, no network, read-only, no
capabilities, its own traced seccomp allowlist, `--kill-all-others`. Its healthcheck answers, a tool call
over the socket works, and its idle RSS (Python 3.13 in the image) is within the 16 MB budget.

Run: .venv/bin/pytest -q -p no:cacheprovider tests/image/test_sandbox_container.py (Docker engine needed).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import GATEWAY_SRC, REPO, ROLE_DEFAULTS
from docker_cli import docker, wait_health

PROFILE = REPO / "roles/gateway/files/seccomp/picoclaw-sandbox.json"
UID = ROLE_DEFAULTS["picoclaw_sandbox_uid"]
RSS_BUDGET_KB = 16 * 1024


@pytest.fixture
def sandbox_container(gateway_image: str, tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    name = f"picoclaw-sandbox-test-{uuid.uuid4().hex[:8]}"
    workspace, run = tmp_path / "workspace", tmp_path / "run"
    os.chmod(tmp_path, 0o755)  # noqa: S103 - uid 1001 must traverse it
    for path in (workspace, run):
        path.mkdir()
        os.chown(path, UID, UID)
    os.chmod(workspace, 0o2770)  # noqa: S103 - as the role makes it: shared with the gateway by group
    docker(
        "run", "--detach", "--name", name, "--read-only", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges", "--security-opt", f"seccomp={PROFILE}",
        "--user", f"{UID}:{UID}", "--network", "none", "--memory", ROLE_DEFAULTS["picoclaw_sandbox_mem_limit"],
        "--pids-limit", str(ROLE_DEFAULTS["picoclaw_sandbox_pids_limit"]),
        "--cpus", str(ROLE_DEFAULTS["picoclaw_sandbox_cpus"]),
        "--tmpfs", f"/tmp:rw,noexec,nosuid,nodev,size={ROLE_DEFAULTS['picoclaw_sandbox_tmpfs_size']}",
        "--init", "--env", "MALLOC_ARENA_MAX=2",
        "--volume", f"{workspace}:/workspace", "--volume", f"{run}:/run/picoclaw",
        "--health-cmd", "picoclaw sandbox --ping /run/picoclaw/tools.sock", "--health-interval", "2s",
        gateway_image, "sandbox", "--socket", "/run/picoclaw/tools.sock", "--workspace", "/workspace",
        "--kill-all-others",
    )  # fmt: skip
    try:
        yield name, workspace, run / "tools.sock"
    finally:
        docker("rm", "--force", name, check=False)


def sandbox_rss_kb(container: str) -> int:
    code = (
        "import os\nfor p in filter(str.isdigit, os.listdir('/proc')):\n"
        "    if p != '1' and b'--socket' in open(f'/proc/{p}/cmdline', 'rb').read():\n"
        "        print([l.split()[1] for l in open(f'/proc/{p}/status') if l.startswith('VmRSS')][0])\n"
    )
    return int(docker("exec", container, "python3", "-c", code).stdout.split()[0])


def test_the_sandbox_container_answers_and_idles_within_budget(sandbox_container: tuple[str, Path, Path]) -> None:
    name, workspace, socket_path = sandbox_container
    wait_health(name, wait_s=60)
    time.sleep(1)
    idle = sandbox_rss_kb(name)
    print(f"sandbox container idle VmRSS: {idle / 1024:.1f} MB (budget 16 MB)", file=sys.stderr)
    assert idle <= RSS_BUDGET_KB, f"idle sandbox {idle} kB over {RSS_BUDGET_KB} kB"

    sys.path.insert(0, str(GATEWAY_SRC / "src"))
    from picoclaw_gateway.config import ExecConfig
    from picoclaw_gateway.sandbox.client import SandboxClient

    async def calls() -> list[str]:
        client = SandboxClient(str(socket_path))
        config = ExecConfig(timeout_s=10)
        return [
            await client.call("write_file", {"path": "a.txt", "content": "hi"}, config, 30),
            await client.call("exec", {"command": "id -u; setsid sleep 300 & echo bg"}, config, 30),
            await client.call("exec", {"command": "cat /proc/[0-9]*/cmdline | tr '\\0' ' ' | grep -c 'sleep 30[0]'"}, config, 30),
        ]

    wrote, ran, counted = asyncio.run(calls())
    assert wrote == "wrote 2 characters to a.txt"
    assert ran.startswith(f"{UID}\nbg")
    # The earlier call's setsid sleep is gone: swept after that call.
    assert counted.split()[0] == "0", counted
    assert (workspace / "a.txt").stat().st_uid == UID
    after = sandbox_rss_kb(name)
    print(f"sandbox container VmRSS after the calls: {after / 1024:.1f} MB", file=sys.stderr)
