"""What a chat turn gets beyond the conversation: the chat's long-term notes (long_memory.py) and
the sender's daily budget (budgets.py), and the commands that show them (/memory, /forget, /usage).
core.ChatCore asks this object at each step; either part may be off (None)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from picoclaw_gateway.budgets import UsageLedger
from picoclaw_gateway.channels.base import Channel
from picoclaw_gateway.config import GatewayConfig
from picoclaw_gateway.delivery.entry import Entry
from picoclaw_gateway.delivery.journal import Journal
from picoclaw_gateway.long_memory import FORGET_FAILED, FORGOTTEN, NotesStore, UpdateMemoryTool

log = logging.getLogger(__name__)

MEMORY_OFF = "Long-term memory is turned off on this bot (memory.enabled in the config)."
BUDGETS_OFF = "This bot has no usage limits."
COMMANDS = ("memory", "forget", "usage")
HELP_LINES = (
    "/memory - show what I noted about you in this chat\n"
    "/forget - delete those notes\n"
    "/usage - your messages and tokens today"
)


def user_key(entry: Entry) -> str:
    return f"{entry.channel}:{entry.user_id}"


class ChatExtras:
    def __init__(self, notes: NotesStore | None = None, ledger: UsageLedger | None = None) -> None:
        self.notes = notes
        self.ledger = ledger

    def command(self, command: str | None, entry: Entry) -> str | None:
        """The reply to one of COMMANDS, or None when `command` is not one of them."""
        if command == "usage":
            return self.ledger.report(user_key(entry)) if self.ledger else BUDGETS_OFF
        if command not in ("memory", "forget"):
            return None
        if self.notes is None:
            return MEMORY_OFF
        if command == "memory":
            return self.notes.show(entry.channel, entry.chat_id)
        try:
            self.notes.forget(entry.channel, entry.chat_id)
        except OSError as exc:
            log.error(
                "could not delete the notes of chat %s:%s: %s", entry.channel, entry.chat_id, exc.strerror
            )
            return FORGET_FAILED
        return FORGOTTEN

    def refusal(self, entry: Entry) -> str | None:
        """A notice instead of a turn (the sender is over a daily limit), or None. A turn that may
        run is counted as one message now (once per journal entry, across a crash's rerun)."""
        if self.ledger is None:
            return None
        key = user_key(entry)
        notice = self.ledger.admit(key, entry.id)
        if notice is not None:
            log.info("budget: refused a message of %s (over today's limit)", key)
        return notice

    def turn_options(self, entry: Entry) -> dict[str, Any]:
        """run_turn's keyword arguments for this chat: its notes and its memory tool."""
        if self.notes is None:
            return {}
        return {
            "system_extra": self.notes.prompt(entry.channel, entry.chat_id),
            "extra_tools": [UpdateMemoryTool(self.notes, entry.channel, entry.chat_id)],
        }

    def flush(self) -> None:
        """Write the usage counters if they changed (housekeeping and shutdown)."""
        if self.ledger is not None:
            self.ledger.flush()

    def spent(self, entry: Entry, tokens: int) -> None:
        if self.ledger is not None and tokens:
            self.ledger.spent(user_key(entry), entry.id, tokens)


def build_extras(
    config: GatewayConfig, state_dir: Path, channels: Mapping[str, Channel], journal: Journal
) -> ChatExtras:
    """Notes (when memory.enabled) and the usage ledger; the owner is each channel's first allowed
    user. The ledger keeps a message's count key while its journal entry still waits for its turn."""
    owners = {
        f"{name}:{channel.config.allowed_users[0]}"
        for name, channel in channels.items()
        if channel.config.allowed_users
    }
    notes = NotesStore(config.workspace, config.memory.max_chars) if config.memory.enabled else None

    def pending(entry_id: int) -> bool:
        entry = journal.get(entry_id)
        return entry is not None and entry.state == "received"

    return ChatExtras(notes, UsageLedger(state_dir, config.budgets, owners, pending))
