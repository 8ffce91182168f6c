"""Routes incoming messages to per-chat workers.

Each chat has its own queue and at most one worker task: messages of one chat are
answered in order, while a slow answer in one chat never holds up another. A worker
exits (and its history is dropped from memory) after it has been idle for a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from picoclaw_gateway.agent.loop import AgentLoop
from picoclaw_gateway.channels.base import Channel, IncomingMessage
from picoclaw_gateway.sessions import SessionStore, bound

log = logging.getLogger(__name__)

HELP_TEXT = (
    "I am your PicoClaw assistant. Send me a message and I will answer, using tools in my "
    "workspace when needed.\n"
    "/reset - forget this chat's history\n"
    "/help - show this help"
)
GREETING = "Hello! I am your PicoClaw assistant. Ask me anything. /help lists the commands."
MAX_QUEUED_PER_CHAT = 1000  # ~0.5 KB each: a flood is bounded, a burst is not dropped


@dataclass(slots=True)
class _ChatWorker:
    queue: asyncio.Queue[IncomingMessage] = field(default_factory=lambda: asyncio.Queue(MAX_QUEUED_PER_CHAT))
    task: asyncio.Task[None] | None = None
    busy: bool = False


def _command(text: str) -> str | None:
    if not text.startswith("/"):
        return None
    word = text.split(maxsplit=1)[0][1:]
    return word.split("@", 1)[0].lower()  # "/reset@MyBot" in groups


class ChatRouter:
    def __init__(
        self,
        agent: AgentLoop,
        sessions: SessionStore,
        channels: dict[str, Channel],
        idle_timeout_s: float = 60.0,
        max_concurrent_turns: int = 4,
    ) -> None:
        self.agent = agent
        self.sessions = sessions
        self.channels = channels
        self.idle_timeout_s = idle_timeout_s
        # Bounds memory and CPU: at most this many LLM turns in flight across all chats.
        self._turns = asyncio.Semaphore(max_concurrent_turns)
        self._workers: dict[tuple[str, str], _ChatWorker] = {}
        self._accepting = True

    @property
    def active_chats(self) -> int:
        return len(self._workers)

    async def submit(self, message: IncomingMessage) -> None:
        if not self._accepting:
            return
        key = (message.channel, message.chat_id)
        worker = self._workers.get(key)
        if worker is None:
            worker = self._workers[key] = _ChatWorker()
            worker.task = asyncio.create_task(self._work(key, worker), name=f"chat-{key[0]}-{key[1]}")
        try:
            worker.queue.put_nowait(message)
        except asyncio.QueueFull:
            # Never await here: this runs inside the channel's receive loop.
            log.warning("chat %s:%s has %d queued messages; dropping a new one", *key, MAX_QUEUED_PER_CHAT)

    async def _work(self, key: tuple[str, str], worker: _ChatWorker) -> None:
        history: list[dict] | None = None
        try:
            while True:
                try:
                    message = await asyncio.wait_for(worker.queue.get(), timeout=self.idle_timeout_s)
                except TimeoutError:
                    if worker.queue.empty():  # no await between check and removal: no lost message
                        return
                    continue
                worker.busy = True
                try:
                    if history is None:
                        history = self.sessions.load(*key)
                    history = await self._handle(message, history)
                except Exception:
                    log.exception("failed to handle a message in chat %s:%s", *key)
                    await self._reply(message, "Sorry, something went wrong while handling that message.")
                finally:
                    worker.busy = False
                    worker.queue.task_done()
                if not self._accepting and worker.queue.empty():
                    return
        finally:
            if self._workers.get(key) is worker:
                del self._workers[key]

    async def _handle(self, message: IncomingMessage, history: list[dict]) -> list[dict]:
        command = _command(message.text)
        key = (message.channel, message.chat_id)
        if command == "reset":
            self.sessions.reset(*key)
            await self._reply(message, "History cleared. Let's start fresh.")
            return []
        if command == "help":
            await self._reply(message, HELP_TEXT)
            return history
        if command == "start":
            await self._reply(message, GREETING)
            return history
        channel = self.channels[message.channel]
        async with self._turns, channel.typing(message.chat_id):
            result = await self.agent.run_turn(history, message.text)
        if result.new_messages:
            self.sessions.append(*key, result.new_messages)
            history = bound(history + result.new_messages, self.sessions.history_limit)
        await self._reply(message, result.reply)
        return history

    async def _reply(self, message: IncomingMessage, text: str) -> None:
        try:
            await self.channels[message.channel].send(message.chat_id, text)
        except Exception:
            log.exception("could not send a reply to chat %s:%s", message.channel, message.chat_id)

    async def shutdown(self, grace_s: float) -> None:
        """Stop accepting, let workers finish what is queued for up to grace_s, then cancel."""
        self._accepting = False
        tasks = [w.task for w in self._workers.values() if w.task is not None]
        for worker in self._workers.values():
            if worker.queue.empty() and not worker.busy and worker.task is not None:
                # idle worker waiting on get(): nothing to finish
                worker.task.cancel()
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=grace_s)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
