"""Split a long reply into chunks a chat platform accepts (Telegram 4096, Discord 2000...)."""

from __future__ import annotations

from collections.abc import Callable

Measure = Callable[[str], int]


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji can count 2)."""
    return len(text.encode("utf-16-le")) // 2


def _hard_split(line: str, limit: int, measure: Measure) -> list[str]:
    if measure is len:
        return [line[i : i + limit] for i in range(0, len(line), limit)]
    pieces: list[str] = []
    start = size = 0
    for index, char in enumerate(line):
        width = measure(char)
        if size + width > limit:
            pieces.append(line[start:index])
            start, size = index, 0
        size += width
    pieces.append(line[start:])
    return pieces


def split_text(text: str, limit: int, measure: Measure = len) -> list[str]:
    """Chunks of at most `limit` (as counted by `measure`), in order, cut on line boundaries
    when possible; a single line longer than `limit` is hard-split. Whitespace-only chunks
    are dropped (chat APIs reject them)."""
    if limit < 2:
        raise ValueError("limit must be >= 2")
    if measure(text) <= limit:
        return [text] if text.strip() else []
    chunks: list[str] = []
    current = ""
    current_size = 0
    for line in text.split("\n"):
        size = measure(line)
        if size > limit:  # over-long line: flush what we have, then hard-split it
            if current:
                chunks.append(current)
            *full, line = _hard_split(line, limit, measure)
            chunks.extend(full)
            current, current_size = line, measure(line)
            continue
        if not current:
            current, current_size = line, size
        elif current_size + 1 + size <= limit:
            current = f"{current}\n{line}"
            current_size += 1 + size
        else:
            chunks.append(current)
            current, current_size = line, size
    if current:
        chunks.append(current)
    return [chunk for chunk in chunks if chunk.strip()]
