"""The small interface every chat channel implements."""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    channel: str  # channel type, e.g. "telegram"
    chat_id: str
    user_id: str
    text: str


OnMessage = Callable[[IncomingMessage], Awaitable[None]]


class Channel(abc.ABC):
    name: str

    def __init__(self) -> None:
        self.ready = False
        self.not_ready_reason = "starting"

    def set_ready(self) -> None:
        self.ready = True
        self.not_ready_reason = ""

    def set_not_ready(self, reason: str) -> None:
        self.ready = False
        self.not_ready_reason = reason

    @abc.abstractmethod
    async def run(self, on_message: OnMessage) -> None:
        """Connect and deliver authorized messages to `on_message` until stop() is called."""

    @abc.abstractmethod
    async def send(self, chat_id: str, text: str) -> None:
        """Send a reply (split to the platform limit, in order)."""

    @abc.abstractmethod
    def typing(self, chat_id: str) -> AbstractAsyncContextManager[None]:
        """Show a typing indicator while the body runs."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop receiving and release connections."""
