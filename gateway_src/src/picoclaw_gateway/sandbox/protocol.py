"""Wire format shared by the gateway and the sandbox: one request, one answer per connection.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON (an object). Both sides
refuse a frame over MAX_FRAME_BYTES before reading it. Every message carries `v`; a peer speaking
another version gets a clear error, never a guess.

request: {"v": 1, "tool": str, "args": object,          # tool "ping": answered "pong", nothing runs
          "limits": {"timeout_s": number, "max_output_chars": int,            # exec
                     "max_read_chars": int, "max_write_bytes": int, "max_edit_bytes": int}}  # files
         (a missing or out-of-range limit gets the default / is clamped to the validator's bounds)
answer:  {"v": 1, "ok": true, "result": str} | {"v": 1, "ok": false, "error": str}
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the sandbox reads frames from plain sockets and never imports asyncio
    import asyncio
    import socket

VERSION = 1
PING = "ping"  # the health probe: the sandbox answers {"ok": true, "result": "pong"} without running a tool
# write_file content (tools.files.max_write_bytes, at most 4 MiB) and exec output (1M chars) fit
MAX_FRAME_BYTES = 8 * 1024 * 1024
MAX_RESULT_CHARS = 1_000_000
_HEADER = 4


class ProtocolError(Exception):
    """The peer sent something that is not a valid frame of this protocol."""


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    if len(body) > MAX_FRAME_BYTES:
        raise ProtocolError(f"message of {len(body)} bytes is over the {MAX_FRAME_BYTES}-byte frame cap")
    return len(body).to_bytes(_HEADER, "big") + body


def frame_size(header: bytes) -> int:
    size = int.from_bytes(header, "big")
    if size > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {size} bytes is over the {MAX_FRAME_BYTES}-byte cap")
    return size


def decode(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"frame is not UTF-8 JSON ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"frame is JSON {type(message).__name__}, not an object")
    return message


async def read_frame(reader: asyncio.StreamReader) -> dict[str, Any]:
    """One frame from an asyncio stream (the gateway's side)."""
    from asyncio import IncompleteReadError

    try:
        size = frame_size(await reader.readexactly(_HEADER))
    except IncompleteReadError as exc:
        raise ProtocolError("the connection closed before a frame arrived") from exc
    try:
        body = await reader.readexactly(size)
    except IncompleteReadError as exc:
        raise ProtocolError(f"the connection closed inside a {size}-byte frame") from exc
    return decode(body)


def read_frame_from(sock: socket.socket) -> dict[str, Any]:
    """One frame from a blocking socket (the sandbox's side, the healthcheck's); its timeout applies
    to each read (TimeoutError)."""
    header = _read_exactly(sock, _HEADER)
    if len(header) < _HEADER:
        raise ProtocolError("the connection closed before a frame arrived")
    size = frame_size(header)
    body = _read_exactly(sock, size)
    if len(body) < size:
        raise ProtocolError(f"the connection closed inside a {size}-byte frame")
    return decode(body)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    """Up to `size` bytes: fewer only when the peer closed the connection."""
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(size - len(data), 65536))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def check_version(message: dict[str, Any], who: str) -> None:
    version = message.get("v")
    if version != VERSION:
        raise ProtocolError(
            f"{who} speaks protocol version {version!r}, this side speaks {VERSION} "
            "— fix: run the same picoclaw-gateway version for the gateway and the sandbox"
        )
