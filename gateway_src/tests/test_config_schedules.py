"""The schedules section: defaults, bounds, time zones, upstream tools.cron; path-and-fix problems."""

from __future__ import annotations

from typing import Any

import pytest

from picoclaw_gateway.config import ScheduleConfig, from_normalized
from picoclaw_gateway.config_validator import validate
from picoclaw_gateway.config_validator.schedules_section import timezone_problem

TG_TOKEN = "123456789:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"
STACK = {
    "llm": {"provider": "openrouter", "api_key": "sk-or-v1-" + "0" * 64, "model": "openai/gpt-4o-mini"},
    "channel": {"type": "telegram", "token": TG_TOKEN, "allowed_users": [123456789]},
}
UPSTREAM = {
    "agents": {"defaults": {"model": "openai/gpt-4o-mini"}},
    "providers": {"openrouter": {"api_key": "sk-or-v1-" + "0" * 64}},
    "channels": {"telegram": {"enabled": True, "token": TG_TOKEN, "allow_from": ["123456789"]}},
}


def problems(config: dict[str, Any]) -> tuple[list[str], list[str]]:
    result = validate(config)
    return [str(e) for e in result.errors], [str(w) for w in result.warnings]


def test_every_key_reaches_the_runtime_config() -> None:
    section = {
        "enabled": False,
        "timezone": "Europe/Berlin",
        "max_jobs_per_chat": 5,
        "min_interval_s": 900,
        "missed_grace_s": 0,
        "max_text_chars": 500,
    }
    result = validate({**STACK, "schedules": section})
    assert result.valid and result.normalized is not None, [str(e) for e in result.errors]
    assert from_normalized(result.normalized, "/tmp/ws").schedules == ScheduleConfig(
        False, "Europe/Berlin", 5, 900, 0, 500
    )
    assert from_normalized(validate(STACK).normalized, "/tmp/ws").schedules == ScheduleConfig()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"timezone": "Berlin/Europe"}, '$.schedules.timezone: unknown time zone "Berlin/Europe"'),
        (
            {"timezone": "../etc/passwd"},
            '$.schedules.timezone: "../etc/passwd" is not an IANA time zone name',
        ),
        (
            {"timezone": 1},
            '$.schedules.timezone: must be a string, got number (fix: write "timezone": "Europe/Berlin")',
        ),
        ({"min_interval_s": 10}, "$.schedules.min_interval_s: must be from 60 to"),
        ({"max_jobs_per_chat": 0}, "$.schedules.max_jobs_per_chat: must be from 1 to 500"),
        ({"missed_grace_s": "3600"}, '$.schedules.missed_grace_s: must be a number, got the string "3600"'),
        (
            {"enabled": "yes"},
            '$.schedules.enabled: must be a JSON boolean, got the string "yes" (fix: use true',
        ),
    ],
)
def test_bad_values_name_the_path_and_the_fix(section: dict[str, Any], expected: str) -> None:
    errors, _ = problems({**STACK, "schedules": section})
    assert any(e.startswith(expected) for e in errors), errors
    assert all("fix:" in e for e in errors), errors


def test_a_timezone_error_says_what_to_write() -> None:
    errors, _ = problems({**STACK, "schedules": {"timezone": "CET+1"}})
    assert errors and 'e.g. "Europe/Berlin", "America/New_York" or "UTC"' in errors[0]
    assert timezone_problem("America/Argentina/Buenos_Aires") is None
    assert timezone_problem("UTC") is None


def test_unknown_keys_are_warned_with_a_suggestion() -> None:
    _, warnings = problems({**STACK, "schedules": {"time_zone": "UTC"}})
    assert any(
        '$.schedules.time_zone: unknown key "time_zone" is ignored' in w and "timezone" in w for w in warnings
    )


def test_upstream_tools_cron_enabled_maps_and_its_timeout_is_ignored_with_a_warning() -> None:
    result = validate({**UPSTREAM, "tools": {"cron": {"enabled": False, "exec_timeout_minutes": 5}}})
    assert result.valid and result.normalized is not None, [str(e) for e in result.errors]
    assert result.normalized["schedules"]["enabled"] is False
    warnings = [str(w) for w in result.warnings]
    assert any(w.startswith("$.tools.cron.exec_timeout_minutes: is ignored") for w in warnings), warnings
    assert not any('"cron"' in w for w in warnings), "tools.cron itself is a known upstream setting"
    assert validate(UPSTREAM).normalized["schedules"] == validate(STACK).normalized["schedules"]  # type: ignore[index]
