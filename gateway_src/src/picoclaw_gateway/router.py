"""Routes incoming messages to per-chat workers.

Each chat has its own queue and at most one worker task: messages of one chat are
answered in order, while a slow answer in one chat never holds up another. A chat's history
stays in memory only while more of its messages are queued (it is on disk); a worker exits
after it has been idle for a while.
What a message does once its turn comes is `core.ChatCore`'s job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from picoclaw_gateway.channels.base import IncomingMessage
from picoclaw_gateway.core import ChatCore

log = logging.getLogger(__name__)

MAX_QUEUED_PER_CHAT = 1000  # ~0.5 KB each: a flood is bounded, a burst is not dropped


@dataclass(slots=True)
class _ChatWorker:
    queue: asyncio.Queue[IncomingMessage] = field(default_factory=lambda: asyncio.Queue(MAX_QUEUED_PER_CHAT))
    task: asyncio.Task[None] | None = None
    busy: bool = False


def chat_key(message: IncomingMessage) -> tuple[str, str]:
    """(channel name, chat id): channel names are unique within a gateway."""
    return message.channel.name, message.chat_id


class ChatRouter:
    def __init__(self, core: ChatCore, idle_timeout_s: float = 60.0) -> None:
        self.core = core
        self.idle_timeout_s = idle_timeout_s
        self._workers: dict[tuple[str, str], _ChatWorker] = {}
        self._accepting = True

    @property
    def active_chats(self) -> int:
        return len(self._workers)

    async def submit(self, message: IncomingMessage) -> None:
        if not self._accepting:
            return
        key = chat_key(message)
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
                    history = await self.core.handle(message, history)
                    if worker.queue.empty():
                        # 200 idle chats x 5 turns of 6 KB replies held ~7 MB of RSS for nothing
                        history = None
                except Exception:
                    log.exception("failed to handle a message in chat %s:%s", *key)
                    await self.core.reply(message, "Sorry, something went wrong while handling that message.")
                finally:
                    worker.busy = False
                    worker.queue.task_done()
                if not self._accepting and worker.queue.empty():
                    return
        finally:
            if self._workers.get(key) is worker:
                del self._workers[key]

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
