"""Per-chat history on disk: `<workspace>/sessions/<channel>_<chat>.jsonl`.

Crash-safe under kill -9 at any moment:
- turns are appended as JSON lines in one write + fsync; a torn last line is ignored on load;
- /reset and compaction write a temp file, fsync it, os.replace it, fsync the folder.
On load, history is cut to `history_limit` messages at a user-message boundary, and any
tool message without its assistant call (or call without all results) is dropped, so the
provider never sees an inconsistent conversation.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Message = dict[str, Any]
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def sanitize(messages: list[Message]) -> list[Message]:
    """Keep only complete tool exchanges: an assistant tool call with all of its results."""
    messages = [m for m in messages if isinstance(m, dict)]
    clean: list[Message] = []
    i = 0
    while i < len(messages):
        msg = messages[i]
        role = msg.get("role")
        if role == "assistant" and msg.get("tool_calls"):
            wanted = {call.get("id") for call in msg["tool_calls"]}
            results: list[Message] = []
            j = i + 1
            while j < len(messages) and messages[j].get("role") == "tool":
                results.append(messages[j])
                j += 1
            got = {r.get("tool_call_id") for r in results}
            if wanted <= got:
                clean.append(msg)
                clean.extend(r for r in results if r.get("tool_call_id") in wanted)
            i = j
            continue
        if role in ("user", "assistant") and isinstance(msg.get("content"), str):
            clean.append(msg)
        # orphan tool results and unknown records are dropped
        i += 1
    return clean


def bound(messages: list[Message], limit: int) -> list[Message]:
    """The last `limit` messages, starting at a user message (never mid tool exchange)."""
    tail = messages if len(messages) <= limit else messages[-limit:]
    for index, msg in enumerate(tail):
        if msg.get("role") == "user":
            return tail[index:]
    return []


def _encode(messages: list[Message]) -> bytes:
    return b"".join(
        json.dumps(m, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for m in messages
    )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SessionStore:
    def __init__(self, workspace: Path, history_limit: int) -> None:
        self.folder = workspace / "sessions"
        self.history_limit = history_limit

    def path(self, channel: str, chat_id: str) -> Path:
        return self.folder / f"{_UNSAFE.sub('_', channel)}_{_UNSAFE.sub('_', chat_id)}.jsonl"

    def load(self, channel: str, chat_id: str) -> list[Message]:
        path = self.path(channel, chat_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return []
        messages: list[Message] = []
        lines = raw.split(b"\n")
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                # A torn last line is the expected trace of a crash mid-append; anything else is odd.
                if number < len(lines) - 1:
                    log.warning("skipping unreadable line %d in %s", number + 1, path.name)
                continue
            if isinstance(record, dict):
                messages.append(record)
        history = bound(sanitize(messages), self.history_limit)
        # Compact when the file holds far more than we keep, so it does not grow forever.
        if len(lines) > 2 * self.history_limit + 20:
            self._replace(path, history)
        return history

    def append(self, channel: str, chat_id: str, messages: list[Message]) -> None:
        if not messages:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(channel, chat_id)
        data = _encode(messages)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # A previous crash may have left a torn line without "\n": start on a fresh line.
            if os.fstat(fd).st_size > 0:
                with path.open("rb") as handle:
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        data = b"\n" + data
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def reset(self, channel: str, chat_id: str) -> None:
        self._replace(self.path(channel, chat_id), [])

    def _replace(self, path: Path, messages: list[Message]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, _encode(messages))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(self.folder)
