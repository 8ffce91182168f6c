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
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from picoclaw_gateway.agent.loop import AgentLoop
from picoclaw_gateway.agent.turn_context import CURRENT_TURN, TurnContext
from picoclaw_gateway.channels.base import Channel
from picoclaw_gateway.chat_extras import HELP_LINES, ChatExtras
from picoclaw_gateway.config import MediaConfig
from picoclaw_gateway.delivery.entry import Entry
from picoclaw_gateway.delivery.journal import Journal
from picoclaw_gateway.delivery.outbox import Outbox
from picoclaw_gateway.media.turn import MediaTurns, Prepared
from picoclaw_gateway.sessions import Message, SessionStore

log = logging.getLogger(__name__)

HELP_TEXT = (
    "I am your PicoClaw assistant. Send me a message and I will answer, using tools in my "
    "workspace when needed.\n"
    "/reset - forget this chat's history\n"
    f"{HELP_LINES}\n"
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


@dataclass(frozen=True, slots=True)
class Command:
    """A command a feature adds (/jobs): its /help line and its reply to an entry."""

    help: str
    reply: Callable[[Entry], str]


class ChatCore:
    def __init__(
        self,
        agent: AgentLoop,
        sessions: SessionStore,
        journal: Journal,
        max_concurrent_turns: int = 4,
        extras: ChatExtras | None = None,
        media: MediaTurns | None = None,
        commands: Mapping[str, Command] | None = None,
    ) -> None:
        self.agent = agent
        self.media = media or MediaTurns(MediaConfig(), vision=False)
        self.extras = extras or ChatExtras()  # long-term notes, budgets and their commands
        self.commands = dict(commands or {})  # feature commands (/jobs, /cancel)
        self.sessions = sessions
        self.journal = journal
        self.outbox = Outbox(journal)
        # Bounds memory and CPU: at most this many LLM turns in flight across all chats.
        self._turns = asyncio.Semaphore(max_concurrent_turns)

    @property
    def turn_slots(self) -> asyncio.Semaphore:
        """The bound on LLM turns in flight, shared with the automation API (api/turns.py)."""
        return self._turns

    def load_history(self, channel: str, chat_id: str) -> list[dict]:
        return self.sessions.load(channel, chat_id)

    async def process(self, entry: Entry, channel: Channel, history: list[dict] | None) -> list[dict] | None:
        """Bring `entry` to its outcome (compute it if needed, then send it); returns the history after.
        `history` None: not in memory; read from disk only once a turn may run (inside the turn
        slot, so chats waiting for a slot hold none), never for a command or a staged outcome."""
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
            helps = "".join(f"\n{c.help}" for c in self.commands.values())
            self.journal.reply_ready(entry.id, HELP_TEXT + helps if command == "help" else GREETING)
            return history
        if command in self.commands:
            self.journal.reply_ready(entry.id, self.commands[command].reply(entry))
            return history
        notice = self.extras.command(command, entry) or self.extras.refusal(entry)
        if notice is not None:  # an extras command, or over a daily budget: no LLM call
            self.journal.reply_ready(entry.id, notice)
            return history
        preview = channel.live(entry.chat_id)  # replies.live: the answer shown as it arrives
        try:
            # In the turn slot: at most max_concurrent_turns photos or recordings are held at once.
            async with self._turns, channel.typing(entry.chat_id):
                user = Prepared(entry.text, entry.text)
                if entry.media is not None:
                    user = await self.media.prepare(entry.text, entry.media, channel, entry.chat_id)
                if user.notice is None:
                    if history is None:
                        history = self.load_history(*key)
                    before = len(history)
                    turn = CURRENT_TURN.set(TurnContext(entry.channel, entry.chat_id, entry.user_id))
                    try:
                        result = await self.agent.run_turn(
                            history,
                            user.content,
                            on_text=preview.update if preview else None,
                            **self.extras.turn_options(entry),
                        )
                    finally:
                        CURRENT_TURN.reset(turn)
        except Exception:
            log.exception("failed to handle a message in chat %s:%s", *key)
            self.journal.mark_failed(entry.id, FAILED_NOTICE)
            return None  # reread from disk: a failed turn may have left it half-changed
        finally:
            if preview is not None:  # the outcome's first part is written into the preview
                channel.adopt_preview(entry.chat_id, await preview.finish())
        if user.notice is not None:  # a photo or recording that cannot be used: say why, no LLM call
            self.journal.reply_ready(entry.id, user.notice)
            return history
        if result.new_messages and user.stored is not user.content:
            # The history keeps "[image] caption" / "[voice] transcript", never the image bytes.
            result.new_messages[0] = {"role": "user", "content": user.stored}
        self.extras.spent(entry, result.tokens)
        # The agent dropped old turns in place (context too long): the stored history drops them too.
        trimmed = len(history) < before
        if not result.new_messages:  # the turn failed (LLM unreachable, key refused): its text says why
            self.journal.mark_failed(entry.id, result.reply)
        else:
            self.journal.reply_ready(entry.id, result.reply)
        # Only after the outcome is staged (see the module docstring).
        if not self._store(key, history, result.new_messages, trimmed):
            return None
        return self.sessions.bound(history + result.new_messages)

    def _store(self, key: tuple[str, str], history: list[Message], new: list[Message], trimmed: bool) -> bool:
        """Write the turn to the chat's stored history; False if that failed (logged)."""
        try:
            if trimmed:
                self.sessions.replace(*key, history + new)
            elif new:
                self.sessions.append(*key, new)
        except OSError as exc:  # the outcome is staged: the user still gets it, the history misses the turn
            log.error("could not write the history of chat %s:%s: %s", *key, exc.strerror)
            return False
        return True
