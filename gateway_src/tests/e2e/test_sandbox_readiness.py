"""The gateway's /ready covers the tools sandbox container: not ready while its socket does not answer
a ping, ready once it does, not ready again when the sandbox dies; `picoclaw doctor`'s sandbox line."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import StartGateway
from tests.e2e.gateway_process import gateway_env
from tests.sandbox.conftest import start_sandbox, stop


async def ready_reason(port: int) -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), str(json.loads(body).get("reason", ""))


async def wait_ready(port: int, status: int, reason_has: str = "", wait_s: float = 15.0) -> str:
    reason = ""
    for _ in range(int(wait_s / 0.1)):
        got, reason = await ready_reason(port)
        if got == status and reason_has in reason:
            return reason
        await asyncio.sleep(0.1)
    raise AssertionError(f"/ready never answered {status}; last reason: {reason}")


async def test_ready_follows_the_sandbox_container(
    start_gateway: StartGateway, workspace: Path, tmp_path: Path
) -> None:
    socket = tmp_path / "run" / "tools.sock"
    socket.parent.mkdir()
    gateway = await start_gateway(extra={"tools": {"sandbox": {"socket": str(socket)}}})
    # Polling, channels connected, but no sandbox yet: not ready, and the reason says why.
    reason = await wait_ready(gateway.health_port, 503, "not reachable")
    assert reason.startswith("tools sandbox: the tools sandbox is not reachable"), reason
    sandbox = await start_sandbox(socket, workspace)
    try:
        await wait_ready(gateway.health_port, 200)
        doctor = doctor_sandbox_line(gateway.config, socket)
        assert doctor == f"ok   tools.sandbox: the tools sandbox answers on {socket}", doctor
    finally:
        await stop(sandbox)
    reason = await wait_ready(gateway.health_port, 503, "tools sandbox")
    assert "not reachable" in reason, reason
    assert "tools sandbox not answering" in gateway.output()
    line = doctor_sandbox_line(gateway.config, socket)
    assert line.startswith("FAIL tools.sandbox: cannot reach"), line
    assert "— fix: start the sandbox container" in line


def doctor_sandbox_line(config: Path, socket: Path) -> str:
    """`picoclaw doctor`'s line about the sandbox (the LLM and Telegram checks run against the fakes)."""
    env = gateway_env() | {"PICOCLAW_SANDBOX_SOCKET": str(socket)}
    run = subprocess.run(
        [sys.executable, "-m", "picoclaw_gateway", "doctor", "--config", str(config), "--timeout", "5"],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    lines = [line for line in run.stdout.splitlines() if "tools.sandbox" in line]
    assert len(lines) == 1, run.stdout + run.stderr
    return lines[0]
