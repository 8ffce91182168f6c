"""The gateway runs its tools in a local sandbox subprocess (no socket configured), warns once that they
are not isolated, gives that sandbox none of its secrets, and is itself not dumpable."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BOT_TOKEN, OPENROUTER_KEY
from tests.e2e.conftest import AskFn, MakeConfig, StartGateway
from tests.e2e.gateway_process import GatewayProcess, free_port, gateway_env, http_status
from tests.fakes import llm_script
from tests.fakes.openai_api import FakeOpenAI

WARNING = "tools are not isolated"


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return found


def sandbox_child(gateway_pid: int) -> int:
    for pid in children(gateway_pid):
        if b"sandbox" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    raise AssertionError(f"no sandbox child under the gateway (pid {gateway_pid})")


async def test_tools_run_in_a_local_sandbox_without_the_secrets(
    gateway: GatewayProcess, ask: AskFn, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    assert gateway.output().count(WARNING) == 1
    sandbox = sandbox_child(gateway.pid)
    environ = Path(f"/proc/{sandbox}/environ").read_bytes()  # noqa: ASYNC240 - test check
    assert OPENROUTER_KEY.encode() not in environ and BOT_TOKEN.encode() not in environ
    openai_fake.script.add(llm_script.tool_call("exec", {"command": "echo $PPID > ppid.txt"}))
    openai_fake.script.add(llm_script.text("done"))
    assert await ask("where do tools run?") == "done"
    assert int((workspace / "ppid.txt").read_text()) == sandbox, "exec ran under the sandbox, not the gateway"
    # A dead sandbox is started again at the next call; the gateway stays up. Dead, not dying: until
    # the kernel has run the kill (on a loaded machine that takes a moment) its socket still accepts.
    os.kill(sandbox, 9)
    for _ in range(100):  # bounded: 10 s
        if _state(sandbox) in ("", "Z", "X"):
            break
        await asyncio.sleep(0.1)
    openai_fake.script.add(llm_script.tool_call("list_dir", {"path": "."}))
    openai_fake.script.add(llm_script.text("listed"))
    assert await ask("list") == "listed"
    result = [m["content"] for m in openai_fake.script.requests[-1].body["messages"] if m["role"] == "tool"][
        -1
    ]
    assert "ppid.txt" in result
    assert sandbox_child(gateway.pid) != sandbox


async def test_the_local_sandbox_dies_with_a_killed_gateway(start_gateway: StartGateway) -> None:
    gateway = await start_gateway()
    sandbox = sandbox_child(gateway.pid)
    os.kill(gateway.pid, signal.SIGKILL)  # no chance to close its tools
    for _ in range(100):  # bounded: 10 s
        if b"sandbox" not in _cmdline(sandbox):  # gone (or the pid reused by something else)
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the local sandbox (pid {sandbox}) outlived its gateway's kill -9")


def _state(pid: int) -> str:
    """The process state letter from /proc/<pid>/stat; "" when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0].decode()
    except OSError:
        return ""


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


DROP_CAPS = ("setpriv", "--bounding-set=-all", "--inh-caps=-all", "--")


def read_without_capabilities(target: str) -> subprocess.CompletedProcess[str]:
    """Read `target` as a process of our uid with no capabilities (what an exec'd tool is)."""
    code = f"open({target!r}, 'rb').read(); print('read')"
    return subprocess.run(
        [*DROP_CAPS, sys.executable, "-c", code], capture_output=True, text=True, check=False
    )


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv(1) to drop capabilities")
async def test_a_process_of_the_gateways_uid_cannot_read_its_environment_or_memory(
    make_config: MakeConfig, tmp_path: Path, workspace: Path
) -> None:
    # Everything runs without capabilities, as the container does: the reader may only rely on
    # being the same uid, so a refusal is the non-dumpable flag's (the control proves the reader).
    plain = subprocess.Popen([*DROP_CAPS, "sleep", "60"])  # noqa: ASYNC220 - test setup
    port = free_port()
    args = [
        "gateway",
        "--config",
        str(make_config()),
        "--workspace",
        str(workspace),
        "--health-port",
        str(port),
    ]
    with (tmp_path / "nodump.err").open("wb") as err:
        gateway = await asyncio.create_subprocess_exec(
            *DROP_CAPS, sys.executable, "-m", "picoclaw_gateway", *args, stderr=err, env=gateway_env()
        )
    try:
        await asyncio.sleep(0.3)
        control = read_without_capabilities(f"/proc/{plain.pid}/environ")
        assert control.stdout.strip() == "read", control.stderr
        for _ in range(200):
            if await http_status(port, "/health") == 200:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError((tmp_path / "nodump.err").read_text())
        for leak in ("environ", "mem"):
            result = read_without_capabilities(f"/proc/{gateway.pid}/{leak}")
            assert "PermissionError" in result.stderr, (leak, result.stdout, result.stderr)
    finally:
        plain.kill()
        plain.wait()
        gateway.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(gateway.wait(), 20) == 0
