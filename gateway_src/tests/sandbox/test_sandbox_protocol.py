"""The protocol against the real sandbox subprocess, and a hostile 'sandbox' the client must survive."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from picoclaw_gateway.config import ExecConfig, FilesConfig
from picoclaw_gateway.config_validator import BOUNDS, DEFAULTS
from picoclaw_gateway.sandbox.client import SandboxClient
from picoclaw_gateway.sandbox.protocol import MAX_FRAME_BYTES, encode, read_frame
from tests.sandbox.conftest import Call, sandbox_env


async def raw_exchange(socket: Path, payload: bytes) -> dict[str, object]:
    reader, writer = await asyncio.open_unix_connection(str(socket))
    writer.write(payload)
    await writer.drain()
    try:
        return await asyncio.wait_for(read_frame(reader), 15)
    finally:
        writer.close()


async def test_every_tool_round_trips(sandbox: tuple[object, Call], workspace: Path) -> None:
    _, call = sandbox
    assert (
        await call("write_file", {"path": "a/b.txt", "content": "hello wörld"})
        == "wrote 11 characters to a/b.txt"
    )
    assert await call("read_file", {"path": "a/b.txt"}) == "hello wörld"
    assert (
        await call("edit_file", {"path": "a/b.txt", "old_text": "hello", "new_text": "bye"})
        == "edited a/b.txt"
    )
    assert await call("list_dir", {"path": "."}) == "a/"
    result = await call("exec", {"command": "cat a/b.txt; echo; id -u"})
    assert result.startswith("bye wörld\n") and result.endswith("[exit code 0]")
    assert (workspace / "a/b.txt").read_text() == "bye wörld"
    assert (await call("read_file", {})).startswith("error: argument 'path' is required")
    assert await call("nope", {}) == "error: sandbox: unknown tool 'nope'"


async def test_sandbox_refuses_other_versions_and_bad_frames(
    sandbox: tuple[object, Call], tmp_path: Path
) -> None:
    socket = tmp_path / "tools.sock"
    wrong = await raw_exchange(socket, encode({"v": 2, "tool": "list_dir", "args": {}}))
    assert (
        wrong["ok"] is False and "protocol version 2" in str(wrong["error"]) and "fix:" in str(wrong["error"])
    )
    huge = await raw_exchange(socket, (MAX_FRAME_BYTES + 1).to_bytes(4, "big"))
    assert huge["ok"] is False and "over the" in str(huge["error"])
    garbage = await raw_exchange(socket, (5).to_bytes(4, "big") + b"{nope")
    assert garbage["ok"] is False and "not UTF-8 JSON" in str(garbage["error"])
    not_object = await raw_exchange(socket, encode({"v": 1, "tool": "exec", "args": ["ls"]}))
    assert not_object["ok"] is False and "'args' an object" in str(not_object["error"])
    _, call = sandbox
    assert (await call("list_dir", {})) == "(empty folder)", "the sandbox still serves after bad requests"


async def test_a_request_over_the_frame_cap_is_a_tool_error(sandbox: tuple[object, Call]) -> None:
    _, call = sandbox
    result = await call("write_file", {"path": "big.txt", "content": "x" * (MAX_FRAME_BYTES + 10)})
    assert result.startswith("error:") and "frame cap" in result


Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def hostile(tmp_path: Path) -> AsyncIterator[Callable[[Answer], Awaitable[SandboxClient]]]:
    """A fake sandbox answering whatever a test wants: the gateway side must turn it into tool errors."""
    servers: list[asyncio.Server] = []

    async def serve(answer: Answer) -> SandboxClient:
        path = tmp_path / f"hostile-{len(servers)}.sock"
        servers.append(await asyncio.start_unix_server(answer, path=str(path)))
        return SandboxClient(str(path))

    yield serve
    for server in servers:
        server.close()


def replying(payload: bytes) -> Answer:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_frame(reader)
        writer.write(payload)
        await writer.drain()
        writer.close()

    return answer


def frame(obj: object) -> bytes:
    body = json.dumps(obj).encode()
    return len(body).to_bytes(4, "big") + body


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (frame({"v": 2, "ok": True, "result": "x"}), "protocol version 2"),
        (frame({"v": 1, "ok": True, "result": 42}), "'result' is not a string"),
        (frame({"v": 1, "ok": "yes"}), "'ok' is not a boolean"),
        (frame(["v", 1]), "not an object"),
        ((10).to_bytes(4, "big") + b"\xff" * 10, "not UTF-8 JSON"),
        ((2**32 - 1).to_bytes(4, "big"), "over the"),
        ((100).to_bytes(4, "big") + b"{", "closed inside"),
        (b"", "closed before"),
    ],
)
async def test_a_malformed_answer_becomes_a_tool_error(
    hostile: Callable[[Answer], Awaitable[SandboxClient]], payload: bytes, expected: str
) -> None:
    client = await hostile(replying(payload))
    result = await client.call("read_file", {"path": "x"}, ExecConfig(), 5)
    assert result.startswith("error: the tools sandbox sent an invalid answer") and expected in result, result


async def test_an_answer_that_never_comes_times_out(
    hostile: Callable[[Answer], Awaitable[SandboxClient]],
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    client = await hostile(silent)
    result = await client.call("read_file", {"path": "x"}, ExecConfig(), 0.5)
    assert result == "error: the tools sandbox did not answer within 0.5 s; the call was abandoned"


async def test_a_missing_sandbox_is_a_tool_error(tmp_path: Path) -> None:
    result = await SandboxClient(str(tmp_path / "none.sock")).call("list_dir", {}, ExecConfig(), 5)
    assert result.startswith("error: the tools sandbox is not reachable") and "did not run" in result


async def test_sandbox_error_text_is_capped(hostile: Callable[[Answer], Awaitable[SandboxClient]]) -> None:
    client = await hostile(replying(frame({"v": 1, "ok": False, "error": "e" * 100_000})))
    result = await client.call("list_dir", {}, ExecConfig(), 5)
    assert result.startswith("error: sandbox: eee") and len(result) < 2100


async def test_file_caps_travel_with_each_call_and_are_clamped(
    sandbox: tuple[object, Call], tmp_path: Path, workspace: Path
) -> None:
    """tools.files.* of the gateway's config reach the sandbox; numbers outside the validator's
    bounds are clamped there (the sandbox never trusts a limit it cannot bound)."""
    (workspace / "long.txt").write_text("z" * 5000)
    client = SandboxClient(str(tmp_path / "tools.sock"))
    small = FilesConfig(max_read_chars=1000, max_write_bytes=2048, max_edit_bytes=1024)
    read = await client.call("read_file", {"path": "long.txt"}, ExecConfig(), 20, small)
    assert read == "z" * 1000 + "\n[truncated at 1000 characters]"
    write = await client.call("write_file", {"path": "w.txt", "content": "y" * 2049}, ExecConfig(), 20, small)
    assert write.startswith("error: content is 2049 bytes; write_file writes at most 2048 bytes")
    edit = await client.call(
        "edit_file", {"path": "long.txt", "old_text": "zz", "new_text": "a"}, ExecConfig(), 20, small
    )
    assert edit.startswith("error: 'long.txt' is 5000 bytes; edit_file edits files up to 1024 bytes")
    assert await client.call("read_file", {"path": "long.txt"}, ExecConfig(), 20) == "z" * 5000  # defaults
    low, _ = BOUNDS["files_max_read_chars"]
    for asked, expected in ((5, low), (True, DEFAULTS["files_max_read_chars"])):
        request = {
            "v": 1,
            "tool": "read_file",
            "args": {"path": "long.txt"},
            "limits": {"max_read_chars": asked},
        }
        answer = await raw_exchange(tmp_path / "tools.sock", encode(request))
        text = str(answer["result"])
        assert len(text.split("\n[truncated")[0]) == min(expected, 5000), asked


async def test_ping_answers_without_running_anything(sandbox: tuple[object, Call], tmp_path: Path) -> None:
    """The healthcheck (`picoclaw sandbox --ping`), doctor and /ready all ask the same question."""
    from picoclaw_gateway.sandbox.ping import ping

    socket = tmp_path / "tools.sock"
    assert await SandboxClient(str(socket)).ping() is None
    assert await asyncio.to_thread(ping, str(socket)) is None
    healthcheck = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "picoclaw_gateway", "sandbox", "--ping", str(socket),
        stdout=asyncio.subprocess.PIPE, env=sandbox_env(),
    )  # fmt: skip
    out, _ = await healthcheck.communicate()
    assert (healthcheck.returncode, out.decode().strip()) == (0, "ok: the tools sandbox answered")
    missing = tmp_path / "missing.sock"
    dead = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "picoclaw_gateway", "sandbox", "--ping", str(missing),
        stdout=asyncio.subprocess.PIPE, env=sandbox_env(),
    )  # fmt: skip
    out, _ = await dead.communicate()
    assert dead.returncode == 1
    assert out.decode().strip() == f"unhealthy: cannot reach {missing}: No such file or directory"
    assert "not reachable" in str(await SandboxClient(str(missing)).ping())


async def test_ping_refuses_a_hostile_answer(tmp_path: Path) -> None:
    """A 'sandbox' that answers something other than pong is not healthy."""
    from picoclaw_gateway.sandbox.ping import ping

    socket = tmp_path / "liar.sock"

    async def liar(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_frame(reader)
        writer.write(encode({"v": 1, "ok": True, "result": "sure"}))
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(liar, path=str(socket))
    async with server:
        assert await asyncio.to_thread(ping, str(socket)) == "unexpected answer to ping: " + str(
            {"v": 1, "ok": True, "result": "sure"}
        )
        assert await SandboxClient(str(socket)).ping() == "unexpected answer to ping: 'sure'"
