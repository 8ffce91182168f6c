"""Read what a JSON document cut at a byte cap still holds.

A provider answer larger than the body cap is cut mid-document, usually inside the huge text
string. Rather than throwing the whole answer away, close what is open: the string being
written (minus a half escape), then every open array and object. Anything unsure (a cut key,
number or literal) falls back to the last point where the document was whole.
"""

from __future__ import annotations

import json
import re
from typing import Any

_STRING_STOP = re.compile(r'["\\]')
_SCALAR = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_HIGH_SURROGATE_TAIL = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}$")  # half of a pair: not text


def _scan_string(text: str, start: int) -> tuple[int, int | None]:
    """From the opening quote at `start`: (index after the closing quote, None), or when the
    text ends inside the string (-1, index where its complete characters end)."""
    pos = start + 1
    while True:
        stop = _STRING_STOP.search(text, pos)
        if stop is None:
            return -1, len(text)
        if stop.group() == '"':
            return stop.end(), None
        escape_len = 6 if text[stop.start() + 1 : stop.start() + 2] == "u" else 2
        if stop.start() + escape_len > len(text):
            return -1, stop.start()  # cut inside an escape: drop it
        pos = stop.start() + escape_len


def close_truncated(text: str) -> Any:
    """The value of the longest readable prefix of `text`, or None when nothing is readable."""
    closers: list[str] = []
    expect_key = False
    safe: tuple[int, str] | None = None  # (end, closers) where prefix + closers is valid JSON
    open_string: tuple[int, str] | None = None
    pos, size = 0, len(text)
    while pos < size:
        char = text[pos]
        if char in " \t\r\n":
            pos += 1
        elif char in "{[":
            closers.append("}" if char == "{" else "]")
            expect_key = char == "{"
            pos += 1
            safe = (pos, "".join(reversed(closers)))
        elif char in "}]":
            if not closers or closers.pop() != char:
                break
            pos += 1
            expect_key = False
            safe = (pos, "".join(reversed(closers)))
        elif char == ",":
            expect_key = bool(closers) and closers[-1] == "}"
            pos += 1
        elif char == ":":
            expect_key = False
            pos += 1
        elif char == '"':
            end, cut = _scan_string(text, pos)
            if end < 0:
                if not expect_key and cut is not None:
                    open_string = (cut, "".join(reversed(closers)))
                break
            pos = end
            if expect_key:
                expect_key = False
            else:
                safe = (pos, "".join(reversed(closers)))
        else:
            scalar = _SCALAR.match(text, pos)
            if scalar is None or scalar.end() >= size:  # unknown, or maybe cut ("12" of "123")
                break
            pos = scalar.end()
            safe = (pos, "".join(reversed(closers)))
    candidates: list[str] = []
    if open_string is not None:
        cut, closing = open_string
        head = text[:cut]
        if _HIGH_SURROGATE_TAIL.search(head):
            head = head[:-6]
        candidates.append(head + '"' + closing)
    if safe is not None:
        candidates.append(text[: safe[0]] + safe[1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    return None
