"""When a job fires: one-shot times, fixed intervals and cron expressions in an IANA time zone.

Times are stored as Unix timestamps (UTC); a time zone only matters for cron expressions and for
reading and showing local times. Cron expressions are evaluated by cronsim (imported on first
use), which follows Debian cron across DST changes: a time that does not exist on the day clocks
go forward fires at the first minute after the gap, a time that happens twice fires once.
"""

from __future__ import annotations

import itertools
import math
from datetime import datetime, tzinfo

KINDS = ("at", "every", "cron")
MAX_HORIZON_S = 2 * 366 * 86400  # a first occurrence further out than this is refused


class TimingError(ValueError):
    """The schedule cannot be used; the message says what is wrong and the fix."""


def zone(name: str) -> tzinfo:
    """The IANA zone `name` (zoneinfo caches zones: calling this per use costs a dict lookup)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise TimingError(
            f"unknown time zone {name!r} — fix: use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from None


def local(ts: float, tz_name: str) -> str:
    """A timestamp as people read it: '2026-12-24 09:00 CET'."""
    moment = datetime.fromtimestamp(ts, zone(tz_name))
    return moment.strftime("%Y-%m-%d %H:%M ") + (moment.tzname() or tz_name)


def parse_at(text: str, tz_name: str) -> float:
    """ISO 8601 date-time; without an offset it is local time in `tz_name`."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TimingError(
            f"'at' {text[:40]!r} is not an ISO 8601 date-time — fix: write e.g. '2026-12-24T09:00' "
            "(local time in the job's time zone) or '2026-12-24T09:00+01:00'"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz_name))
    return moment.timestamp()


def check_cron(expr: str) -> None:
    """A standard 5-field expression (minute hour day-of-month month day-of-week)."""
    from cronsim import CronSim, CronSimError

    if len(expr.split()) != 5:
        raise TimingError(
            f"cron {expr[:60]!r} needs exactly 5 fields (minute hour day-of-month month day-of-week) "
            "— fix: e.g. '0 9 * * MON-FRI' for 09:00 on weekdays"
        )
    try:
        CronSim(expr, datetime(2026, 1, 1))
    except CronSimError as exc:
        raise TimingError(f"cron {expr[:60]!r} is not valid: {exc} — fix: e.g. '30 8 * * *'") from None


def cron_after(expr: str, tz_name: str, after: float) -> float | None:
    """The first time strictly after `after` that `expr` matches in `tz_name`; None if none soon."""
    from cronsim import CronSim

    start = datetime.fromtimestamp(after, zone(tz_name))
    try:
        return next(CronSim(expr, start)).timestamp()
    except StopIteration:  # e.g. 30 February: never
        return None


def every_after(first: float, every_s: int, after: float) -> float:
    """The first of first, first + every_s, ... strictly after `after` (missed ones are skipped)."""
    if first > after:
        return first
    steps = math.floor((after - first) / every_s) + 1
    return first + steps * every_s


def next_due(kind: str, spec: str, tz_name: str, due: float, now: float) -> float | None:
    """After an occurrence due at `due` fired at `now`: when the job fires next (None: never)."""
    if kind == "at":
        return None
    if kind == "every":
        return every_after(due, int(spec), max(due, now))
    return cron_after(spec, tz_name, max(due, now))


def shortest_gap(expr: str, tz_name: str, now: float, samples: int = 24) -> float:
    """The shortest time between the next `samples` occurrences of `expr` (for min_interval_s)."""
    times: list[float] = []
    after = now
    for _ in range(samples):
        nxt = cron_after(expr, tz_name, after)
        if nxt is None:
            break
        times.append(nxt)
        after = nxt
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return min(gaps) if gaps else math.inf
