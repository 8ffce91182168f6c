"""The size limits and the sandbox socket as config keys: defaults, bounds, messages, upstream mapping,
and the frozen dataclasses the gateway is built from."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from picoclaw_gateway.config import from_normalized
from picoclaw_gateway.config_validator import BOUNDS, DEFAULTS, validate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TELEGRAM = json.loads((EXAMPLES / "telegram-openrouter.json").read_text(encoding="utf-8"))
UPSTREAM = json.loads((EXAMPLES / "upstream-picoclaw.json").read_text(encoding="utf-8"))

# (section path in the stack form, key, DEFAULTS/BOUNDS name, GatewayConfig attribute path)
LIMITS = [
    (("llm",), "max_response_bytes", "llm_max_response_bytes", "llm.max_response_bytes"),
    (("agent",), "max_reply_chars", "max_reply_chars", "agent.max_reply_chars"),
    (("agent",), "history_max_chars", "history_max_chars", "agent.history_max_chars"),
    (
        ("agent",),
        "history_message_max_chars",
        "history_message_max_chars",
        "agent.history_message_max_chars",
    ),
    (("tools", "files"), "max_read_chars", "files_max_read_chars", "files.max_read_chars"),
    (("tools", "files"), "max_write_bytes", "files_max_write_bytes", "files.max_write_bytes"),
    (("tools", "files"), "max_edit_bytes", "files_max_edit_bytes", "files.max_edit_bytes"),
]
IDS = [".".join((*section, key)) for section, key, _, _ in LIMITS]


def with_value(section: tuple[str, ...], key: str, value: Any) -> dict:
    config = copy.deepcopy(TELEGRAM)
    node = config
    for part in section:
        node = node.setdefault(part, {})
    node[key] = value
    return config


def attribute(config: object, dotted: str) -> Any:
    for part in dotted.split("."):
        config = getattr(config, part)
    return config


@pytest.mark.parametrize(("section", "key", "name", "attr"), LIMITS, ids=IDS)
def test_default_is_the_one_in_defaults(section: tuple[str, ...], key: str, name: str, attr: str) -> None:
    result = validate(TELEGRAM)
    assert result.valid and result.normalized is not None
    assert attribute(from_normalized(result.normalized, "/tmp/ws"), attr) == DEFAULTS[name]


@pytest.mark.parametrize(("section", "key", "name", "attr"), LIMITS, ids=IDS)
def test_a_valid_value_reaches_the_gateway_config(
    section: tuple[str, ...], key: str, name: str, attr: str
) -> None:
    low, high = BOUNDS[name]
    for value in (low, high):
        config = with_value(section, key, value)
        if key == "history_message_max_chars":
            config["agent"]["history_max_chars"] = BOUNDS["history_max_chars"][1]
        result = validate(config)
        assert result.errors == [] and result.warnings == [], [
            str(p) for p in result.errors + result.warnings
        ]
        assert result.normalized is not None
        assert attribute(from_normalized(result.normalized, "/tmp/ws"), attr) == value


@pytest.mark.parametrize(("section", "key", "name", "attr"), LIMITS, ids=IDS)
def test_out_of_range_is_one_error_naming_the_path_and_the_fix(
    section: tuple[str, ...], key: str, name: str, attr: str
) -> None:
    low, high = BOUNDS[name]
    path = "$." + ".".join((*section, key))
    for value in (low - 1, high + 1):
        result = validate(with_value(section, key, value))
        assert not result.valid
        assert [str(p) for p in result.errors] == [
            f"{path}: must be from {low} to {high}, got {value} "
            f"(fix: write a number from {low} to {high}, e.g. {DEFAULTS[name]})"
        ]


@pytest.mark.parametrize(("section", "key", "name", "attr"), LIMITS, ids=IDS)
def test_a_quoted_number_is_an_error_with_the_fix(
    section: tuple[str, ...], key: str, name: str, attr: str
) -> None:
    result = validate(with_value(section, key, "5000"))
    assert [(p.path, p.fix) for p in result.errors] == [
        ("$." + ".".join((*section, key)), "write 5000 without quotes")
    ]


def test_message_cap_above_the_history_cap_is_a_warning() -> None:
    config = with_value(("agent",), "history_max_chars", 20_000)
    config["agent"]["history_message_max_chars"] = 30_000
    result = validate(config)
    assert result.valid
    assert [p.path for p in result.warnings] == ["$.agent.history_message_max_chars"]
    assert "at most 20000" in result.warnings[0].fix


def test_a_small_history_cap_lowers_the_default_message_cap_silently() -> None:
    result = validate(with_value(("agent",), "history_max_chars", 20_000))
    assert result.warnings == [] and result.normalized is not None
    assert result.normalized["agent"]["history_message_max_chars"] == 20_000


def test_unknown_key_next_to_the_limits_gets_a_suggestion() -> None:
    result = validate(with_value(("tools", "files"), "max_read_char", 5000))
    assert result.valid
    assert [(p.path, p.fix) for p in result.warnings] == [
        ("$.tools.files.max_read_char", 'did you mean "max_read_chars"? Rename it, or remove it')
    ]


# -- tools.sandbox.socket


@pytest.mark.parametrize("value", [None, ""])
def test_socket_unset_means_the_local_sandbox(value: object) -> None:
    result = validate(with_value(("tools", "sandbox"), "socket", value))
    assert result.errors == [] and result.normalized is not None
    assert result.normalized["tools"]["sandbox"] == {"socket": None}
    assert from_normalized(result.normalized, "/tmp/ws").sandbox_socket is None


def test_socket_path_reaches_the_gateway_config() -> None:
    result = validate(with_value(("tools", "sandbox"), "socket", "/run/picoclaw/tools.sock"))
    assert result.errors == [] and result.warnings == [] and result.normalized is not None
    assert from_normalized(result.normalized, "/tmp/ws").sandbox_socket == "/run/picoclaw/tools.sock"


@pytest.mark.parametrize(
    ("value", "message", "fix"),
    [
        ("tools.sock", 'socket path "tools.sock" is not absolute', "absolute path"),
        ("/run/" + "s" * 103, "socket path is 108 bytes long, a Unix socket path is at most 107", "shorter"),
        ("/run/a\0b", "NUL character", "absolute path"),
        (" /run/tools.sock", "whitespace", "absolute path"),
        (42, "must be a string, got number", '"socket": "/run/picoclaw/tools.sock"'),
    ],
    ids=["relative", "too-long", "nul", "space", "number"],
)
def test_bad_socket_is_one_error(value: object, message: str, fix: str) -> None:
    result = validate(with_value(("tools", "sandbox"), "socket", value))
    assert [p.path for p in result.errors] == ["$.tools.sandbox.socket"]
    assert message in result.errors[0].message and fix in result.errors[0].fix


# -- upstream dialect


def upstream_with_read_file(read_file: object) -> dict:
    config = copy.deepcopy(UPSTREAM)
    config["tools"] = {"read_file": read_file, "mcp": {"enabled": True}}
    return config


def test_upstream_max_read_file_size_maps_to_max_read_chars() -> None:
    result = validate(upstream_with_read_file({"enabled": True, "max_read_file_size": 65536}))
    assert result.errors == [] and result.normalized is not None
    assert result.normalized["tools"]["files"]["max_read_chars"] == 65536
    # read_file is used, so only the other upstream tool is named as ignored
    assert [p.path for p in result.warnings if p.path.startswith("$.tools")] == ["$.tools.mcp"]


def test_upstream_max_read_file_size_zero_means_the_default() -> None:
    result = validate(upstream_with_read_file({"max_read_file_size": 0}))
    assert result.normalized is not None
    assert result.normalized["tools"]["files"]["max_read_chars"] == DEFAULTS["files_max_read_chars"]


def test_upstream_max_read_file_size_out_of_range_is_an_error_at_its_path() -> None:
    result = validate(upstream_with_read_file({"max_read_file_size": 500}))
    assert [str(p) for p in result.errors] == [
        "$.tools.read_file.max_read_file_size: must be from 1000 to 1000000, got 500 "
        "(fix: write a number from 1000 to 1000000, e.g. 100000)"
    ]


def test_upstream_read_file_disabled_is_a_warning() -> None:
    result = validate(upstream_with_read_file({"enabled": False}))
    assert result.valid
    assert "$.tools.read_file.enabled" in [p.path for p in result.warnings]


def test_upstream_without_tools_gets_every_default() -> None:
    result = validate(UPSTREAM)
    assert result.normalized is not None
    normalized = result.normalized
    assert normalized["llm"]["max_response_bytes"] == DEFAULTS["llm_max_response_bytes"]
    assert normalized["agent"]["max_reply_chars"] == DEFAULTS["max_reply_chars"]
    assert normalized["agent"]["history_max_chars"] == DEFAULTS["history_max_chars"]
    assert normalized["tools"]["sandbox"] == {"socket": None}
