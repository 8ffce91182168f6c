"""What one journaled chat message does: a command (/reset, /help, /start) or an agent turn.

Every message arrives here as a journal entry and leaves with exactly one outcome, in this order:
the answer is computed (the LLM, or the command's text), staged in the journal (`reply_ready`, or
`mark_failed` with a plain notice when the turn failed), only then appended to the chat's history,
and then sent by the outbox, which records what the platform accepted. Staging before the history
append means a crash in between re-sends the staged reply without the turn in the history; the
other order could put the turn in the history twice and produce a second, different reply.
The router (`router.py`) decides when a message's turn comes.
"""

from __future__ import annotations

import asyncio
import logging

from picoclaw_gateway.agent.loop import AgentLoop
from picoclaw_gateway.channels.base import Channel
from picoclaw_gateway.delivery.entry import Entry
from picoclaw_gateway.delivery.journal import Journal
from picoclaw_gateway.delivery.outbox import Outbox
from picoclaw_gateway.sessions import SessionStore, bound

log = logging.getLogger(__name__)

HELP_TEXT = (
    "I am your PicoClaw assistant. Send me a message and I will answer, using tools in my "
    "workspace when needed.\n"
    "/reset - forget this chat's history\n"
    "/help - show this help"
)
GREETING = "Hello! I am your PicoClaw assistant. Ask me anything. /help lists the commands."
RESET_REPLY = "History cleared. Let's start fresh."
FAILED_NOTICE = "Sorry, something went wrong while handling that message."


def command_of(text: str) -> str | None:
    if not text.startswith("/"):
        return None
    word = text.split(maxsplit=1)[0][1:]
    return word.split("@", 1)[0].lower()  # "/reset@MyBot" in groups


class ChatCore:
    def __init__(
        self, agent: AgentLoop, sessions: SessionStore, journal: Journal, max_concurrent_turns: int = 4
    ) -> None:
        self.agent = agent
        self.sessions = sessions
        self.journal = journal
        self.outbox = Outbox(journal)
        # Bounds memory and CPU: at most this many LLM turns in flight across all chats.
        self._turns = asyncio.Semaphore(max_concurrent_turns)

    def load_history(self, channel: str, chat_id: str) -> list[dict]:
        return self.sessions.load(channel, chat_id)

    async def process(self, entry: Entry, channel: Channel, history: list[dict]) -> list[dict]:
        """Bring `entry` to its outcome (compute it if needed, then send it); returns the history after."""
        if entry.state == "received":
            history = await self._compute(entry, channel, history)
        await self.outbox.deliver(entry, channel)
        return history

    async def _compute(self, entry: Entry, channel: Channel, history: list[dict]) -> list[dict]:
        """Stage the entry's outcome in the journal (reply or notice); returns the history after."""
        command = command_of(entry.text)
        key = (entry.channel, entry.chat_id)
        if command == "reset":
            self.sessions.reset(*key)
            self.journal.reply_ready(entry.id, RESET_REPLY)
            return []
        if command in ("help", "start"):
            self.journal.reply_ready(entry.id, HELP_TEXT if command == "help" else GREETING)
            return history
        try:
            async with self._turns, channel.typing(entry.chat_id):
                result = await self.agent.run_turn(history, entry.text)
        except Exception:
            log.exception("failed to handle a message in chat %s:%s", *key)
            self.journal.mark_failed(entry.id, FAILED_NOTICE)
            return history
        if not result.new_messages:  # the turn failed (LLM unreachable, key refused): its text says why
            self.journal.mark_failed(entry.id, result.reply)
            return history
        self.journal.reply_ready(entry.id, result.reply)
        try:
            self.sessions.append(*key, result.new_messages)
        except OSError as exc:  # the reply is staged: the user still gets it, the history misses the turn
            log.error("could not append to the history of chat %s:%s: %s", *key, exc.strerror)
            return history
        return bound(history + result.new_messages, self.sessions.history_limit)
