"""Health endpoints on 127.0.0.1 (plain asyncio) and the `picoclaw healthcheck` client.

GET /health -> 200 while the event loop runs; GET /ready -> 200 once every channel is
connected and polling, else 503 with the reason; anything else -> 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_HEALTH_PORT = 18790  # the one place it is written: cli, config and the image's healthcheck read it

# Returns (ready, reason).
ReadinessProbe = Callable[[], tuple[bool, str]]

_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


class HealthServer:
    def __init__(self, port: int, readiness: ReadinessProbe, host: str = "127.0.0.1") -> None:
        self.port = port
        self.host = host
        self._readiness = readiness
        self._started = time.monotonic()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        log.info("health endpoints on http://%s:%d/health and /ready", self.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=2)

    def route(self, method: str, path: str) -> tuple[int, dict]:
        path = path.split("?", 1)[0]
        if path not in ("/health", "/ready"):
            return 404, {"status": "not_found"}
        if method not in ("GET", "HEAD"):
            return 405, {"status": "method_not_allowed"}
        if path == "/health":
            return 200, {"status": "ok", "uptime_s": round(time.monotonic() - self._started, 1)}
        ready, reason = self._readiness()
        if ready:
            return 200, {"status": "ready"}
        return 503, {"status": "not_ready", "reason": reason}

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), timeout=5)
            # Drain headers (bounded) so the client sees a clean response.
            for _ in range(100):
                line = await asyncio.wait_for(reader.readline(), timeout=5)
                if line in (b"\r\n", b"\n", b""):
                    break
            parts = request_line.decode("latin-1").split()
            if len(parts) < 2:
                status, body = 400, {"status": "bad_request"}
            else:
                status, body = self.route(parts[0], parts[1])
            payload = json.dumps(body).encode()
            head = (
                f"HTTP/1.1 {status} {_REASONS.get(status, 'Bad Request')}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            writer.write(head if parts and parts[0] == "HEAD" else head + payload)
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            log.exception("health request failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def run_healthcheck(port: int, timeout_s: float = 3.0, path: str = "/ready") -> int:
    """Exit code 0 only when GET `path` answers 200 within timeout_s (stdlib socket, no traceback).

    /ready, the default and Docker's healthcheck: every channel is connected, so a deploy whose bot token
    is refused never turns healthy (and the role rolls it back). /health (--live): the event loop runs.
    """
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while len(data) < 2048:  # the answer is small; the server closes after it
                chunk = sock.recv(2048 - len(data))
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        print(f"unhealthy: {exc}")
        return 1
    status_line = data.split(b"\r\n", 1)[0].split()
    if len(status_line) >= 2 and status_line[1] == b"200":
        return 0
    print(f"unhealthy: {_reason(data)}")
    return 1


def _reason(response: bytes) -> str:
    """The "reason" of a 503 from /ready (shown in `docker inspect`), else the raw start of the answer."""
    body = response.partition(b"\r\n\r\n")[2]
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return str(json.loads(body)["reason"])
    return repr(response[:64])
