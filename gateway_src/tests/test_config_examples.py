"""Every example config we publish is valid, in every spelling and in the upstream form."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from picoclaw_gateway.config_validator import validate, validate_file, validate_text

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "configuration.md"
EXAMPLE_FILES = sorted((ROOT / "examples").glob("*.json"))


def doc_json_blocks() -> list[str]:
    return re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


DOC_BLOCKS = doc_json_blocks()
ALL_EXAMPLES = [(f"doc#{i}", text) for i, text in enumerate(DOC_BLOCKS)] + [
    (path.name, path.read_text(encoding="utf-8")) for path in EXAMPLE_FILES
]
STACK_EXAMPLES = [(name, text) for name, text in ALL_EXAMPLES if "agents" not in json.loads(text)]


def test_there_are_enough_examples() -> None:
    assert len(DOC_BLOCKS) >= 7
    assert len(EXAMPLE_FILES) >= 7


@pytest.mark.parametrize(("name", "text"), ALL_EXAMPLES, ids=[name for name, _ in ALL_EXAMPLES])
def test_example_is_valid(name: str, text: str) -> None:
    result = validate_text(text)
    assert result.errors == [], [str(e) for e in result.errors]
    assert result.normalized is not None
    expected = "upstream" if "agents" in json.loads(text) else "stack"
    assert result.dialect == expected


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_example_files_are_valid_via_validate_file(path: Path) -> None:
    assert validate_file(str(path)).valid


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_example_files_are_also_in_the_documentation(path: Path) -> None:
    parsed_blocks = [json.loads(block) for block in DOC_BLOCKS]
    assert json.loads(path.read_text(encoding="utf-8")) in parsed_blocks


def respell(config: dict, token_key: str, users_key: str) -> dict:
    """The same config written with the other channel spellings."""
    out = copy.deepcopy(config)
    sections = [out["channel"]] if "channel" in out else out["channels"]
    for section in sections:
        for old in ("token", "bot_token"):
            if old in section:
                section[token_key] = section.pop(old)
        for old in ("allowed_users", "allowed_user_ids"):
            if old in section:
                section[users_key] = section.pop(old)
    return out


@pytest.mark.parametrize(("name", "text"), STACK_EXAMPLES, ids=[name for name, _ in STACK_EXAMPLES])
@pytest.mark.parametrize(
    ("token_key", "users_key"), [("token", "allowed_users"), ("bot_token", "allowed_user_ids")]
)
def test_both_spellings_are_valid_and_equivalent(
    name: str, text: str, token_key: str, users_key: str
) -> None:
    original = validate_text(text)
    respelled = validate(respell(json.loads(text), token_key, users_key))
    assert respelled.errors == []
    assert respelled.normalized == original.normalized


def to_upstream(config: dict) -> dict:
    """Translate a stack config into the classic upstream PicoClaw layout."""
    llm = config["llm"]
    defaults = {"model": llm["model"], "provider": llm["provider"]}
    for key in ("max_tokens", "temperature"):
        if key in llm:
            defaults[key] = llm[key]
    same_account = [entry["model"] for entry in llm.get("fallbacks", []) if set(entry) == {"model"}]
    if same_account:  # the classic layout's fallbacks: other models of the same provider and key
        defaults["model_fallbacks"] = same_account
    agent = config.get("agent", {})
    if "max_tool_iterations" in agent:
        defaults["max_tool_iterations"] = agent["max_tool_iterations"]
    providers = {name: {"api_key": "", "api_base": ""} for name in ("openrouter", "openai", "anthropic")}
    providers[llm["provider"]] = {"api_key": llm.get("api_key", ""), "api_base": llm.get("api_base", "")}
    channels = {}
    for section in [config["channel"]] if "channel" in config else config["channels"]:
        kind = section["type"]
        token = section.get("token", section.get("bot_token"))
        entry = {
            "enabled": True,
            "allow_from": section.get("allowed_users", section.get("allowed_user_ids", [])),
        }
        entry["bot_token" if kind == "slack" else "token"] = token
        if kind == "slack":
            entry["app_token"] = section["app_token"]
        for key in ("proxy", "api_base"):
            if key in section:
                entry[key] = section[key]
        if "group_mode" in section:
            entry["group_trigger"] = {"mention_only": section["group_mode"] == "mention"}
        channels[kind] = entry
    out = {"agents": {"defaults": defaults}, "providers": providers, "channels": channels}
    if "heartbeat" in config:
        heartbeat = config["heartbeat"]
        out["heartbeat"] = {
            "enabled": heartbeat.get("enabled", False),
            "interval": heartbeat["interval_minutes"],
        }
    if "tools" in config:
        out["tools"] = {"exec": config["tools"]["exec"]} if "exec" in config["tools"] else {}
        files = config["tools"].get("files", {})
        if "max_read_chars" in files:
            out["tools"]["read_file"] = {"max_read_file_size": files["max_read_chars"]}
    return out


@pytest.mark.parametrize(("name", "text"), STACK_EXAMPLES, ids=[name for name, _ in STACK_EXAMPLES])
def test_upstream_form_of_each_example_is_valid_and_equivalent(name: str, text: str) -> None:
    config = json.loads(text)
    stack = validate(config).normalized
    upstream = validate(to_upstream(config))
    assert upstream.errors == [], [str(e) for e in upstream.errors]
    assert upstream.dialect == "upstream"
    got = upstream.normalized
    # Settings upstream has not; fallbacks on another provider need model_list (test_config_fallbacks).
    not_upstream = {
        "timeout_s": None,
        "max_response_bytes": None,
        "fallbacks": None,
        "fallback_cooldown_s": None,
    }
    assert got["llm"] | not_upstream == stack["llm"] | not_upstream
    same_account = [f["model"] for f in config["llm"].get("fallbacks", []) if set(f) == {"model"}]
    assert [f["model"] for f in got["llm"]["fallbacks"]] == same_account
    no_group_list = {"allowed_groups": []}  # upstream has no list of allowed groups
    assert [c | no_group_list for c in got["channels"]] == [c | no_group_list for c in stack["channels"]]
    assert got["heartbeat"] == stack["heartbeat"]
    assert got["agent"]["max_tool_iterations"] == stack["agent"]["max_tool_iterations"]
    assert got["tools"]["exec"]["enabled"] == stack["tools"]["exec"]["enabled"]
    assert got["tools"]["files"]["max_read_chars"] == stack["tools"]["files"]["max_read_chars"]
