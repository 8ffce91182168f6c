"""The normalized schedules section (reminders and recurring jobs the agent creates).

Stack dialect: "schedules": {...}. Upstream PicoClaw has tools.cron: its "enabled" maps to
schedules.enabled; its "exec_timeout_minutes" bounds the shell commands its jobs run, which this
gateway's jobs never do (a job sends a message or runs an agent turn), so it is ignored with a warning.
"""

from __future__ import annotations

import re

from .checker import Checker, child, show
from .schema import DEFAULTS, SCHEDULES_KEYS

UPSTREAM_CRON_KEYS = ("enabled", "exec_timeout_minutes")
# Area/Location[/Sub] or a single word (UTC, GMT, EST5EDT): what an IANA name looks like.
_TZ_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$")
_TZ_FIX = 'write an IANA time zone name, e.g. "Europe/Berlin", "America/New_York" or "UTC"'


def timezone_problem(name: str) -> str | None:
    """Why `name` is not a usable IANA time zone, or None. Python 3.8 (no zoneinfo) and hosts
    without time zone data check the form only: the gateway image carries the data."""
    if not _TZ_NAME.match(name):
        return f"{show(name)} is not an IANA time zone name"
    try:
        import zoneinfo  # Python >= 3.9
    except ImportError:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        try:
            zoneinfo.ZoneInfo("UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            return None  # no time zone data on this host: the form was checked
        return f"unknown time zone {show(name)}"
    return None


def _timezone(ck: Checker, section: dict, path: str) -> str:
    raw = ck.string(section, "timezone", path, example="Europe/Berlin")
    if raw is None:
        return DEFAULTS["schedules_timezone"]
    problem = timezone_problem(raw)
    if problem:
        ck.err(child(path, "timezone"), problem, _TZ_FIX)
        return DEFAULTS["schedules_timezone"]
    return raw


def _defaults() -> dict:
    return {
        "enabled": DEFAULTS["schedules_enabled"],
        "timezone": DEFAULTS["schedules_timezone"],
        "max_jobs_per_chat": DEFAULTS["schedules_max_jobs_per_chat"],
        "min_interval_s": DEFAULTS["schedules_min_interval_s"],
        "missed_grace_s": DEFAULTS["schedules_missed_grace_s"],
        "max_text_chars": DEFAULTS["schedules_max_text_chars"],
    }


def build_schedules(ck: Checker, data: dict) -> dict:
    path = "$.schedules"
    section = ck.obj(data, "schedules", "$") or {}
    ck.unknown_keys(section, SCHEDULES_KEYS, path)
    return {
        "enabled": ck.boolean(section, "enabled", path, DEFAULTS["schedules_enabled"]),
        "timezone": _timezone(ck, section, path),
        "max_jobs_per_chat": ck.integer(
            section, "max_jobs_per_chat", path, 1, 500, DEFAULTS["schedules_max_jobs_per_chat"]
        ),
        # Below a minute a recurring job is a spam loop (and an LLM bill when it runs agent turns).
        "min_interval_s": ck.integer(
            section, "min_interval_s", path, 60, 366 * 86400, DEFAULTS["schedules_min_interval_s"]
        ),
        "missed_grace_s": ck.integer(
            section, "missed_grace_s", path, 0, 366 * 86400, DEFAULTS["schedules_missed_grace_s"]
        ),
        "max_text_chars": ck.integer(
            section, "max_text_chars", path, 10, 10000, DEFAULTS["schedules_max_text_chars"]
        ),
    }


def upstream_schedules(ck: Checker, data: dict) -> dict:
    """Upstream tools.cron.enabled; everything else keeps the stack defaults."""
    out = _defaults()
    tools = data.get("tools") if isinstance(data, dict) else None
    if not isinstance(tools, dict):
        return out
    path = "$.tools.cron"
    cron = ck.obj(tools, "cron", "$.tools") or {}
    ck.ignored(cron, UPSTREAM_CRON_KEYS, path, "upstream cron setting")
    if "exec_timeout_minutes" in cron:
        ck.warn(
            child(path, "exec_timeout_minutes"),
            "is ignored: scheduled jobs here send a message or run an agent turn, never a shell command",
            "remove it (tools.exec.timeout_s bounds the commands an agent turn runs)",
        )
    out["enabled"] = ck.boolean(cron, "enabled", path, DEFAULTS["schedules_enabled"])
    return out
