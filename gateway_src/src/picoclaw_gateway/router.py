"""Takes messages in through the delivery journal and routes them to per-chat workers.

`submit` is the channels' `on_message`: it returns only once the message is recorded in the
journal (or refused with a notice), so the platform is acknowledged only for recorded messages.
Each chat has its own queue of journal entry ids and at most one worker task: messages of one
chat get their outcomes in order, while a slow answer in one chat never holds up another. A
chat's history stays in memory only while more of its messages are queued (it is on disk); a
worker exits after it has been idle for a while.
On start, `resume` queues the journal's unfinished entries ahead of anything new.
What an entry does once its turn comes is `core.ChatCore`'s job.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from picoclaw_gateway.channels.base import Channel, IncomingMessage
from picoclaw_gateway.core import ChatCore, command_of
from picoclaw_gateway.delivery.entry import JournalError, JournalFull
from picoclaw_gateway.media.ref import MediaRef

log = logging.getLogger(__name__)

MAX_QUEUED_PER_CHAT = 1000  # a flood of one chat is refused with a notice, a burst is not
BUSY_NOTICE = "Too many messages are waiting for an answer, so I did not take this one. Please send it later."
CANCELLED_NOTICE = "Cancelled by /reset: this message was not answered."
SEND_RESERVE_S = 2.0  # of a shutdown's grace: for sends already under way to finish


@dataclass(frozen=True, slots=True)
class _Received:
    """What the journal records of an incoming message (the channel by its unique name)."""

    channel: str
    chat_id: str
    user_id: str
    text: str
    media: MediaRef | None = None


@dataclass(slots=True)
class _ChatWorker:
    channel: Channel
    queue: collections.deque[int] = field(default_factory=collections.deque)  # journal entry ids
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class ChatRouter:
    def __init__(self, core: ChatCore, channels: Mapping[str, Channel], idle_timeout_s: float = 60.0) -> None:
        self.core = core
        self.journal = core.journal
        self.channels = channels
        self.idle_timeout_s = idle_timeout_s
        self._workers: dict[tuple[str, str], _ChatWorker] = {}
        self._accepting = True
        self._taking = True  # workers start new entries; False once the shutdown grace is spent

    @property
    def active_chats(self) -> int:
        return len(self._workers)

    @property
    def queued(self) -> int:
        return sum(len(worker.queue) for worker in self._workers.values())

    def resume(self) -> int:
        """Queue the journal's unfinished entries, in order per chat; call before channels start."""
        resumed = 0
        for (name, chat_id), entries in self.journal.by_chat().items():
            channel = self.channels.get(name)
            if channel is None:
                # Its channel is no longer configured: no outcome can be sent; do not keep it forever.
                log.warning("dropping %d unfinished messages of channel %s (no longer configured)",
                            len(entries), name)  # fmt: skip
                for entry in entries:
                    if entry.state != "notice":
                        self.journal.mark_failed(entry.id, "channel removed")
                    self.journal.mark_notice_sent(entry.id)
                continue
            worker = self._worker((name, chat_id), channel)
            worker.queue.extend(entry.id for entry in entries)
            worker.wake.set()
            resumed += len(entries)
        return resumed

    async def submit(self, message: IncomingMessage) -> None:
        """Record `message` durably, then queue it. Raises (so the channel does not ack) only
        when the journal cannot be written; a refused message gets a busy notice and returns."""
        key = (message.channel.name, message.chat_id)
        worker = self._workers.get(key)
        if worker is not None and len(worker.queue) >= MAX_QUEUED_PER_CHAT:
            self._refuse(message, f"chat has {MAX_QUEUED_PER_CHAT} queued messages")
            return
        received = _Received(
            message.channel.name, message.chat_id, message.user_id, message.text, message.media
        )
        try:
            entry_id = self.journal.record(received, message.delivery_id)
        except JournalFull as exc:
            self._refuse(message, str(exc))
            return
        if entry_id is None:
            log.info("%s redelivered a message recorded before (id %s): already taken",
                     message.channel.name, message.delivery_id)  # fmt: skip
            return
        if command_of(message.text) == "reset":
            self._cancel_queued(key)
        self.queue(message.channel, message.chat_id, entry_id)

    def queue(self, channel: Channel, chat_id: str, entry_id: int) -> None:
        """Queue a recorded journal entry in its chat (after what that chat has queued already)."""
        if not self._accepting:
            return  # shutting down: recorded, so it is answered after the next start
        worker = self._worker((channel.name, chat_id), channel)
        worker.queue.append(entry_id)
        worker.wake.set()

    def _refuse(self, message: IncomingMessage, reason: str) -> None:
        log.warning("refused a message in chat %s:%s: %s", message.channel.name, message.chat_id, reason)
        message.channel.notify(message.chat_id, BUSY_NOTICE)

    def _cancel_queued(self, key: tuple[str, str]) -> None:
        """/reset: queued messages not yet started get the cancel notice as their outcome."""
        worker = self._workers.get(key)
        for entry_id in worker.queue if worker is not None else ():
            entry = self.journal.get(entry_id)
            if entry is not None and entry.state == "received":  # a staged reply is still sent
                self.journal.mark_failed(entry_id, CANCELLED_NOTICE)

    def _worker(self, key: tuple[str, str], channel: Channel) -> _ChatWorker:
        worker = self._workers.get(key)
        if worker is None:
            worker = self._workers[key] = _ChatWorker(channel)
            worker.task = asyncio.create_task(self._work(key, worker), name=f"chat-{key[0]}-{key[1]}")
        return worker

    async def _work(self, key: tuple[str, str], worker: _ChatWorker) -> None:
        history: list[dict] | None = None
        try:
            while self._taking:
                if not worker.queue:
                    if not self._accepting:
                        return
                    worker.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(worker.wake.wait(), timeout=self.idle_timeout_s)
                    if not worker.queue and self._accepting:  # idle: no await between check and exit
                        return
                    continue
                entry = self.journal.get(worker.queue.popleft())
                if entry is None:
                    continue
                try:
                    history = await self.core.process(entry, worker.channel, history)
                except JournalError as exc:
                    # Not recorded: the entry stays unfinished and is resumed at the next start.
                    log.error("chat %s:%s: %s", *key, exc)
                    history = None  # the turn may be in the stored history already: reread it
                except Exception:
                    log.exception("failed to handle a message in chat %s:%s", *key)
                    history = None
                if not worker.queue:
                    # 200 idle chats x 5 turns of 6 KB replies held ~7 MB of RSS for nothing
                    history = None
        finally:
            if self._workers.get(key) is worker:
                del self._workers[key]

    async def shutdown(self, grace_s: float) -> None:
        """Stop accepting; finish what is queued for up to grace_s, and what is being sent.

        Whatever is left stays in the journal (received, or with its reply staged) and is resumed
        at the next start. A turn in progress is cancelled (its reply was not staged yet); a send
        already under way gets the last SEND_RESERVE_S, so it is not cut mid-request.
        """
        self._accepting = False
        reserve = min(SEND_RESERVE_S, grace_s / 2)
        for worker in self._workers.values():
            worker.wake.set()  # idle workers exit now
        tasks = [w.task for w in self._workers.values() if w.task is not None]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=max(0.0, grace_s - reserve))
            self._taking = False
            for task in pending:
                task.cancel()  # a worker in a send leaves the send running (shielded) in the outbox
            await asyncio.gather(*pending, return_exceptions=True)
        cut = await self.core.outbox.drain(reserve)
        left = len(self.journal.unfinished())
        if left:
            log.info("shutdown: %d messages stay in the journal for the next start (%d sends cut)", left, cut)
