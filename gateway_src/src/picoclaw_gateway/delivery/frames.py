"""The journal's on-disk frame: one self-checking record per append.

    magic  b"\\xffJ"        2 bytes
    length uint32 LE        4 bytes, payload size (at most MAX_PAYLOAD)
    crc    uint32 LE        4 bytes, crc32 of the length field + payload
    payload                 `length` bytes: one JSON object, UTF-8

Why this shape: a crash (kill -9, power loss, ENOSPC) can leave only a *prefix* of the last
frame on disk; its length or crc then does not check out and the reader stops there. A
flipped byte anywhere breaks the crc of exactly the frame it hits. The reader then resyncs on
the next magic: 0xFF never occurs in UTF-8, so a payload can never contain a frame start and a
damaged frame costs that frame only, never the ones after it.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAGIC = b"\xffJ"
_HEADER = struct.Struct("<2sII")
HEADER_SIZE = _HEADER.size
_LENGTH = struct.Struct("<I")
# A frame holds at most one capped text (see journal.MAX_TEXT_CHARS) plus a little JSON: anything
# claiming to be larger is damage, not data.
MAX_PAYLOAD = 1 << 20


def encode(record: dict[str, Any]) -> bytes:
    payload = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"journal record of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    length = _LENGTH.pack(len(payload))
    return MAGIC + length + _LENGTH.pack(zlib.crc32(payload, zlib.crc32(length))) + payload


@dataclass(frozen=True, slots=True)
class Frame:
    offset: int
    end: int
    record: dict[str, Any]


@dataclass(slots=True)
class ScanReport:
    good_end: int = 0  # end of the last intact frame: where the next append belongs
    damaged_bytes: int = 0  # bytes skipped between intact frames (flipped bytes, not a torn tail)
    torn_tail_bytes: int = 0  # bytes after the last intact frame (a crash mid-append)


def _frame_at(data: bytes | memoryview, offset: int) -> Frame | None:
    if len(data) - offset < HEADER_SIZE:
        return None
    magic, length, crc = _HEADER.unpack_from(data, offset)
    if magic != MAGIC or length > MAX_PAYLOAD:
        return None
    start = offset + HEADER_SIZE
    end = start + length
    if end > len(data):
        return None
    payload = bytes(data[start:end])
    if zlib.crc32(payload, zlib.crc32(_LENGTH.pack(length))) != crc:
        return None
    try:
        record = json.loads(payload)
    except ValueError:  # crc matched a frame we did not write: treat as damage
        return None
    if not isinstance(record, dict):
        return None
    return Frame(offset, end, record)


def scan(data: bytes, report: ScanReport) -> Iterator[Frame]:
    """Every intact frame in order; damage is skipped by resyncing on the next magic."""
    view = memoryview(data)
    offset = 0
    skipped_from: int | None = None
    while offset < len(data):
        frame = _frame_at(view, offset)
        if frame is None:
            if skipped_from is None:
                skipped_from = offset
            found = data.find(MAGIC, offset + 1)
            if found < 0:
                break
            offset = found
            continue
        if skipped_from is not None:
            report.damaged_bytes += frame.offset - skipped_from
            skipped_from = None
        report.good_end = frame.end
        yield frame
        offset = frame.end
    report.torn_tail_bytes = len(data) - report.good_end
