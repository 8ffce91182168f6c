"""Health/readiness endpoints over real TCP and the healthcheck command."""

from __future__ import annotations

import asyncio
import json
import socket

from picoclaw_gateway.health import HealthServer, run_healthcheck


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def get(port: int, path: str, method: str = "GET") -> tuple[int, dict]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body) if body else {}


async def test_health_ready_and_404() -> None:
    state = {"ready": False}
    port = free_port()
    server = HealthServer(port, lambda: (state["ready"], "telegram: unreachable"))
    await server.start()
    try:
        status, body = await get(port, "/health")
        assert status == 200 and body["status"] == "ok" and body["uptime_s"] >= 0
        assert await get(port, "/ready") == (503, {"status": "not_ready", "reason": "telegram: unreachable"})
        state["ready"] = True
        assert await get(port, "/ready") == (200, {"status": "ready"})
        assert (await get(port, "/metrics"))[0] == 404
        assert (await get(port, "/health", "POST"))[0] == 405
        # The CLI probe (blocking stdlib socket) runs in a thread so the server can answer.
        assert await asyncio.to_thread(run_healthcheck, port) == 0
    finally:
        await server.close()


async def test_healthcheck_needs_every_channel_ready_unless_live(capsys) -> None:  # type: ignore[no-untyped-def]
    state = {"ready": False}
    reason = "discord: discord rejected the bot token (401)"
    server = HealthServer(free_port(), lambda: (state["ready"], reason))
    await server.start()
    try:
        assert await asyncio.to_thread(run_healthcheck, server.port) == 1
        assert f"unhealthy: {reason}" in capsys.readouterr().out
        assert await asyncio.to_thread(run_healthcheck, server.port, 3.0, "/health") == 0
        state["ready"] = True
        assert await asyncio.to_thread(run_healthcheck, server.port) == 0
    finally:
        await server.close()


async def test_healthcheck_fails_cleanly_when_nothing_listens(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run_healthcheck(free_port(), timeout_s=1) == 1
    out = capsys.readouterr()
    assert "unhealthy" in out.out and "Traceback" not in out.err


async def test_healthcheck_fails_on_a_server_that_never_answers() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        assert await asyncio.to_thread(run_healthcheck, port, 0.5) == 1
    finally:
        server.close()
