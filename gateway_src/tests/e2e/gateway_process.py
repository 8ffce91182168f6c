"""Run the real gateway, unmodified, as a subprocess pointed at the fakes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

GATEWAY_SRC = Path(__file__).resolve().parents[2]
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def http_status(port: int, path: str, wait_s: float = 2.0) -> int | None:
    """Status code of a plain HTTP/1.0 GET on 127.0.0.1 (None if nothing answers).

    Raw asyncio streams: polled every 50 ms, so it must cost next to nothing (an httpx
    client per poll burns ~0.1 s of CPU building its SSL context).
    """
    try:
        async with asyncio.timeout(wait_s):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
                await writer.drain()
                status_line = await reader.readline()
            finally:
                writer.close()
    except (OSError, TimeoutError):
        return None
    parts = status_line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


def gateway_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def write_config(
    path: Path,
    *,
    provider: str,
    api_key: str,
    model: str,
    llm_base: str,
    bot_token: str,
    telegram_base: str,
    allowed_users: list[int],
    extra: dict[str, Any] | None = None,
) -> Path:
    config: dict[str, Any] = {
        "llm": {"provider": provider, "api_key": api_key, "model": model, "api_base": llm_base},
        "channel": {
            "type": "telegram",
            "token": bot_token,
            "allowed_users": allowed_users,
            "api_base": telegram_base,
        },
    }
    for section, values in (extra or {}).items():
        config.setdefault(section, {}).update(values)
    path.write_text(json.dumps(config, indent=2))
    return path


class GatewayProcess:
    """One `python -m picoclaw_gateway gateway` run; stdout/stderr go to files for later checks."""

    def __init__(
        self,
        config: Path,
        workspace: Path,
        log_dir: Path,
        health_port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.extra_env = extra_env or {}
        self.workspace = workspace
        self.health_port = health_port or free_port()
        self.stdout_path = log_dir / f"gateway-{self.health_port}.out"
        self.stderr_path = log_dir / f"gateway-{self.health_port}.err"
        self.process: asyncio.subprocess.Process | None = None
        self.started_at = 0.0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> GatewayProcess:
        args = ["gateway", "--config", str(self.config), "--workspace", str(self.workspace)]
        args += ["--health-port", str(self.health_port)]
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.started_at = time.monotonic()
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "picoclaw_gateway",
                *args,
                stdout=out,
                stderr=err,
                env=gateway_env() | self.extra_env,
            )
        return self

    def output(self) -> str:
        """Everything the gateway printed so far (stdout then stderr)."""
        parts = [p.read_text(errors="replace") for p in (self.stdout_path, self.stderr_path) if p.exists()]
        return "\n".join(parts)

    async def status(self, path: str) -> int | None:
        """HTTP status of GET <path> on the health port, None when nothing answers."""
        return await http_status(self.health_port, path)

    async def wait_status(self, path: str, expected: int, wait_s: float = 20.0) -> float:
        """Poll until GET <path> answers `expected`; returns seconds since process start."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if await self.status(path) == expected:
                return time.monotonic() - self.started_at
            if self.process is not None and self.process.returncode is not None:
                raise AssertionError(f"gateway exited {self.process.returncode}:\n{self.output()[-3000:]}")
            await asyncio.sleep(0.05)
        raise AssertionError(f"GET {path} never answered {expected} in {wait_s}s:\n{self.output()[-3000:]}")

    async def stop(self, sig: int = signal.SIGTERM, wait_s: float = 15.0) -> int:
        """Send `sig` and wait for the exit code (SIGKILL after wait_s, then AssertionError)."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
            try:
                await asyncio.wait_for(self.process.wait(), wait_s)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                raise AssertionError(f"gateway ignored signal {sig} for {wait_s}s") from None
        assert self.process.returncode is not None
        return self.process.returncode
