"""The agent's `schedule` tool: add, list and cancel this chat's reminders and recurring jobs.

It runs in the gateway (not the tools sandbox): it changes only the jobs file in the state
directory, and only the jobs of the chat whose turn is running (agent.turn_context).
"""

from __future__ import annotations

from typing import Any, ClassVar

from picoclaw_gateway.agent.tools.base import Tool, ToolError
from picoclaw_gateway.agent.turn_context import CURRENT_TURN
from picoclaw_gateway.schedules import timing
from picoclaw_gateway.schedules.service import Schedules, describe


class ScheduleTool(Tool):
    name = "schedule"
    description = (
        "Reminders and recurring jobs for this chat. action=add with exactly one of: in_seconds (delay), "
        "at (ISO date-time, local to timezone), every_seconds (interval) or cron (5 fields, e.g. "
        "'0 9 * * MON-FRI'); and exactly one of: message (sent as is when due) or prompt (an instruction "
        "you carry out when due, your answer is sent). action=list shows this chat's jobs and the current "
        "time (call it before using 'at' if you do not know today's date). action=cancel with id."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": ["add", "list", "cancel"]},
            "message": {"type": "string", "description": "text to send when due"},
            "prompt": {"type": "string", "description": "instruction to carry out when due"},
            "in_seconds": {"type": "integer", "description": "fire once, this many seconds from now"},
            "at": {"type": "string", "description": "fire once at this time, e.g. 2026-12-24T09:00"},
            "every_seconds": {"type": "integer", "description": "fire repeatedly at this interval"},
            "cron": {"type": "string", "description": "minute hour day-of-month month day-of-week"},
            "timezone": {"type": "string", "description": "IANA zone for at/cron, default from config"},
            "id": {"type": "integer", "description": "job id to cancel"},
        },
        "required": ["action"],
    }

    def __init__(self, schedules: Schedules) -> None:
        self.schedules = schedules

    async def run(self, args: dict[str, Any]) -> str:
        turn = CURRENT_TURN.get()
        if turn is None:
            raise ToolError("scheduling works only in a chat — fix: ask from the chat the job is for")
        action = args.get("action")
        if action == "list":
            return self.schedules.listing(turn.channel, turn.chat_id)
        if action == "cancel":
            if args.get("id") is None:
                raise ToolError("action cancel needs id — fix: action=list shows the ids")
            return self.schedules.cancel(turn.channel, turn.chat_id, args["id"])
        if action != "add":
            raise ToolError(f"action {str(action)[:20]!r} is unknown — fix: use add, list or cancel")
        job = self.schedules.add(args, (turn.channel, turn.chat_id, turn.user_id))
        now = self.schedules.clock()
        return (
            f"Scheduled {describe(job)} (in {_until(job.next_due - now)}). "
            f"The user can see it with /jobs and stop it with /cancel {job.id}. "
            f"Now: {timing.local(now, job.tz)}."
        )


def _until(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"
