"""API conversations: each caller-given conversation id is its own session ("api" channel).

A turn here is not journaled: the HTTP caller waits for the answer and retries when the gateway
restarted meanwhile (automation tools do). Turns of one conversation run one at a time; all turns,
chat and API alike, share the core's bound on LLM turns in flight.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from picoclaw_gateway.agent.loop import TurnResult
from picoclaw_gateway.channels.base import Channel
from picoclaw_gateway.core import ChatCore

log = logging.getLogger(__name__)

API_CHANNEL = "api"
_PLAIN_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
MIRROR_PROMPT_CHARS = 300


def session_id(conversation: str) -> str:
    """A file-safe session id; ids the session store would mangle are hashed instead, so two ids never
    share a session ("a/b" and "a_b" would): the "x_" prefix cannot occur in a plain id."""
    if _PLAIN_ID.match(conversation):
        return conversation
    return "x_" + hashlib.sha256(conversation.encode("utf-8", "replace")).hexdigest()[:40]


@dataclass(slots=True)
class _Slot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # turns holding or waiting for the lock


class Conversations:
    def __init__(
        self,
        core: ChatCore,
        channels: Mapping[str, Channel] | None = None,
        mirror_channel: str | None = None,
        mirror_chat_id: str | None = None,
    ) -> None:
        self.core = core
        self._locks: dict[str, _Slot] = {}
        self._mirror: tuple[Channel, str] | None = None
        for channel in (channels or {}).values():
            if mirror_channel and channel.config.type == mirror_channel and mirror_chat_id:
                self._mirror = (channel, mirror_chat_id)
                break

    async def turn(self, conversation: str, text: str) -> TurnResult:
        chat_id = session_id(conversation)
        slot = self._locks.get(chat_id)
        if slot is None:
            slot = self._locks[chat_id] = _Slot()
        slot.users += 1
        try:
            async with slot.lock, self.core.turn_slots:
                result = await self._turn(chat_id, text)
        finally:
            slot.users -= 1
            if not slot.users:  # nobody waits: no lock is kept per conversation forever
                del self._locks[chat_id]
        if self._mirror is not None and result.new_messages:
            channel, mirror_chat = self._mirror
            asked = text if len(text) <= MIRROR_PROMPT_CHARS else text[:MIRROR_PROMPT_CHARS] + "…"
            channel.notify(
                mirror_chat, f"[API, conversation {conversation[:64]}]\n> {asked}\n\n{result.reply}"
            )
        return result

    async def _turn(self, chat_id: str, text: str) -> TurnResult:
        sessions = self.core.sessions
        if text.strip().lower() == "/reset":
            sessions.reset(API_CHANNEL, chat_id)
            return TurnResult("History cleared.", [{"role": "assistant", "content": "History cleared."}])
        history = sessions.load(API_CHANNEL, chat_id)
        before = len(history)
        result = await self.core.agent.run_turn(history, text)
        try:
            if len(history) < before:  # the agent dropped old turns (context too long)
                sessions.replace(API_CHANNEL, chat_id, history + result.new_messages)
            elif result.new_messages:
                sessions.append(API_CHANNEL, chat_id, result.new_messages)
        except OSError as exc:
            log.error("could not write the history of API conversation %s: %s", chat_id, exc.strerror)
        return result
