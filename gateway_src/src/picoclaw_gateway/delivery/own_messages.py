"""Messages the gateway sends on its own (a reminder's fixed text, a heartbeat alert), delivered
through the journal exactly like a reply: each is one journal entry whose text is staged at once,
so the outbox sends it, a restart resumes it, and it never becomes a turn for the LLM.

`record` takes a delivery id naming the occurrence ("job:3:1767250800", "heartbeat:1767250800"):
the same occurrence recorded again (a crash came before its source moved on) returns None
instead of a second entry. An entry recorded but not staged (a crash between the two writes) is
staged by `stage_interrupted`, which the gateway runs before it resumes the journal.
"""

from __future__ import annotations

from dataclasses import dataclass

from picoclaw_gateway.delivery.journal import Journal

# The user id of such entries ("schedule": what journals of earlier versions hold). No platform
# user id looks like this (all are numbers or start with U/W).
SENDER = "schedule"


@dataclass(frozen=True, slots=True)
class _Own:
    channel: str
    chat_id: str
    user_id: str
    text: str


def record(journal: Journal, channel: str, chat_id: str, text: str, delivery_id: str) -> int | None:
    """Record `text` for `chat_id` with its outcome staged; None: this occurrence was recorded before.
    Raises JournalError (JournalFull) like journal.record."""
    entry_id = journal.record(_Own(channel, chat_id, SENDER, text), delivery_id)
    if entry_id is not None:
        journal.reply_ready(entry_id, text)
    return entry_id


def stage_interrupted(journal: Journal) -> int:
    """Stage the own messages a crash left unstaged; returns how many. Call before resuming."""
    staged = 0
    for entry in journal.unfinished():
        if entry.user_id == SENDER and entry.state == "received":
            journal.reply_ready(entry.id, entry.text)
            staged += 1
    return staged
