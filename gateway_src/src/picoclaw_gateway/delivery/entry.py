"""One journal entry (an accepted message and its outcome so far) and how frames replay into it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from picoclaw_gateway.media.ref import MediaRef


class JournalError(Exception):
    """The journal cannot do what was asked; the message says what is wrong and the fix."""


class JournalFull(JournalError):
    """Too much is pending: refuse this message (answer it with a plain notice)."""


class IncomingLike(Protocol):
    channel: str
    chat_id: str
    user_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    channel: str
    chat_id: str
    user_id: str
    text: str
    received_at: float
    reply: str | None = None  # staged reply: a resume sends it instead of asking the LLM again
    parts_sent: int = 0  # parts of `reply` the platform already accepted
    notice: str | None = None  # the outcome is this notice instead of a reply
    media: MediaRef | None = None  # a reference only: the bytes are fetched again when the turn runs

    @property
    def state(self) -> str:
        if self.notice is not None:
            return "notice"
        return "reply" if self.reply is not None else "received"

    def record_frame(self) -> dict[str, Any]:
        frame = {
            "k": "R",
            "id": self.id,
            "ch": self.channel,
            "chat": self.chat_id,
            "user": self.user_id,
            "text": self.text,
            "t": self.received_at,
        }
        if self.media is not None:
            frame["m"] = self.media.to_json()
        return frame

    def frames(self) -> list[dict[str, Any]]:
        """The fewest frames that rebuild this entry: what compaction writes."""
        out = [self.record_frame()]
        if self.reply is not None:
            out.append({"k": "P", "id": self.id, "reply": self.reply})
            if self.parts_sent:
                out.append({"k": "G", "id": self.id, "n": self.parts_sent})
        if self.notice is not None:
            out.append({"k": "F", "id": self.id, "notice": self.notice})
        return out


def replay(entries: dict[int, Entry], rec: dict[str, Any]) -> int:
    """Apply one frame read back from disk; returns the smallest id the next record may use.

    Anything inconsistent with the state so far (a second outcome, an unknown id) is ignored:
    the first outcome written wins, as it did when it was written. Raises KeyError/TypeError/
    ValueError for a frame that is not one of ours.
    """
    kind = rec["k"]
    if kind == "H":
        return _int(rec["next"])
    entry_id = _int(rec["id"])
    if kind == "R":
        if entry_id not in entries:
            entries[entry_id] = Entry(
                entry_id,
                _str(rec["ch"]),
                _str(rec["chat"]),
                _str(rec["user"]),
                _str(rec["text"]),
                float(rec["t"]),
                media=MediaRef.from_json(rec["m"]) if "m" in rec else None,
            )
        return entry_id + 1
    entry = entries.get(entry_id)
    if entry is None:
        return 0
    if kind == "P" and entry.state == "received":
        entries[entry_id] = replace(entry, reply=_str(rec["reply"]))
    elif kind == "G" and entry.state == "reply" and _int(rec["n"]) > entry.parts_sent:
        entries[entry_id] = replace(entry, parts_sent=_int(rec["n"]))
    elif kind == "F" and entry.state != "notice":
        entries[entry_id] = replace(entry, notice=_str(rec["notice"]), reply=None, parts_sent=0)
    elif kind in ("S", "N"):
        del entries[entry_id]
    return 0


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("not an id")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value
