"""The fleet status table, fed with picoclaw_status facts shaped like the gateway role's status entry point."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.picoclaw.stack.plugins.filter.status_table import FilterModule, status_table

NOW = "2026-12-02T12:00:00Z"


def running(host: str = "vps1") -> dict:
    return {
        "host": host,
        "exists": True,
        "state": {
            "Status": "running",
            "StartedAt": "2026-12-02T10:58:30.123456789Z",
            "Health": {"Status": "healthy", "Log": [{"Output": "starting\nready: telegram connected\n"}]},
        },
        "image": "picoclaw-gateway:3f0c1a2b3c4d5e6f",
        "labels": {"org.picoclaw.config-sha256": "5d2e" + "0" * 60},
        "memory_limit": 134217728,
        "stats": {"MemUsage": "61.2MiB / 128MiB", "CPUPerc": "0.31%"},
        "last_error": "2026-12-02 11:00:00 ERROR telegram: poll failed (token ***)",
        "sandbox": {
            "exists": True,
            "state": {"Status": "running", "Health": {"Status": "healthy", "Log": [{"Output": "ok"}]}},
            "stats": {"MemUsage": "9.8MiB / 128MiB"},
        },
    }


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split(" | ")]


def test_running_host_row() -> None:
    header, row = status_table([running()], now=NOW)
    assert cells(header) == [
        "host", "state", "health", "uptime", "rss / limit", "cpu", "image", "config", "sandbox", "last error"
    ]
    assert cells(row) == [
        "vps1",
        "running",
        "healthy (ready: telegram connected)",
        "1h1m",
        "61.2MiB / 128MiB",
        "0.31%",
        "picoclaw-gateway:3f0c1a2b3c4d5e6f",
        "5d2e00000000",
        "running healthy 9.8MiB",
        "2026-12-02 11:00:00 ERROR telegram: poll failed (token ***)",
    ]


def test_stopped_and_missing_hosts_have_no_figures() -> None:
    stopped = running("vps2") | {"state": {"Status": "exited", "StartedAt": "2026-12-02T10:00:00Z"}, "stats": {}}
    missing = {"host": "vps3", "exists": False, "state": {}, "stats": {}, "labels": {}, "last_error": ""}
    row2, row3 = status_table([stopped, missing], now=NOW)[1:]
    assert cells(row2)[1:6] == ["exited", "none", "-", "-", "-"]
    assert cells(row3) == ["vps3", "missing", "-", "-", "-", "-", "-", "-", "-", "-"]


def test_sandbox_cell_shows_a_stopped_or_missing_sandbox() -> None:
    stopped = running() | {"sandbox": {"exists": True, "state": {"Status": "exited"}, "stats": {}}}
    gone = running() | {"sandbox": {"exists": False}}
    assert cells(status_table([stopped], now=NOW)[1])[8] == "exited none"
    assert cells(status_table([gone], now=NOW)[1])[8] == "missing"


def test_columns_line_up() -> None:
    lines = status_table([running("a"), running("a-much-longer-host-name")], now=NOW)
    positions = {tuple(i for i, ch in enumerate(line) if ch == "|")[:9] for line in lines}
    assert len(positions) == 1


def test_uptime_in_days() -> None:
    status = running()
    status["state"] = status["state"] | {"StartedAt": "2026-11-29T09:00:00Z"}
    assert cells(status_table([status], now=NOW)[1])[3] == "3d3h"


def test_bad_input_is_a_filter_error() -> None:
    with pytest.raises(AnsibleFilterError, match="picoclaw_status"):
        status_table([{"state": {}}], now=NOW)
    with pytest.raises(AnsibleFilterError, match="not an ISO 8601"):
        status_table([running()], now="yesterday")


def test_registered() -> None:
    assert FilterModule().filters()["status_table"] is status_table
