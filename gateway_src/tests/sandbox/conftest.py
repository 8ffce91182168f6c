"""A real `picoclaw sandbox` subprocess on a Unix socket, and helpers to look for live processes."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from picoclaw_gateway.config import ExecConfig
from picoclaw_gateway.sandbox.client import SandboxClient

SRC = str(Path(__file__).resolve().parents[2] / "src")
Call = Callable[..., Awaitable[str]]


def sandbox_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": SRC, "LANG": "C.UTF-8"}


async def start_sandbox(
    socket: Path, workspace: Path, *prefix: str, extra: tuple[str, ...] = ()
) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        *prefix,
        sys.executable,
        "-m",
        "picoclaw_gateway",
        "sandbox",
        "--socket",
        str(socket),
        "--workspace",
        str(workspace),
        *extra,
        env=sandbox_env(),
        stderr=asyncio.subprocess.PIPE,
    )
    for _ in range(500):
        if socket.exists():  # noqa: ASYNC240 - a local stat
            return proc
        if proc.returncode is not None:
            break
        await asyncio.sleep(0.02)
    err = await proc.stderr.read() if proc.stderr else b""
    raise AssertionError(f"sandbox did not start ({proc.returncode}): {err.decode()}")


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture
async def sandbox(tmp_path: Path, workspace: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, Call]]:
    """A local-mode sandbox and `call(tool, args, timeout_s=...)` through the real client."""
    socket = tmp_path / "tools.sock"
    proc = await start_sandbox(socket, workspace)
    client = SandboxClient(str(socket))

    async def call(tool: str, args: dict[str, object], timeout_s: float = 20.0, wait_s: float = 40.0) -> str:
        return await client.call(tool, args, ExecConfig(timeout_s=timeout_s), wait_s)

    yield proc, call
    await stop(proc)


def processes_with(marker: str) -> list[int]:
    """Live (non-zombie) processes on this machine whose command line contains `marker`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            # Other users' processes on a shared machine may have non-UTF-8 command lines and names.
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{name}/stat").read_bytes().rsplit(b")", 1)[1].split()[0].decode()
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(name))
    return found
