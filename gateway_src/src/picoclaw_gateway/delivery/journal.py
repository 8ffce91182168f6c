"""The delivery journal: every accepted message ends in exactly one outcome, across crashes.

Life of an entry (one incoming message), each step one appended frame (frames.py) + fdatasync:

    record(msg, delivery)  -> id   received: the channel may now ack the platform
    reply_ready(id, text)           the reply is computed; a restart re-sends it (no second LLM run)
    mark_part_sent(id, n)           the platform accepted the first n parts of a split reply
    mark_sent(id)                   the platform accepted the (last part of the) reply: finished
    mark_failed(id, notice)         the outcome is a plain notice instead (LLM down, too large, /reset)
    mark_notice_sent(id)            the platform accepted the notice: finished

`unfinished()` lists what a restart must resume, in record order (so in order per chat).
The platform's delivery id (Telegram update_id, Slack event_id, Discord message id) is
remembered for the last `max_recent_deliveries` records per channel, finished or not: a
delivery the platform repeats because our ack never reached it is recognized and not recorded
twice (record() returns None), so it cannot become a second outcome.

The one window for a duplicate opens when the platform processes a send request (a reply part
or a notice) and closes when the frame recording it (mark_part_sent / mark_sent /
mark_notice_sent) is on disk: for a process death (kill -9, OOM) when that frame's `os.write`
returns, for a power loss or kernel crash when its `fdatasync` returns. Inside it: the process
dies, the journal write fails (disk full), or the platform's response is lost and the send is
retried. That one part or notice is then sent again; parts recorded by mark_part_sent are not.
Nothing else can duplicate or lose an outcome: a message is lost only if its record() frame
were lost after record() returned, which kill -9 cannot do (the write reached the kernel) and
power loss cannot do (fdatasync ran). A message whose reply was not yet staged is run through
the agent again after a restart, so a tool it called may run twice; the user still gets
exactly one reply.

Bounded: only unfinished entries are kept, in memory and on disk. Texts are capped at
`max_text_chars` (longer ones are kept cut, with a note). record() raises JournalFull when
`max_unfinished` entries or `max_unfinished_bytes` are pending: the caller answers that message
with a plain "busy" notice instead of accepting it. Finished entries are dropped by compaction
(temp file, fsync, os.replace, fsync of the folder), which runs on open and whenever the file is
more than twice the live size (at least `compact_min_bytes`): amortized O(1) per operation.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from picoclaw_gateway.delivery import frames
from picoclaw_gateway.delivery.entry import Entry, IncomingLike, JournalError, JournalFull, replay
from picoclaw_gateway.durable import replace_file, write_all

log = logging.getLogger(__name__)

JOURNAL_FILE = "journal.bin"
MAX_TEXT_CHARS = 40_000  # Slack's own message limit: no real incoming message is cut
MAX_ID_CHARS = 256
MAX_UNFINISHED = 2_000
MAX_UNFINISHED_BYTES = 8 << 20
COMPACT_MIN_BYTES = 1 << 20
# Delivery ids remembered per channel, finished or not: covers what a platform re-delivers after a
# restart (Telegram: the last getUpdates batch, <= 100; Slack: the envelopes not yet acked).
MAX_RECENT_DELIVERIES = 1_000


def _cost(entry: Entry) -> int:
    """Bytes the entry takes in a compacted file: what the unfinished-bytes cap counts."""
    return sum(len(frames.encode(rec)) for rec in entry.frames())


class Journal:
    """One process's journal in `folder` (its own directory, locked: one writer at a time)."""

    def __init__(
        self,
        folder: Path,
        *,
        max_unfinished: int = MAX_UNFINISHED,
        max_unfinished_bytes: int = MAX_UNFINISHED_BYTES,
        max_text_chars: int = MAX_TEXT_CHARS,
        compact_min_bytes: int = COMPACT_MIN_BYTES,
        max_recent_deliveries: int = MAX_RECENT_DELIVERIES,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        # 6 bytes per char is the worst JSON escape: every frame then fits frames.MAX_PAYLOAD.
        if not 1 <= max_text_chars <= (frames.MAX_PAYLOAD - 4 * MAX_ID_CHARS * 6) // 6 - 100:
            raise ValueError(f"max_text_chars {max_text_chars} is out of range")
        self.folder = folder
        self.path = folder / JOURNAL_FILE
        self.max_unfinished = max_unfinished
        self.max_unfinished_bytes = max_unfinished_bytes
        self.max_text_chars = max_text_chars
        self.compact_min_bytes = compact_min_bytes
        self.max_recent_deliveries = max_recent_deliveries
        self._redact = redact
        self._recent: dict[str, OrderedDict[str, None]] = {}  # channel -> delivery ids, oldest first
        self._base_bytes = 0  # header + delivery-id frames at the last compaction
        self._entries: dict[int, Entry] = {}  # insertion order == id order == record order
        self._costs: dict[int, int] = {}
        self._live_bytes = 0
        self._file_bytes = 0
        self._next_id = 1
        self._fd = -1
        self.compactions = 0
        self.damaged_bytes = 0  # found by the last open: skipped damage (not a torn tail)
        self.torn_tail_bytes = 0
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._lock_fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:
            raise JournalError(
                f"cannot open the delivery journal folder {folder}: {err.strerror} — fix: make it a "
                "writable directory of the gateway's user"
            ) from err
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise JournalError(
                f"the delivery journal {folder} is in use by another gateway process — fix: stop that "
                "process, or give each gateway its own state directory"
            ) from None
        try:
            self._load()
            self.compact()  # drops finished entries and any torn tail or damage: a clean file
        except BaseException:
            self.close()
            raise

    def _load(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        report = frames.ScanReport()
        for frame in frames.scan(data, report):
            rec = frame.record
            try:
                if rec.get("k") == "K":
                    for delivery_id in rec["ids"]:
                        self._remember(_text(rec["ch"]), _text(delivery_id))
                    continue
                self._next_id = max(self._next_id, replay(self._entries, rec))
                if rec["k"] == "R" and "d" in rec:
                    self._remember(rec["ch"], _text(rec["d"]))
            except (KeyError, TypeError, ValueError):  # a valid crc around a record that is not ours
                report.damaged_bytes += frame.end - frame.offset
        self._costs = {entry_id: _cost(entry) for entry_id, entry in self._entries.items()}
        self._live_bytes = sum(self._costs.values())
        self.damaged_bytes = report.damaged_bytes
        self.torn_tail_bytes = report.torn_tail_bytes
        if report.damaged_bytes:
            log.warning("delivery journal: skipped %d damaged bytes", report.damaged_bytes)
        if report.torn_tail_bytes:
            log.info("delivery journal: dropped a torn tail of %d bytes", report.torn_tail_bytes)

    # -- the API ---------------------------------------------------------------------------------

    def record(self, msg: IncomingLike, delivery_id: str | None = None) -> int | None:
        """Durably record an accepted message; only then may the channel ack it to the platform.

        `delivery_id` is the platform's id of this delivery (Telegram update_id, Slack event_id,
        Discord message id). None is returned when it was recorded before: the platform re-delivered
        it (it had not seen our ack before a restart); ack it again and do nothing else.
        """
        if delivery_id is not None and self.seen(msg.channel, delivery_id):
            return None
        if len(self._entries) >= self.max_unfinished or self._live_bytes >= self.max_unfinished_bytes:
            raise JournalFull(
                f"{len(self._entries)} messages ({self._live_bytes} bytes) are waiting for an answer — "
                "fix: wait until they are answered (the sender gets a busy notice)"
            )
        for name, value in (("channel", msg.channel), ("chat_id", msg.chat_id), ("user_id", msg.user_id),
                            ("delivery_id", delivery_id or "")):  # fmt: skip
            if len(value) > MAX_ID_CHARS:
                raise JournalError(
                    f"{name} is longer than {MAX_ID_CHARS} characters — fix: not a platform id"
                )
        entry = Entry(
            self._next_id,
            msg.channel,
            msg.chat_id,
            msg.user_id,
            self._clean(msg.text),
            time.time(),
            media=getattr(msg, "media", None),  # optional: only messages with a photo or recording
        )
        rec = entry.record_frame()
        if delivery_id is not None:
            rec["d"] = delivery_id
        frame = frames.encode(rec)
        self._append(frame)
        if delivery_id is not None:
            self._remember(msg.channel, delivery_id)
        self._next_id += 1
        self._entries[entry.id] = entry
        self._costs[entry.id] = len(frame)
        self._live_bytes += len(frame)
        return entry.id

    def reply_ready(self, entry_id: int, reply: str) -> str:
        """Stage the computed reply; returns the text as kept (cut/redacted): send exactly that."""
        entry = self._expect(entry_id, ("received",), "reply_ready")
        text = self._clean(reply)
        self._commit({"k": "P", "id": entry_id, "reply": text}, replace(entry, reply=text))
        return text

    def mark_part_sent(self, entry_id: int, parts_sent: int) -> None:
        """The platform accepted the first `parts_sent` parts of the staged reply."""
        entry = self._expect(entry_id, ("reply",), "mark_part_sent")
        if parts_sent <= entry.parts_sent:
            raise JournalError(f"mark_part_sent({entry_id}, {parts_sent}): already {entry.parts_sent} sent")
        self._commit({"k": "G", "id": entry_id, "n": parts_sent}, replace(entry, parts_sent=parts_sent))

    def mark_sent(self, entry_id: int) -> None:
        """The platform accepted the reply (its last part): the entry is finished."""
        self._expect(entry_id, ("received", "reply"), "mark_sent")
        self._finish(entry_id, "S")

    def mark_failed(self, entry_id: int, notice: str) -> str:
        """The outcome is a plain notice instead of a reply; returns the notice as kept."""
        entry = self._expect(entry_id, ("received", "reply"), "mark_failed")
        text = self._clean(notice)
        changed = replace(entry, notice=text, reply=None, parts_sent=0)
        self._commit({"k": "F", "id": entry_id, "notice": text}, changed)
        return text

    def mark_notice_sent(self, entry_id: int) -> None:
        """The platform accepted the notice: the entry is finished."""
        self._expect(entry_id, ("notice",), "mark_notice_sent")
        self._finish(entry_id, "N")

    def seen(self, channel: str, delivery_id: str) -> bool:
        """Whether this platform delivery was recorded (among the last max_recent_deliveries)."""
        return delivery_id in self._recent.get(channel, ())

    def get(self, entry_id: int) -> Entry | None:
        return self._entries.get(entry_id)

    def unfinished(self) -> list[Entry]:
        """Entries to resume, in record order (which is arrival order within each chat)."""
        return list(self._entries.values())

    def by_chat(self) -> dict[tuple[str, str], list[Entry]]:
        chats: dict[tuple[str, str], list[Entry]] = {}
        for entry in self._entries.values():
            chats.setdefault((entry.channel, entry.chat_id), []).append(entry)
        return chats

    @property
    def unfinished_bytes(self) -> int:
        return self._live_bytes

    @property
    def file_bytes(self) -> int:
        return self._file_bytes

    # -- writing ---------------------------------------------------------------------------------

    def _clean(self, text: str) -> str:
        if self._redact is not None:  # before cutting: a cut must not leave half a secret unmasked
            text = self._redact(text)
        if len(text) > self.max_text_chars:
            dropped = len(text) - self.max_text_chars
            text = f"{text[: self.max_text_chars]}\n[cut by the gateway: {dropped} more characters]"
        # A lone surrogate cannot be encoded as UTF-8: keep the text, replace just that char.
        return text.encode("utf-8", "replace").decode("utf-8")

    def _remember(self, channel: str, delivery_id: str) -> None:
        recent = self._recent.setdefault(channel, OrderedDict())
        recent[delivery_id] = None
        recent.move_to_end(delivery_id)
        if len(recent) > self.max_recent_deliveries:
            recent.popitem(last=False)

    def _expect(self, entry_id: int, states: tuple[str, ...], action: str) -> Entry:
        entry = self._entries.get(entry_id)
        if entry is None:
            raise JournalError(
                f"{action}({entry_id}): no such unfinished entry — fix: each message gets exactly one "
                "outcome, and this one is unknown or already finished"
            )
        if entry.state not in states:
            raise JournalError(f"{action}({entry_id}): the entry is {entry.state!r}, not one of {states}")
        return entry

    def _commit(self, rec: dict[str, Any], changed: Entry) -> None:
        self._append(frames.encode(rec))
        cost = _cost(changed)
        self._live_bytes += cost - self._costs[changed.id]
        self._costs[changed.id] = cost
        self._entries[changed.id] = changed
        self._maybe_compact()

    def _finish(self, entry_id: int, kind: str) -> None:
        self._append(frames.encode({"k": kind, "id": entry_id}))
        del self._entries[entry_id]
        self._live_bytes -= self._costs.pop(entry_id)
        self._maybe_compact()

    def _append(self, frame: bytes) -> None:
        if self._fd < 0:
            raise JournalError("the delivery journal is closed — fix: open a new Journal")
        try:
            write_all(self._fd, frame)
            os.fdatasync(self._fd)
        except OSError as err:
            # Cut a partial frame off, so later appends are not behind garbage.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._file_bytes)
            raise JournalError(
                f"cannot write the delivery journal {self.path}: {err.strerror} — fix: free disk space "
                "or check the state directory's permissions"
            ) from err
        self._file_bytes += len(frame)

    def _maybe_compact(self) -> None:
        if self._file_bytes > max(self.compact_min_bytes, self._base_bytes + 2 * self._live_bytes):
            try:
                self.compact()
            except JournalError as err:  # the appended frame is durable: only the cleanup failed
                log.warning("%s", err)
                self.compact_min_bytes = 2 * self._file_bytes  # retry later, not on every append

    def compact(self) -> None:
        """Rewrite the file with only the unfinished entries: temp, fsync, replace, fsync folder."""
        base = b"".join(
            [frames.encode({"k": "H", "next": self._next_id})]
            + [
                frames.encode({"k": "K", "ch": channel, "ids": chunk})
                for channel, ids in self._recent.items()
                for chunk in _chunks(list(ids), 100)  # 100 ids of <= 256 chars fit a frame
            ]
        )
        data = base + b"".join(
            frames.encode(rec) for entry in self._entries.values() for rec in entry.frames()
        )
        tmp = self.folder / f".{JOURNAL_FILE}.tmp"
        try:
            replace_file(self.path, tmp, data)
            new_fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as err:
            raise JournalError(
                f"cannot compact the delivery journal {self.path}: {err.strerror} — fix: free disk space "
                "or check the state directory's permissions"
            ) from err
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = new_fd
        self._file_bytes = len(data)
        self._base_bytes = len(base)
        self.compactions += 1

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_ID_CHARS:
        raise TypeError("not a delivery id")
    return value


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
