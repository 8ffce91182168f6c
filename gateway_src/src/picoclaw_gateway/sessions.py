"""Per-chat history on disk: `<state>/sessions/<channel>_<chat>.jsonl`.

The folder is in the gateway's state directory, never the tools' workspace: a tool (driven by a
prompt-injected LLM) can neither read another chat's history nor forge one. Every record is
validated on load; one that is not a well-formed message is skipped with a warning, so a bad line
never locks a chat.

Crash-safe under kill -9 at any moment:
- turns are appended as JSON lines in one write + fsync; a torn last line is ignored on load;
- /reset and compaction write a temp file, fsync it, os.replace it, fsync the folder.
On load, history is cut to `history_limit` messages and `max_chars` characters at a
user-message boundary, and any tool message without its assistant call (or call without all
results) is dropped, so the provider never sees an inconsistent conversation.
Every line written is passed through the process's secret masker first.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from picoclaw_gateway.config_validator import DEFAULTS
from picoclaw_gateway.durable import fsync_dir, write_all
from picoclaw_gateway.logging_setup import mask_secrets

log = logging.getLogger(__name__)

Message = dict[str, Any]
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

# History sent with each request: agent.history_max_chars characters (older turns beyond it are
# dropped, whole), each message's text cut at agent.history_message_max_chars (older, larger
# records or read_file's 100k results are cut when loaded, not sent whole forever).
HISTORY_MAX_CHARS: int = DEFAULTS["history_max_chars"]
HISTORY_MESSAGE_MAX_CHARS: int = DEFAULTS["history_message_max_chars"]


def _is_tool_call(call: Any) -> bool:
    return (
        isinstance(call, dict)
        and isinstance(call.get("id"), str)
        and isinstance(call.get("name"), str)
        and isinstance(call.get("arguments"), dict)
    )


def valid_record(record: Any) -> bool:
    """A stored message of the shape the agent writes (and the providers read), nothing else."""
    if not isinstance(record, dict):
        return False
    role, content = record.get("role"), record.get("content")
    if role == "user":
        return isinstance(content, str)
    if role == "assistant":
        calls = record.get("tool_calls")
        if calls is None:
            return isinstance(content, str)
        return (
            (content is None or isinstance(content, str))
            and isinstance(calls, list)
            and bool(calls)
            and all(_is_tool_call(c) for c in calls)
        )
    if role == "tool":
        return isinstance(record.get("tool_call_id"), str) and isinstance(content, str)
    return False


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


def message_chars(msg: Message) -> int:
    """A message's size in characters: its text plus its tool calls' names and arguments."""
    size = len(content) if isinstance(content := msg.get("content"), str) else 0
    for call in msg.get("tool_calls") or ():
        if isinstance(call, dict):
            size += len(str(call.get("name", ""))) + len(json.dumps(call.get("arguments"), default=str))
    return size


def _clip(msg: Message, max_chars: int) -> Message:
    content = msg.get("content")
    if not isinstance(content, str) or len(content) <= max_chars:
        return msg
    note = f"\n[cut: {len(content) - max_chars:,} more characters were not kept in the history]"
    return {**msg, "content": content[:max_chars] + note}


def bound(
    messages: list[Message],
    limit: int,
    max_chars: int = HISTORY_MAX_CHARS,
    message_max_chars: int = HISTORY_MESSAGE_MAX_CHARS,
) -> list[Message]:
    """The newest whole turns (each starting at a user message, never mid tool exchange) that fit
    in `limit` messages and `max_chars` characters, each message's text cut at `message_max_chars`.
    A newest turn that alone exceeds `max_chars` leaves the history empty."""
    tail = messages if len(messages) <= limit else messages[-limit:]
    tail = [_clip(m, message_max_chars) for m in tail]
    start, total = len(tail), 0
    for index in range(len(tail) - 1, -1, -1):
        total += message_chars(tail[index])
        if total > max_chars:
            break
        if tail[index].get("role") == "user":
            start = index
    return tail[start:]


def drop_oldest_turns(messages: list[Message]) -> int:
    """Drop the older half of the turns in place (at a user-message boundary); returns how many
    messages went. Used when the provider says the conversation is too long."""
    starts = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    cut = starts[len(starts) // 2] if len(starts) > 1 else len(messages)
    del messages[:cut]
    return cut


def _encode(messages: list[Message]) -> bytes:
    lines = "".join(json.dumps(m, ensure_ascii=False, separators=(",", ":")) + "\n" for m in messages)
    return mask_secrets(lines).encode(errors="replace")  # a lone surrogate from the LLM: "?"


class SessionStore:
    def __init__(
        self,
        state_dir: Path,
        history_limit: int,
        max_chars: int = HISTORY_MAX_CHARS,
        message_max_chars: int = HISTORY_MESSAGE_MAX_CHARS,
    ) -> None:
        self.folder = state_dir / "sessions"
        self.history_limit = history_limit
        self.max_chars = max_chars
        self.message_max_chars = message_max_chars

    def bound(self, messages: list[Message]) -> list[Message]:
        """`messages` cut to this store's limits (what a chat keeps in memory after a turn)."""
        return bound(messages, self.history_limit, self.max_chars, self.message_max_chars)

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
            if valid_record(record):
                messages.append(record)
            else:
                log.warning("skipping line %d in %s: not a stored message", number + 1, path.name)
        history = bound(sanitize(messages), self.history_limit, self.max_chars, self.message_max_chars)
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
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def reset(self, channel: str, chat_id: str) -> None:
        self._replace(self.path(channel, chat_id), [])

    def replace(self, channel: str, chat_id: str, messages: list[Message]) -> None:
        """Make `messages` the chat's whole stored history (crash-safe)."""
        self._replace(self.path(channel, chat_id), messages)

    def _replace(self, path: Path, messages: list[Message]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            write_all(fd, _encode(messages))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(self.folder)


def migrate_from_workspace(workspace: Path, state_dir: Path) -> int:
    """Move the history files an older version kept in `<workspace>/sessions` into the state
    directory, once (only while the state has no sessions folder yet). Only regular `.jsonl` files
    are moved, never through a symlink; returns how many."""
    old, new = workspace / "sessions", state_dir / "sessions"
    if new.exists() or old.is_symlink() or not old.is_dir():
        return 0
    staging = state_dir / ".sessions.migrating"
    staging.mkdir(mode=0o700, exist_ok=True)
    moved = 0
    for entry in os.scandir(old):
        if not entry.name.endswith(".jsonl") or not entry.is_file(follow_symlinks=False):
            continue
        fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            data = b"".join(chunks)
        finally:
            os.close(fd)
        target = os.open(staging / entry.name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            write_all(target, data)
            os.fsync(target)
        finally:
            os.close(target)
        moved += 1
    fsync_dir(staging)
    os.replace(staging, new)  # all or nothing: a crash before this retries the whole copy
    fsync_dir(state_dir)
    for entry in os.scandir(old):
        if entry.name.endswith(".jsonl") and entry.is_file(follow_symlinks=False):
            os.unlink(entry.path)
    return moved
