"""What one chat message does: a command (/reset, /help, /start) or an agent turn.

The small wiring between a channel, the agent and the chat's stored history; the router
(`router.py`) decides when a message's turn comes.
"""

from __future__ import annotations

import asyncio
import logging

from picoclaw_gateway.agent.loop import AgentLoop
from picoclaw_gateway.channels.base import IncomingMessage
from picoclaw_gateway.sessions import SessionStore

log = logging.getLogger(__name__)

HELP_TEXT = (
    "I am your PicoClaw assistant. Send me a message and I will answer, using tools in my "
    "workspace when needed.\n"
    "/reset - forget this chat's history\n"
    "/help - show this help"
)
GREETING = "Hello! I am your PicoClaw assistant. Ask me anything. /help lists the commands."


def command_of(text: str) -> str | None:
    if not text.startswith("/"):
        return None
    word = text.split(maxsplit=1)[0][1:]
    return word.split("@", 1)[0].lower()  # "/reset@MyBot" in groups


class ChatCore:
    def __init__(self, agent: AgentLoop, sessions: SessionStore, max_concurrent_turns: int = 4) -> None:
        self.agent = agent
        self.sessions = sessions
        # Bounds memory and CPU: at most this many LLM turns in flight across all chats.
        self._turns = asyncio.Semaphore(max_concurrent_turns)

    def load_history(self, channel: str, chat_id: str) -> list[dict]:
        return self.sessions.load(channel, chat_id)

    async def handle(self, message: IncomingMessage, history: list[dict] | None) -> list[dict] | None:
        """Answer `message`; returns the chat's history after it. `history` None: not in memory,
        loaded from disk once this turn may run (so chats waiting for a turn hold none)."""
        command = command_of(message.text)
        key = (message.channel.name, message.chat_id)
        if command == "reset":
            self.sessions.reset(*key)
            await self.reply(message, "History cleared. Let's start fresh.")
            return []
        if command == "help":
            await self.reply(message, HELP_TEXT)
            return history
        if command == "start":
            await self.reply(message, GREETING)
            return history
        async with self._turns, message.channel.typing(message.chat_id):
            if history is None:
                history = self.load_history(*key)
            before = len(history)
            result = await self.agent.run_turn(history, message.text)
        if len(history) < before:  # the agent dropped old turns (context too long): on disk too
            self.sessions.replace(*key, history + result.new_messages)
        elif result.new_messages:
            self.sessions.append(*key, result.new_messages)
        history = self.sessions.bound(history + result.new_messages)
        await self.reply(message, result.reply)
        return history

    async def reply(self, message: IncomingMessage, text: str) -> None:
        try:
            await message.channel.send(message.chat_id, text)
        except Exception:
            log.exception("could not send a reply to chat %s:%s", message.channel.name, message.chat_id)
