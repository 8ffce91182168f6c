"""File uploads as the platforms read them: multipart/form-data (Telegram sendDocument, Discord's
message with files) or a raw body (Slack's upload URL), read as a stream with the platform's size
limit (aiohttp's request.post() would refuse anything over 1 MiB and buffer the rest)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import BodyPartReader, web

CHUNK = 64 * 1024


class UploadTooLarge(Exception):
    """The body went past the platform's limit."""


@dataclass(frozen=True)
class Upload:
    field: str  # the form field's name ("document", "files[0]", "attach://" key...)
    filename: str
    content_type: str
    data: bytes


async def _read_capped(read: Callable[[int], Awaitable[bytes]], limit: int) -> bytes:
    body = bytearray()
    while chunk := await read(CHUNK):
        body += chunk
        if len(body) > limit:
            raise UploadTooLarge(len(body))
    return bytes(body)


async def read_form(request: web.Request, limit: int) -> tuple[dict[str, str], dict[str, Upload]]:
    """(text fields, file fields by name) of a multipart body; UploadTooLarge past `limit` in all."""
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    total = 0
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        data = await _read_capped(part.read_chunk, limit - total)
        total += len(data)
        if part.filename is None:
            fields[part.name] = data.decode("utf-8")
        else:
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            files[part.name] = Upload(part.name, part.filename, content_type, data)
    return fields, files


async def read_raw(request: web.Request, limit: int) -> bytes:
    """A raw request body; UploadTooLarge past `limit`."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise UploadTooLarge(declared)
    return await _read_capped(request.content.read, limit)
