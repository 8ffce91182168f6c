"""An independent model of the delivery journal's rules, for the journal tests.

Ops are logged as (kind, entry_id, arg). The model replays them with the journal's tolerance:
an op that does not fit the state so far (its record lost, a second outcome) is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from picoclaw_gateway.delivery import Journal

# id -> (channel, chat_id, user_id, text, reply, parts_sent, notice)
State = dict[int, tuple[Any, ...]]


@dataclass(frozen=True)
class Msg:
    channel: str
    chat_id: str
    user_id: str
    text: str


def snapshot(journal: Journal) -> State:
    return {
        e.id: (e.channel, e.chat_id, e.user_id, e.text, e.reply, e.parts_sent, e.notice)
        for e in journal.unfinished()
    }


def kept(text: str) -> str:
    """A short text as the journal keeps it: a lone surrogate becomes "?"."""
    return text.encode("utf-8", "replace").decode()


def allowed(state: State, kind: str, entry_id: int, arg: Any) -> bool:
    """Whether the journal's API accepts this op now (it refuses a second outcome and the like)."""
    entry = state.get(entry_id)
    if entry is None:
        return False
    reply, parts, notice = entry[4], entry[5], entry[6]
    phase = "notice" if notice is not None else "reply" if reply is not None else "received"
    if kind == "part":
        return phase == "reply" and arg > parts
    wanted = {"reply": ("received",), "sent": ("received", "reply"), "failed": ("received", "reply")}
    return phase in wanted.get(kind, ("notice",))


def replay(log: list[tuple[str, int, Any]]) -> State:
    state: dict[int, list[Any]] = {}
    for kind, entry_id, arg in log:
        if kind == "record":
            state.setdefault(entry_id, [*arg, None, 0, None])
            continue
        entry = state.get(entry_id)
        if entry is None:
            continue
        reply, parts, notice = entry[4], entry[5], entry[6]
        if kind == "reply" and reply is None and notice is None:
            entry[4] = arg
        elif kind == "part" and reply is not None and notice is None and arg > parts:
            entry[5] = arg
        elif kind == "failed" and notice is None:
            entry[4], entry[5], entry[6] = None, 0, arg
        elif kind in ("sent", "notice_sent"):
            del state[entry_id]
    return {entry_id: tuple(fields) for entry_id, fields in state.items()}


def apply(
    journal: Journal,
    log: list[tuple[str, int, Any]],
    kind: str,
    target: Any,
    arg: Any = None,
) -> int:
    """Run one op on the journal and log it; returns the entry id."""
    if kind == "record":
        entry_id = journal.record(target, delivery_id=arg)  # arg: the platform's delivery id
        assert entry_id is not None
        arg = (target.channel, target.chat_id, target.user_id, kept(target.text))
    else:
        entry_id = target
        if kind == "reply":
            journal.reply_ready(entry_id, arg)
        elif kind == "part":
            journal.mark_part_sent(entry_id, arg)
        elif kind == "sent":
            journal.mark_sent(entry_id)
        elif kind == "failed":
            journal.mark_failed(entry_id, arg)
        elif kind == "notice_sent":
            journal.mark_notice_sent(entry_id)
    log.append((kind, entry_id, kept(arg) if isinstance(arg, str) else arg))
    return entry_id
