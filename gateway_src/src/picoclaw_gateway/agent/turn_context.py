"""Which chat the agent turn in progress serves, for tools that act on that chat (schedules).

The chat core sets it around each turn. Each chat's worker is its own asyncio task, and a
ContextVar is per task, so concurrent turns of different chats never see each other's value.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TurnContext:
    channel: str  # the channel's unique name in this gateway
    chat_id: str
    user_id: str


CURRENT_TURN: ContextVar[TurnContext | None] = ContextVar("picoclaw_current_turn", default=None)
