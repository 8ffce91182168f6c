"""A new job from the LLM's tool arguments: untrusted input, checked field by field.

Every problem is a ToolError whose text the LLM reads: what is wrong — fix: what to send instead.
"""

from __future__ import annotations

from typing import Any

from picoclaw_gateway.agent.tools.base import ToolError
from picoclaw_gateway.config import ScheduleConfig
from picoclaw_gateway.schedules import timing
from picoclaw_gateway.schedules.store import Job

WHEN_KEYS = ("at", "in_seconds", "every_seconds", "cron")
ADD_KEYS = ("action", "message", "prompt", "timezone", *WHEN_KEYS)


def _int(args: dict[str, Any], key: str) -> int:
    value = args[key]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolError(
            f"{key} must be a whole number of seconds, got {type(value).__name__} — fix: write e.g. 3600 "
            "without quotes"
        )
    return value


def _str(args: dict[str, Any], key: str, max_chars: int) -> str:
    value = args[key]
    if not isinstance(value, str) or not value.strip():
        raise ToolError(f"{key} must be a non-empty string — fix: write the text in double quotes")
    if len(value) > max_chars:
        raise ToolError(f"{key} is {len(value)} characters, at most {max_chars} — fix: shorten it")
    if "\x00" in value:
        raise ToolError(f"{key} contains a NUL character — fix: remove it")
    return value.strip()


def _timezone(args: dict[str, Any], default: str) -> str:
    if args.get("timezone") in (None, ""):
        return default
    name = _str(args, "timezone", 64)
    try:
        timing.zone(name)
    except timing.TimingError as exc:
        raise ToolError(str(exc)) from None
    return name


def _what(args: dict[str, Any], config: ScheduleConfig) -> tuple[str, str]:
    given = [key for key in ("message", "prompt") if args.get(key) is not None]
    if len(given) != 1:
        raise ToolError(
            "the job needs exactly one of 'message' and 'prompt' — fix: give 'message' (text sent as it is "
            "when the job fires) or 'prompt' (an instruction you carry out when it fires)"
        )
    key = given[0]
    return ("message" if key == "message" else "agent"), _str(args, key, config.max_text_chars)


def _when(args: dict[str, Any], config: ScheduleConfig, tz: str, now: float) -> tuple[str, str, float]:
    given = [key for key in WHEN_KEYS if args.get(key) is not None]
    if len(given) != 1:
        raise ToolError(
            f"the job needs exactly one time, got {', '.join(given) or 'none'} — fix: give one of 'at' "
            "(ISO date-time), 'in_seconds' (delay), 'every_seconds' (interval) or 'cron' (5 fields)"
        )
    key = given[0]
    horizon = timing.MAX_HORIZON_S
    if key == "in_seconds":
        delay = _int(args, key)
        if not 1 <= delay <= horizon:
            raise ToolError(
                f"in_seconds must be from 1 to {horizon}, got {delay} — fix: a delay in that range"
            )
        return "at", timing.local(now + delay, tz), now + delay
    if key == "every_seconds":
        every = _int(args, key)
        if not config.min_interval_s <= every <= horizon:
            raise ToolError(
                f"every_seconds must be from {config.min_interval_s} (schedules.min_interval_s) to "
                f"{horizon}, got {every} — fix: use a longer interval"
            )
        return "every", str(every), now + every
    try:
        if key == "at":
            text = _str(args, key, 64)
            due = timing.parse_at(text, tz)
            if due <= now:
                raise ToolError(
                    f"at {text!r} is in the past (now it is {timing.local(now, tz)}) — fix: give a "
                    "future time, or use in_seconds"
                )
            if due - now > horizon:
                raise ToolError(
                    f"at {text!r} is more than {horizon // 86400} days away — fix: an earlier time"
                )
            return "at", text, due
        expr = " ".join(_str(args, key, 100).split())
        timing.check_cron(expr)
        first = timing.cron_after(expr, tz, now)
    except timing.TimingError as exc:
        raise ToolError(str(exc)) from None
    if first is None or first - now > horizon:
        raise ToolError(
            f"cron {expr!r} never fires in the next {horizon // 86400} days — fix: check the fields"
        )
    gap = timing.shortest_gap(expr, tz, now)
    if gap < config.min_interval_s:
        minutes = max(5, config.min_interval_s // 60)
        raise ToolError(
            f"cron {expr!r} fires every {gap:.0f} s, more often than schedules.min_interval_s "
            f"({config.min_interval_s} s) allows — fix: e.g. '*/{minutes} * * * *'"
        )
    return "cron", expr, first


def new_job(args: dict[str, Any], config: ScheduleConfig, chat: tuple[str, str, str], now: float) -> Job:
    """The job `args` ask for in `chat` (channel, chat id, user id); its id is given by the store."""
    unknown = sorted(str(key) for key in args if key not in ADD_KEYS)
    if unknown:
        raise ToolError(
            f"unknown argument(s) {', '.join(unknown)} for action add — fix: use only {', '.join(ADD_KEYS)}"
        )
    tz = _timezone(args, config.timezone)
    action, text = _what(args, config)
    kind, spec, due = _when(args, config, tz, now)
    channel, chat_id, user_id = chat
    return Job(0, channel, chat_id, user_id, kind, spec, tz, action, text, now, due)
