"""No process an exec call started survives it: setsid, double fork, nohup, a daemonizing Python.

Local mode (the sandbox as a child subreaper) runs here directly; the container's --kill-all-others
mode runs inside a fresh pid namespace (unshare, root only), so it cannot kill anything else here.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sys
from pathlib import Path

import pytest

from picoclaw_gateway.config import ExecConfig
from picoclaw_gateway.sandbox.client import SandboxClient
from tests.sandbox.conftest import Call, processes_with, start_sandbox, stop

ESCAPES = 5


def escape_command(marker: str) -> str:
    """Start ESCAPES long-lived processes that leave the call's process group/session, then count them."""
    # The marker identifies this call's processes: other `python -c` on the machine are not counted.
    daemon_head = f"import os, time  # daemon-{marker}"
    daemon = (
        f"{daemon_head}\n"
        "if os.fork(): os._exit(0)\n"
        "os.setsid()\n"
        "if os.fork(): os._exit(0)\n"
        "time.sleep(1000)\n"
    )
    return f"""
setsid sleep {marker} &
( sleep {marker} & ) &
sh -c 'sleep {marker} &' &
nohup sleep {marker} >/dev/null 2>&1 &
{sys.executable} -c '{daemon}'
sleep 1.5
n=0
for p in /proc/[0-9]*; do
  c=$(tr '\\0' ' ' < $p/cmdline 2>/dev/null)
  case "$c" in "sleep {marker}"*|"{sys.executable} -c {daemon_head}"*) n=$((n+1));; esac
done
echo "escaped: $n"
"""


def new_marker() -> str:
    return f"{random.randint(10000, 99999)}.{random.randint(100, 999)}"


async def assert_none_left(marker: str) -> None:
    for _ in range(100):  # the sweep runs before the answer; allow /proc a moment to catch up
        if not processes_with(marker):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"processes survived the call: {processes_with(marker)}")


async def test_no_process_survives_a_finished_call(sandbox: tuple[object, Call]) -> None:
    _, call = sandbox
    marker = new_marker()
    result = await call("exec", {"command": escape_command(marker)})
    assert f"escaped: {ESCAPES}" in result, result
    await assert_none_left(marker)


async def test_no_process_survives_a_timed_out_call(sandbox: tuple[object, Call]) -> None:
    _, call = sandbox
    marker = new_marker()
    result = await call("exec", {"command": escape_command(marker) + "\nsleep 1000"}, timeout_s=4)
    assert "timed out after 4 s" in result
    await assert_none_left(marker)


async def test_gateway_hangup_cancels_the_call_and_sweeps(sandbox: tuple[object, Call]) -> None:
    _, call = sandbox
    marker = new_marker()
    # The client gives up after 3 s although exec may run 60 s: its hang-up must end the call.
    result = await call("exec", {"command": escape_command(marker) + "\nsleep 1000"}, timeout_s=60, wait_s=3)
    assert "did not answer within 3 s" in result
    await assert_none_left(marker)
    assert "[exit code 0]" in await call("exec", {"command": "true"})


needs_root_unshare = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare(1) for a pid namespace",
)
UNSHARE = ("unshare", "--pid", "--fork", "--mount-proc", "--kill-child")


@needs_root_unshare
async def test_kill_all_others_in_a_pid_namespace(tmp_path: Path, workspace: Path) -> None:
    socket = tmp_path / "ns.sock"
    proc = await start_sandbox(socket, workspace, *UNSHARE, extra=("--kill-all-others",))
    client = SandboxClient(str(socket))
    try:
        for timeout in (60.0, 4.0):
            marker = new_marker()
            command = escape_command(marker) + ("\nsleep 1000" if timeout < 10 else "")
            result = await client.call("exec", {"command": command}, ExecConfig(timeout_s=timeout), 40)
            assert "timed out" in result if timeout < 10 else f"escaped: {ESCAPES}" in result, result
            await assert_none_left(marker)
        # Inside the namespace only pid 1 (the sandbox) and the counting shell itself are left.
        count = "n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo $n"
        listing = await client.call("exec", {"command": count}, ExecConfig(), 20)
        assert listing.split()[0] == "2", listing
    finally:
        await stop(proc)


@needs_root_unshare
async def test_kill_all_others_refuses_to_start_beside_other_processes(
    tmp_path: Path, workspace: Path
) -> None:
    code = (
        f"sleep 60 & exec {sys.executable} -m picoclaw_gateway sandbox --socket {tmp_path}/x.sock "
        f"--workspace {workspace} --kill-all-others"
    )
    from tests.sandbox.conftest import sandbox_env

    proc = await asyncio.create_subprocess_exec(
        *UNSHARE, "sh", "-c", code, env=sandbox_env(), stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert "would kill 1 other processes" in err.decode() and "fix:" in err.decode()
