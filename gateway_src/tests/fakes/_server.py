"""Run an aiohttp app on 127.0.0.1 (ephemeral port by default) in-process or standalone."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from dataclasses import dataclass
from typing import Self

from aiohttp import web

# Which fake an app is, for the standalone "listening NAME URL" line.
# aiohttp < 3.9 (Debian 12's python3-aiohttp, on the bookworm test host) has no AppKey: a str key works.
FAKE_NAME = web.AppKey("fake_name", str) if hasattr(web, "AppKey") else "fake_name"


@dataclass(frozen=True)
class RawAnswer:
    """An HTTP answer served instead of the Bot API's (what a proxy in front may send)."""

    status: int
    body: bytes = b""
    content_type: str | None = None

    def response(self) -> web.Response:
        response = web.Response(status=self.status, body=self.body)
        if self.content_type is None:
            response.headers.popall("Content-Type", None)
        else:
            response.content_type = self.content_type
        return response


HTML_502 = RawAnswer(502, b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>", "text/html")
EMPTY_504 = RawAnswer(504)


class RunningServer:
    """An aiohttp app listening on a real socket; `port` is known once started."""

    def __init__(self, app: web.Application, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self._requested_port = port
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> RunningServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = sock.getsockname()[1]
        # handler_cancellation: a client that hangs up (e.g. a killed gateway's long poll)
        # must not keep a handler alive; short shutdown so tests tear down fast.
        # (aiohttp >= 3.9; Debian 12's 3.8 on the bookworm test host cancels handlers anyway)
        new_aiohttp = (
            {"handler_cancellation": True, "shutdown_timeout": 0.5} if hasattr(web, "AppKey") else {}
        )
        self._runner = web.AppRunner(self.app, **new_aiohttp)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class FakeServer:
    """What every fake shares: its aiohttp `app`, served by `server` once started.

    Subclasses build `self.app` (and `self.server = RunningServer(self.app)`) in __init__ and
    override close() when they must release connections first.
    """

    app: web.Application
    server: RunningServer

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> Self:
        self.server = RunningServer(self.app, host, port)
        await self.server.start()
        return self

    async def close(self) -> None:
        await self.server.close()

    def reset(self) -> None:
        """Forget recorded traffic and scripted behaviour, keep serving (between tests sharing a fake)."""

    @property
    def base_url(self) -> str:
        return self.server.base_url


async def serve_forever(servers: list[RunningServer]) -> None:
    """Start the servers, print where they listen, run until SIGINT/SIGTERM."""
    for server in servers:
        await server.start()
        print(f"listening {server.app[FAKE_NAME]} {server.base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        await server.close()
