"""Fires due jobs into the delivery journal: each occurrence exactly once, across crashes.

An occurrence (job id + due time) becomes one journal entry whose platform delivery id is
"job:<id>:<due>", in this order:
  1. journal.record(...) with that delivery id (and, for a fixed message, reply_ready at once);
  2. the job is moved on to its next due time (or removed, for a one-shot) in the jobs file;
  3. the entry is queued in its chat, where the chat core runs it like any message.
A crash after 1 leaves the job due at the same time: the next start records the occurrence
again, the journal recognizes the delivery id (record returns None) and step 2 follows; the entry
itself is resumed from the journal like any unfinished message. So the journal's guarantee
carries over: every accepted occurrence ends in exactly one message or a plain notice.

An occurrence due before this process started was missed while the gateway was down: it fires
once, marked late, and a recurring job then skips to its next future time. One older than
schedules.missed_grace_s does not fire: a one-shot sends a short notice that it was missed, a
recurring job just moves on.

Fixed messages (and missed-reminder notices) are recorded by delivery.own_messages, with their
text staged at once: they never reach the LLM, even when a crash came between the two writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace

from picoclaw_gateway.channels.base import is_allowed
from picoclaw_gateway.delivery import own_messages
from picoclaw_gateway.delivery.entry import JournalError
from picoclaw_gateway.delivery.journal import Journal
from picoclaw_gateway.router import ChatRouter
from picoclaw_gateway.schedules import timing
from picoclaw_gateway.schedules.service import Schedules
from picoclaw_gateway.schedules.store import Job, StoreError

log = logging.getLogger(__name__)

MAX_SLEEP_S = 30.0  # wake at least this often: a wall-clock jump (NTP, suspend) is noticed soon
RETRY_S = 30.0  # after the journal refused an occurrence (full, disk error)


@dataclass(frozen=True, slots=True)
class _Occurrence:
    channel: str
    chat_id: str
    user_id: str
    text: str


class Runner:
    def __init__(self, schedules: Schedules, journal: Journal, router: ChatRouter) -> None:
        self.schedules = schedules
        self.journal = journal
        self.router = router
        self.started_at = schedules.clock()
        self._retry_at: dict[int, float] = {}

    async def run(self) -> None:
        skipped = {j.channel for j in self.schedules.store.all() if j.channel not in self.router.channels}
        for name in skipped:
            log.warning("scheduled jobs of channel %s wait: that channel is not configured now", name)
        while True:
            now = self.schedules.clock()
            wake = self.fire_due(now)
            delay = MAX_SLEEP_S if wake is None else min(MAX_SLEEP_S, max(0.0, wake - now))
            self.schedules.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.schedules.changed.wait(), delay)

    def fire_due(self, now: float) -> float | None:
        """Fire every occurrence due by `now`; returns when the next one is due (None: no jobs)."""
        upcoming: float | None = None
        for job in sorted(self.schedules.store.all(), key=lambda j: j.next_due):
            channel = self.router.channels.get(job.channel)
            if channel is None:
                continue
            if not is_allowed(channel.config.allowed_users, job.user_id):
                # Its creator was removed from allowed_users: the job must not speak for them.
                log.warning("removing scheduled job #%d: its creator is no longer an allowed user", job.id)
                self.schedules.store.remove(job.id)
                continue
            due_at = max(job.next_due, self._retry_at.get(job.id, 0.0))
            if due_at <= now:
                try:
                    self._fire(job, now)
                    self._retry_at.pop(job.id, None)
                    continue
                except (JournalError, StoreError) as exc:
                    log.error(
                        "scheduled job #%d did not fire: %s; trying again in %.0f s", job.id, exc, RETRY_S
                    )
                    self._retry_at[job.id] = now + RETRY_S
                    due_at = now + RETRY_S
            upcoming = due_at if upcoming is None else min(upcoming, due_at)
        return upcoming

    def _fire(self, job: Job, now: float) -> None:
        due = job.next_due
        late = due < self.started_at
        missed = late and now - due > self.schedules.config.missed_grace_s
        if missed and job.kind != "at":
            log.info("scheduled job #%d missed its run of %s (past the grace); skipping it", job.id, due)
            entry_id = None
        else:
            entry_id = self._record(job, self._text(job, late, missed), f"job:{job.id}:{due:.0f}",
                                    staged=job.action == "message" or missed)  # fmt: skip
        nxt = timing.next_due(job.kind, job.spec, job.tz, due, now)
        if nxt is None:
            self.schedules.store.remove(job.id)
        else:
            self.schedules.store.update(replace(job, next_due=nxt))
        if entry_id is not None:
            self.router.queue(self.router.channels[job.channel], job.chat_id, entry_id)
            log.info("scheduled job #%d fired%s", job.id, " (late)" if late else "")

    def _record(self, job: Job, text: str, delivery_id: str, staged: bool) -> int | None:
        if staged:
            return own_messages.record(self.journal, job.channel, job.chat_id, text, delivery_id)
        return self.journal.record(_Occurrence(job.channel, job.chat_id, job.user_id, text), delivery_id)

    def _text(self, job: Job, late: bool, missed: bool) -> str:
        due = timing.local(job.next_due, job.tz)
        if missed:
            hours = self.schedules.config.missed_grace_s / 3600
            return (
                f"⏰ Missed reminder #{job.id}: it was due {due}, while I was offline for longer than "
                f"{hours:g} h, so it was not sent on time. It said: {job.text}"
            )
        note = f"\n(late: this was due {due}, while I was offline)" if late else ""
        stop = f"\n(repeats — /cancel {job.id} stops it)" if job.kind != "at" else ""
        if job.action == "message":
            return f"⏰ {job.text}{note}{stop}"
        return (
            f"[Scheduled task #{job.id}, due {due}{', late: the gateway was offline then' if late else ''}. "
            "Carry out this instruction now and answer me; do not schedule it again.]\n"
            f"{job.text}"
        )
