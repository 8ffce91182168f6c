"""Adding, listing and cancelling jobs: what the agent's tool and the /jobs and /cancel commands share."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from picoclaw_gateway.agent.tools.base import ToolError
from picoclaw_gateway.config import ScheduleConfig
from picoclaw_gateway.schedules import timing
from picoclaw_gateway.schedules.requests import new_job
from picoclaw_gateway.schedules.store import MAX_JOBS_TOTAL, Job, JobStore, StoreError

PREVIEW_CHARS = 80


def describe(job: Job) -> str:
    """One line for /jobs and the tool's list: id, schedule, next time, what it does."""
    if job.kind == "at":
        when = "once"
    elif job.kind == "every":
        when = f"every {_duration(int(job.spec))}"
    else:
        when = f"cron '{job.spec}' ({job.tz})"
    text = job.text if len(job.text) <= PREVIEW_CHARS else job.text[: PREVIEW_CHARS - 1] + "…"
    what = "message" if job.action == "message" else "task"
    return f"#{job.id} {when}, next {timing.local(job.next_due, job.tz)} — {what}: {text}"


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


class Schedules:
    def __init__(
        self, store: JobStore, config: ScheduleConfig, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.changed = asyncio.Event()  # the runner recomputes its next wake-up

    def add(self, args: dict[str, Any], chat: tuple[str, str, str]) -> Job:
        channel, chat_id, _user = chat
        if len(self.store.of_chat(channel, chat_id)) >= self.config.max_jobs_per_chat:
            raise ToolError(
                f"this chat already has {self.config.max_jobs_per_chat} scheduled jobs "
                "(schedules.max_jobs_per_chat) — fix: cancel one first (action cancel, or the user sends "
                "/cancel ID)"
            )
        if len(self.store) >= MAX_JOBS_TOTAL:
            raise ToolError(
                f"the gateway holds {MAX_JOBS_TOTAL} scheduled jobs, its limit — fix: cancel some"
            )
        job = new_job(args, self.config, chat, self.clock())
        try:
            stored = self.store.add(job)
        except StoreError as exc:
            raise ToolError(str(exc)) from None
        self.changed.set()
        return stored

    def listing(self, channel: str, chat_id: str) -> str:
        jobs = self.store.of_chat(channel, chat_id)
        now = timing.local(self.clock(), self.config.timezone)
        if not jobs:
            return f"No scheduled jobs in this chat. (Now: {now}.)"
        lines = [describe(job) for job in jobs]
        return f"Scheduled jobs in this chat (now: {now}):\n" + "\n".join(lines)

    def cancel(self, channel: str, chat_id: str, raw_id: object) -> str:
        """Cancel a job of this chat; returns the text for the user or the LLM."""
        text = str(raw_id).strip().lstrip("#")
        if not text.isdigit() or len(text) > 12:
            return f"{str(raw_id)[:20]!r} is not a job id — fix: /cancel ID with an id that /jobs lists"
        job = self.store.get(int(text))
        if job is None or job.chat != (
            channel,
            chat_id,
        ):  # another chat's job is none of this chat's business
            return f"There is no job #{text} in this chat — /jobs lists them."
        try:
            self.store.remove(job.id)
        except StoreError as exc:
            return f"Could not cancel job #{job.id}: {exc}"
        self.changed.set()
        return f"Cancelled job #{job.id}."
