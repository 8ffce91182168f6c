"""How the gateway reaches its tools: a sandbox container's socket, or a local subprocess sandbox.

The config's tools.sandbox.socket names the socket of the sandbox container; PICOCLAW_SANDBOX_SOCKET
(or `picoclaw gateway --sandbox-socket`, which sets it) overrides it. Without either (a laptop)
the gateway starts `picoclaw sandbox` as its own child, with a minimal environment (never the
gateway's: it holds the keys) on a socket in a private 0700 folder, restarts it if it dies, and
warns once that tools are not isolated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from picoclaw_gateway.agent.tools.base import ToolRegistry
from picoclaw_gateway.config import GatewayConfig
from picoclaw_gateway.sandbox.client import SandboxClient, sandboxed_registry

if TYPE_CHECKING:
    from picoclaw_gateway.web.tools import WebTools

log = logging.getLogger("picoclaw")

SOCKET_ENV = "PICOCLAW_SANDBOX_SOCKET"
START_TIMEOUT_S = 15.0
PING_INTERVAL_S = 5.0  # the container healthcheck runs every 30 s: /ready is never far behind
_PASS_ENV = ("PATH", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "MALLOC_ARENA_MAX", "PICOCLAW_LOG_LEVEL")


class LocalSandbox:
    """`python -m picoclaw_gateway sandbox` as a child of the gateway."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._dir = Path(tempfile.mkdtemp(prefix="picoclaw-sandbox-"))  # 0700: only our uid
        self.socket_path = str(self._dir / "tools.sock")
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def ensure_running(self) -> None:
        async with self._lock:
            if self._process is not None and _alive(self._process):
                return
            if self._process is not None:
                code = await self._process.wait()
                log.warning("tools sandbox exited (%s); starting it again", code)
            await self._start()

    async def _start(self) -> None:
        _unlink(self.socket_path)  # a dead sandbox's socket must not pass for the new one's
        env = {k: v for k, v in os.environ.items() if k in _PASS_ENV}
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "picoclaw_gateway",
            "sandbox",
            "--socket",
            self.socket_path,
            "--workspace",
            str(self.workspace),
            "--parent-pid",
            str(os.getpid()),
            stdin=asyncio.subprocess.DEVNULL,
            env=env,
        )
        log.info("local tools sandbox started (pid %s)", self._process.pid)
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        while not _exists(self.socket_path):
            if self._process.returncode is not None or asyncio.get_running_loop().time() > deadline:
                code = self._process.returncode
                raise ConnectionError(f"the local tools sandbox did not start (exit {code})")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            try:
                await asyncio.wait_for(self._process.wait(), 5)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


def _exists(path: str) -> bool:
    return os.path.exists(path)  # a stat of a local socket path: never blocks for long


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _alive(process: asyncio.subprocess.Process) -> bool:
    """asyncio learns of a child's death a moment late: a zombie is dead already."""
    if process.returncode is not None:
        return False
    try:
        with open(f"/proc/{process.pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


@dataclass(slots=True)
class Tools:
    registry: ToolRegistry
    client: SandboxClient
    local: LocalSandbox | None = field(default=None)
    web: WebTools | None = field(default=None)
    # Why the sandbox is not answering ("" when it is): the gateway's /ready reports it.
    problem: str = field(default="not asked yet")

    async def watch(self, interval_s: float = PING_INTERVAL_S) -> None:
        """Ping the sandbox every interval_s (the local one is restarted by the ping if it died)."""
        while True:
            problem = await self.client.ping() or ""
            if problem and problem != self.problem:
                log.warning("tools sandbox not answering: %s", problem)
            elif not problem and self.problem not in ("", "not asked yet"):
                log.info("tools sandbox answers again")
            self.problem = problem
            await asyncio.sleep(interval_s)

    async def close(self) -> None:
        if self.web is not None:
            await self.web.close()
        if self.local is not None:
            with contextlib.suppress(Exception):
                await self.local.close()


def _with_web_tools(tools: Tools, config: GatewayConfig) -> Tools:
    """Adds web_search/web_fetch: gateway-side tools (they need the network the sandbox lacks)."""
    from picoclaw_gateway.web.tools import enabled, open_web_tools

    if enabled(config.web):
        tools.web = open_web_tools(config.web)
        tools.registry = ToolRegistry(tools.registry.tools() + tools.web.tools)
    return tools


async def open_tools(config: GatewayConfig) -> Tools:
    """The agent's tool registry, every call going through a sandbox."""
    from picoclaw_gateway.agent.tools import build_registry

    specs = build_registry(config.workspace, config.exec)  # the specs only; nothing runs in-process
    socket_path = os.environ.get(SOCKET_ENV, "") or config.sandbox_socket
    if socket_path:
        log.info("tools run in the sandbox at %s", socket_path)
        client = SandboxClient(socket_path)
        return _with_web_tools(
            Tools(sandboxed_registry(specs, client, config.exec, config.files), client), config
        )
    # Not started here: the first ping of Tools.watch (or the first tool call) starts it, while the
    # channels connect, so start-up does not wait for a second Python to import.
    local = LocalSandbox(config.workspace)
    log.warning(
        "tools are not isolated: they run in a local subprocess sandbox as this user, which can read "
        "what this user can read — fix: run the sandbox container and set tools.sandbox.socket (or %s)",
        SOCKET_ENV,
    )
    client = SandboxClient(local.socket_path, before_call=local.ensure_running)
    tools = Tools(sandboxed_registry(specs, client, config.exec, config.files), client, local)
    return _with_web_tools(tools, config)
