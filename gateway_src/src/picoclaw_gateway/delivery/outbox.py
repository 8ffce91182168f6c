"""Sends a journaled outcome (a staged reply or a notice) and records each step the platform accepts.

The order of each step is what makes the delivery guarantee (docs/delivery.md):
- a reply is sent part by part; each accepted part but the last is recorded (`mark_part_sent`),
  the last one finishes the entry (`mark_sent`), so a resumed send starts at the first part not
  recorded and a duplicate is possible only for the one part in flight when the process died;
- a transient failure (network, 5xx, 429 beyond the channel's own retries) keeps the entry
  unfinished and tries again with backoff: the chat's later messages wait, order is kept;
- a permanent refusal (chat gone, bot blocked) turns a reply into a notice; a refused notice
  finishes the entry, logged, because no outcome can ever reach that chat.

Each delivery runs as its own task shielded from the chat worker's cancellation: at shutdown a
send that already started is finished (within `drain`'s budget) instead of being cut mid-request,
which is the duplicate window.
"""

from __future__ import annotations

import asyncio
import logging

from picoclaw_gateway.channels.base import Channel, backoff
from picoclaw_gateway.delivery.entry import Entry, JournalError
from picoclaw_gateway.delivery.journal import Journal

log = logging.getLogger(__name__)

UNDELIVERABLE_NOTICE = "Sorry, the platform refused my answer to your message, so it could not be delivered."


class Outbox:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._in_flight: set[asyncio.Task[None]] = set()

    async def deliver(self, entry: Entry, channel: Channel) -> None:
        """Send the entry's outcome until the platform accepted it (or refused it for good)."""
        task = asyncio.ensure_future(self._deliver(entry.id, channel))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        await asyncio.shield(task)

    async def drain(self, timeout_s: float) -> int:
        """Let sends in flight finish for up to timeout_s, then cancel them; returns how many were cut."""
        tasks = list(self._in_flight)
        if not tasks:
            return 0
        _done, pending = await asyncio.wait(tasks, timeout=max(0.0, timeout_s))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return len(pending)

    async def _deliver(self, entry_id: int, channel: Channel) -> None:
        failures = 0
        while (entry := self.journal.get(entry_id)) is not None:
            try:
                if entry.state == "reply":
                    await self._send_reply(entry, channel)
                else:
                    await channel.send(entry.chat_id, entry.notice or "")
                    self.journal.mark_notice_sent(entry_id)
                return
            except JournalError:
                raise  # the step was not recorded: the entry is resumed at the next start
            except Exception as exc:
                if not channel.rejected(exc):
                    failures += 1
                    delay = backoff(failures)
                    log.warning(
                        "could not send to chat %s:%s (%s); the answer waits, trying again in %.1f s",
                        channel.name,
                        entry.chat_id,
                        type(exc).__name__,
                        delay,
                    )
                    await asyncio.sleep(delay)
                    continue
                # No content in the log: only what failed and where.
                log.warning(
                    "%s refused the %s for chat %s (%s)",
                    channel.name,
                    entry.state,
                    entry.chat_id,
                    type(exc).__name__,
                )
                if entry.state == "reply":
                    self.journal.mark_failed(entry_id, UNDELIVERABLE_NOTICE)
                else:
                    self.journal.mark_notice_sent(entry_id)  # no outcome can reach this chat: finished

    async def _send_reply(self, entry: Entry, channel: Channel) -> None:
        reply = entry.reply or ""
        total = len(channel.parts(reply))

        def part_sent(count: int) -> None:
            if count < total:  # the last part is recorded by mark_sent
                self.journal.mark_part_sent(entry.id, count)

        await channel.send(entry.chat_id, reply, skip_parts=entry.parts_sent, on_part_sent=part_sent)
        self.journal.mark_sent(entry.id)
