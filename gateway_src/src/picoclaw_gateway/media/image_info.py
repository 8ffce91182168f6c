"""The format and pixel size of an image, read from its first bytes (stdlib only).

Why not Pillow: it costs ~10 MB of RSS once imported and decoding a photo costs width x height x 3
bytes more; the gateway's budget is 72 MB. The vision APIs scale images down themselves, so the
gateway only has to check what it sends: a format they read, within the byte and pixel caps.
"""

from __future__ import annotations

import struct

# Formats both OpenAI-compatible vision models and Anthropic accept.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_info(data: bytes | bytearray) -> tuple[str, int, int] | None:
    """(mime, width, height) of a PNG, JPEG, GIF or WebP image; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "image/gif", width, height
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        size = _webp_size(data)
        return None if size is None else ("image/webp", *size)
    if data.startswith(b"\xff\xd8"):
        size = _jpeg_size(data)
        return None if size is None else ("image/jpeg", *size)
    return None


def _webp_size(data: bytes | bytearray) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _jpeg_size(data: bytes | bytearray) -> tuple[int, int] | None:
    """Walk the JPEG segments to the first start-of-frame marker."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _SOF and pos + 9 <= len(data):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        if length < 2:
            return None
        pos += 2 + length
    return None
