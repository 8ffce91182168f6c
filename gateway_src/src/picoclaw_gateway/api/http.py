"""Just enough HTTP/1.1 for the automation API, on asyncio streams (no server library: aiohttp would
add ~15 MB of RSS to a gateway that does not otherwise load it).

One request per connection (the answer says Connection: close), a Content-Length body only (no
chunked uploads: 411), every part bounded: request line and header lines, header count, body size,
and the time to read them.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

MAX_LINE = 8192
MAX_HEADERS = 100
READ_TIMEOUT_S = 15.0
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Payload Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    body: bytes
    peer: str


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(data, ensure_ascii=False).encode(), headers=headers or {})


def error_response(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> Response:
    """The OpenAI error shape, so OpenAI clients show the message."""
    return json_response(status, {"error": {"message": message, "type": kind, "code": None}}, headers)


async def _line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError:
        raise HttpError(431, "a request line or header is too long") from None
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise ConnectionResetError from None
        raise HttpError(400, "the request ended early") from None


async def read_request(reader: asyncio.StreamReader, peer: str, max_body: int) -> Request:
    async with asyncio.timeout(READ_TIMEOUT_S):
        parts = (await _line(reader)).decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise HttpError(400, "not an HTTP/1.x request")
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            line = await _line(reader)
            if line in (b"\r\n", b"\n"):
                break
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise HttpError(400, "a header line has no ':'")
            headers[name.strip().lower()] = value.strip()
        else:
            raise HttpError(431, f"more than {MAX_HEADERS} headers")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise HttpError(411, "send the body with a Content-Length (chunked uploads are not read)")
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise HttpError(400, "Content-Length is not a number") from None
        if length < 0 or length > max_body:
            raise HttpError(413, f"the body is larger than {max_body:,} bytes")
        body = await reader.readexactly(length) if length else b""
    return Request(parts[0].upper(), parts[1], headers, body, peer)


async def write_response(writer: asyncio.StreamWriter, response: Response) -> None:
    head = [f"HTTP/1.1 {response.status} {REASONS.get(response.status, 'Error')}"]
    head.append(f"Content-Type: {response.content_type}")
    head.append(f"Content-Length: {len(response.body)}")
    head.append("Connection: close")
    head.extend(f"{name}: {value}" for name, value in response.headers.items())
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)
    await writer.drain()
