# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Format the fleet's gateway status (one line per host) as a plain-text table."""

from __future__ import annotations

DOCUMENTATION = r"""
name: status_table
short_description: The PicoClaw fleet status as a table, one row per host
version_added: 0.1.0
author: PicoClaw maintainers (!UNKNOWN)
description:
  - Takes the C(picoclaw_status) facts the gateway role's C(status) entry point sets on each host (the
    container's C(State), image, labels, memory limit, one C(docker stats) sample and the last error line,
    secrets already masked) and returns the lines of a table with the columns host, state, health, uptime,
    RSS / limit, CPU, image, config (sha256 of config.json, 12 characters), sandbox (the tools sandbox
    container's state, health and RSS from its own C(sandbox) entry) and last error.
options:
  _input:
    description: The C(picoclaw_status) dicts, one per host.
    type: list
    elements: dict
    required: true
  now:
    description: Current time as an ISO 8601 UTC string (for the uptime); default the controller's clock.
    type: str
    required: false
"""

EXAMPLES = r"""
- name: Print the fleet status
  ansible.builtin.debug:
    msg: "{{ ansible_play_hosts_all | map('extract', hostvars, 'picoclaw_status') | picoclaw.stack.status_table }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The table's lines, a header then one row per host; columns separated by C( | ).
  type: list
  elements: str
"""

from datetime import datetime, timezone

from ansible.errors import AnsibleFilterError

COLUMNS = ("host", "state", "health", "uptime", "rss / limit", "cpu", "image", "config", "sandbox", "last error")
# Docker's unset StartedAt.
_NEVER = "0001-01-01"


def _parse_time(value: str) -> datetime | None:
    """Docker's RFC 3339 with nanoseconds, cut to seconds (fromisoformat takes at most microseconds)."""
    if not value or value.startswith(_NEVER):
        return None
    try:
        return datetime.fromisoformat(value[:19]).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes}m"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def _health(state: dict) -> str:
    health = state.get("Health") or {}
    status = health.get("Status") or ("none" if state else "-")
    log = health.get("Log") or []
    reason = str(log[-1].get("Output", "")).strip().splitlines() if log else []
    return f"{status} ({reason[-1]})" if reason else status


def _rss(stats: dict, limit: object) -> str:
    usage = str(stats.get("MemUsage", "")).split("/", maxsplit=1)[0].strip()
    try:
        limit_mib = f"{int(limit) / 1048576:.0f}MiB" if int(limit) else "none"
    except (TypeError, ValueError):
        limit_mib = "-"
    return f"{usage or '-'} / {limit_mib}"


def _sandbox(sandbox: object) -> str:
    """The tools sandbox container in one cell: state, health (no reason) and RSS, e.g. running healthy 9.8MiB."""
    if not isinstance(sandbox, dict) or not sandbox.get("exists"):
        return "missing"
    state = sandbox.get("state") or {}
    status = str(state.get("Status", "-"))
    health = str((state.get("Health") or {}).get("Status") or "none")
    if status != "running":
        return f"{status} {health}"
    usage = str((sandbox.get("stats") or {}).get("MemUsage", "")).split("/", maxsplit=1)[0].strip()
    return f"{status} {health} {usage or '-'}"


def _row(status: dict, now: datetime) -> list:
    if not isinstance(status, dict) or "host" not in status:
        raise AnsibleFilterError(f"status_table: expected picoclaw_status dicts, got {status!r:.80}")
    state = status.get("state") or {}
    started = _parse_time(str(state.get("StartedAt", "")))
    running = state.get("Status") == "running"
    uptime = _duration((now - started).total_seconds()) if running and started else "-"
    stats = status.get("stats") or {}
    labels = status.get("labels") or {}
    return [
        str(status["host"]),
        str(state.get("Status", "missing")) if status.get("exists") else "missing",
        _health(state),
        uptime,
        _rss(stats, status.get("memory_limit")) if running else "-",
        str(stats.get("CPUPerc", "-")) if running else "-",
        str(status.get("image") or "-"),
        str(labels.get("org.picoclaw.config-sha256", ""))[:12] or "-",
        _sandbox(status.get("sandbox")) if status.get("exists") else "-",
        str(status.get("last_error") or "-"),
    ]


def status_table(statuses: list, now: str | None = None) -> list:
    if not isinstance(statuses, list):
        raise AnsibleFilterError("status_table: expected a list of picoclaw_status dicts")
    when = _parse_time(now) if now else datetime.now(timezone.utc)
    if when is None:
        raise AnsibleFilterError(f"status_table: now={now!r} is not an ISO 8601 time")
    rows = [list(COLUMNS)] + [_row(status, when) for status in statuses]
    # The last column is free text: no padding after it.
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    return [" | ".join([cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]).rstrip() for row in rows]


class FilterModule:
    def filters(self) -> dict:
        return {"status_table": status_table}
