"""Reminders and recurring jobs: the agent's `schedule` tool, /jobs and /cancel, and the runner.

Jobs live in the state directory (store.py); each occurrence is delivered through the delivery
journal (runner.py). Nothing here is imported unless schedules.enabled is true.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from picoclaw_gateway.config import ScheduleConfig
from picoclaw_gateway.core import Command
from picoclaw_gateway.delivery.entry import Entry
from picoclaw_gateway.delivery.journal import Journal
from picoclaw_gateway.router import ChatRouter
from picoclaw_gateway.schedules.runner import Runner
from picoclaw_gateway.schedules.service import Schedules
from picoclaw_gateway.schedules.store import JobStore
from picoclaw_gateway.schedules.tool import ScheduleTool

log = logging.getLogger(__name__)


class ScheduleFeature:
    """What app.py wires: the tool for the agent, the commands for the core, the runner task."""

    def __init__(self, config: ScheduleConfig, state_dir: Path) -> None:
        self.schedules = Schedules(JobStore(state_dir), config)
        self.tool = ScheduleTool(self.schedules)
        self.commands = {
            "jobs": Command("/jobs - list this chat's reminders and scheduled jobs", self._jobs),
            "cancel": Command("/cancel ID - cancel a scheduled job", self._cancel),
        }
        self._task: asyncio.Task[None] | None = None

    def _jobs(self, entry: Entry) -> str:
        return self.schedules.listing(entry.channel, entry.chat_id)

    def _cancel(self, entry: Entry) -> str:
        words = entry.text.split()
        if len(words) != 2:
            return "Usage: /cancel ID (/jobs lists the ids)"
        return self.schedules.cancel(entry.channel, entry.chat_id, words[1])

    def start(self, journal: Journal, router: ChatRouter) -> None:
        """Before router.resume(): the runner's first pass (late jobs) then runs once the resumed
        entries are queued ahead of it."""
        runner = Runner(self.schedules, journal, router)
        pending = len(self.schedules.store)
        if pending:
            log.info("%d scheduled jobs pending", pending)
        self._task = asyncio.create_task(runner.run(), name="schedules")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
