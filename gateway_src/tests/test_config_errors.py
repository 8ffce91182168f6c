"""Table-driven broken configs: each gives exactly one error, at the expected JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from picoclaw_gateway.config_validator import Problem, validate, validate_text

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DELETE = object()
SECRET_KEYS = ("api_key", "token", "bot_token", "app_token", "proxy")


def load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


TELEGRAM = load("telegram-openrouter.json")
DISCORD = load("discord-anthropic.json")
SLACK = load("slack-openai.json")
MULTI = load("multi-channel.json")
UPSTREAM = load("upstream-picoclaw.json")
UPSTREAM_V3 = load("upstream-picoclaw-model-list.json")
GOOD_KEY = TELEGRAM["llm"]["api_key"]


def edit(base: Any, changes: dict) -> Any:
    """Copy of `base` with dotted-path changes ("channels.0.token"); DELETE removes a key."""
    out = copy.deepcopy(base)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = out
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        if value is DELETE:
            del node[key]
        else:
            node[key] = value
    return out


# (id, config, expected path, fragment of the message, optional fragment of the fix)
CASES: list[tuple[str, Any, str, str, str]] = [
    ("root-not-object", [TELEGRAM], "$", "must be a JSON object", ""),
    ("no-llm", edit(TELEGRAM, {"llm": DELETE}), "$.llm", "required section is missing", ""),
    (
        "llm-not-object",
        edit(TELEGRAM, {"llm": "openrouter"}),
        "$.llm",
        "must be a JSON object, got string",
        "",
    ),
    ("unknown-provider", edit(TELEGRAM, {"llm.provider": "groq"}), "$.llm.provider", "unknown provider", ""),
    (
        "provider-case",
        edit(TELEGRAM, {"llm.provider": "OpenRouter"}),
        "$.llm.provider",
        "unknown provider",
        "lowercase",
    ),
    ("no-provider", edit(TELEGRAM, {"llm.provider": DELETE}), "$.llm.provider", "provider is missing", ""),
    (
        "provider-typo",
        edit(TELEGRAM, {"llm.provider": DELETE, "llm.provdier": "openrouter"}),
        "$.llm.provider",
        'is it a typo of "provider"',
        "",
    ),
    ("no-model", edit(TELEGRAM, {"llm.model": DELETE}), "$.llm.model", "required key is missing", ""),
    ("empty-model", edit(TELEGRAM, {"llm.model": " "}), "$.llm.model", "model is empty", ""),
    ("key-dots", edit(TELEGRAM, {"llm.api_key": "sk-or-..."}), "$.llm.api_key", "contains '...'", ""),
    ("key-your", edit(TELEGRAM, {"llm.api_key": "YOUR_API_KEY"}), "$.llm.api_key", "placeholder", ""),
    ("key-angle", edit(TELEGRAM, {"llm.api_key": "<openrouter-key>"}), "$.llm.api_key", "'<' or '>'", ""),
    ("key-changeme", edit(TELEGRAM, {"llm.api_key": "changeme"}), "$.llm.api_key", "placeholder", ""),
    ("key-xxx", edit(TELEGRAM, {"llm.api_key": "sk-or-v1-xxx"}), "$.llm.api_key", "placeholder", ""),
    ("key-bare-prefix", edit(TELEGRAM, {"llm.api_key": "sk-or-"}), "$.llm.api_key", "placeholder", ""),
    ("key-space", edit(TELEGRAM, {"llm.api_key": GOOD_KEY + " x"}), "$.llm.api_key", "whitespace", ""),
    ("key-newline", edit(TELEGRAM, {"llm.api_key": GOOD_KEY + "\n"}), "$.llm.api_key", "whitespace", ""),
    ("key-empty", edit(TELEGRAM, {"llm.api_key": ""}), "$.llm.api_key", "missing or empty", ""),
    ("key-number", edit(TELEGRAM, {"llm.api_key": 12345}), "$.llm.api_key", "must be a string", ""),
    (
        "max-tokens-string",
        edit(TELEGRAM, {"llm.max_tokens": "4096"}),
        "$.llm.max_tokens",
        "got the string",
        "write 4096 without quotes",
    ),
    ("max-tokens-zero", edit(TELEGRAM, {"llm.max_tokens": 0}), "$.llm.max_tokens", "must be from 1", ""),
    (
        "max-tokens-float",
        edit(TELEGRAM, {"llm.max_tokens": 4096.0}),
        "$.llm.max_tokens",
        "whole number",
        "write 4096",
    ),
    ("max-tokens-bool", edit(TELEGRAM, {"llm.max_tokens": True}), "$.llm.max_tokens", "got boolean", ""),
    ("temperature-high", edit(TELEGRAM, {"llm.temperature": 3}), "$.llm.temperature", "<= 2", ""),
    ("timeout-zero", edit(TELEGRAM, {"llm.timeout_s": 0}), "$.llm.timeout_s", "> 0", ""),
    (
        "api-base-ftp",
        edit(TELEGRAM, {"llm.api_base": "ftp://example.org"}),
        "$.llm.api_base",
        "needs https://",
        "",
    ),
    ("api-base-nohost", edit(TELEGRAM, {"llm.api_base": "https://"}), "$.llm.api_base", "no host", ""),
    ("no-channel", edit(TELEGRAM, {"channel": DELETE}), "$.channel", "no channel configured", ""),
    (
        "channel-not-object",
        edit(TELEGRAM, {"channel": ["telegram"]}),
        "$.channel",
        "must be a JSON object",
        "",
    ),
    (
        "channel-type",
        edit(TELEGRAM, {"channel.type": "whatsapp"}),
        "$.channel.type",
        "unknown channel type",
        "",
    ),
    ("channel-no-type", edit(TELEGRAM, {"channel.type": DELETE}), "$.channel.type", "type is missing", ""),
    (
        "tg-short-token",
        edit(TELEGRAM, {"channel.token": "123456:abcdefghijkl"}),
        "$.channel.token",
        "12 characters after ':', needs 30",
        "",
    ),
    (
        "tg-no-colon",
        edit(TELEGRAM, {"channel.token": "ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"}),
        "$.channel.token",
        "no ':'",
        "",
    ),
    (
        "tg-bad-bot-id",
        edit(TELEGRAM, {"channel.token": "bot1:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"}),
        "$.channel.token",
        "bot id",
        "",
    ),
    (
        "tg-bad-chars",
        edit(TELEGRAM, {"channel.token": "123:ABCdefGHIjklMNOpqrSTUvwxYZ01234567+/"}),
        "$.channel.token",
        "may only contain",
        "",
    ),
    (
        "tg-token-placeholder",
        edit(TELEGRAM, {"channel.token": "YOUR_TELEGRAM_BOT_TOKEN"}),
        "$.channel.token",
        "placeholder",
        "",
    ),
    (
        "tg-no-users",
        edit(TELEGRAM, {"channel.allowed_users": DELETE}),
        "$.channel.allowed_users",
        "needs a non-empty allowed_users",
        "",
    ),
    (
        "tg-users-typo",
        edit(TELEGRAM, {"channel.allowed_users": DELETE, "channel.alowed_users": [1]}),
        "$.channel.allowed_users",
        'typo of "allowed_users"',
        "",
    ),
    (
        "tg-empty-users",
        edit(TELEGRAM, {"channel.allowed_users": []}),
        "$.channel.allowed_users",
        "at least one allowed user",
        "",
    ),
    (
        "tg-group-id",
        edit(TELEGRAM, {"channel.allowed_users": [-1001234567890]}),
        "$.channel.allowed_users[0]",
        "positive",
        "",
    ),
    (
        "tg-username",
        edit(TELEGRAM, {"channel.allowed_users": ["@alice"]}),
        "$.channel.allowed_users[0]",
        "looks like a username",
        "",
    ),
    (
        "tg-users-not-list",
        edit(TELEGRAM, {"channel.allowed_users": "123456789"}),
        "$.channel.allowed_users",
        "must be an array",
        "",
    ),
    (
        "tg-user-bool",
        edit(TELEGRAM, {"channel.allowed_users": [True]}),
        "$.channel.allowed_users[0]",
        "got boolean",
        "",
    ),
    (
        "tg-user-float",
        edit(TELEGRAM, {"channel.allowed_users": [1.5]}),
        "$.channel.allowed_users[0]",
        "whole number or a string of digits, got 1.5",
        "",
    ),
    (
        "tg-user-zero",
        edit(TELEGRAM, {"channel.allowed_users": ["0"]}),
        "$.channel.allowed_users[0]",
        "positive",
        "",
    ),
    (
        "both-token-spellings",
        edit(TELEGRAM, {"channel.bot_token": TELEGRAM["channel"]["token"]}),
        "$.channel.bot_token",
        'both "token" and "bot_token"',
        "",
    ),
    (
        "both-user-spellings",
        edit(TELEGRAM, {"channel.allowed_user_ids": [1]}),
        "$.channel.allowed_user_ids",
        'both "allowed_users" and "allowed_user_ids"',
        "",
    ),
    (
        "proxy-scheme",
        edit(TELEGRAM, {"channel.proxy": "ftp://user:pw@proxy.example:21"}),
        "$.channel.proxy",
        "needs http://",
        "",
    ),
    (
        "tg-api-base",
        edit(TELEGRAM, {"channel.api_base": "api.telegram.org"}),
        "$.channel.api_base",
        "no scheme",
        "",
    ),
    (
        "channel-and-channels",
        edit(TELEGRAM, {"channels": [TELEGRAM["channel"]]}),
        "$.channels",
        'both "channel" and "channels"',
        "",
    ),
    ("channels-empty", edit(MULTI, {"channels": []}), "$.channels", "empty", ""),
    (
        "channels-item",
        edit(MULTI, {"channels.1": "discord"}),
        "$.channels[1]",
        "must be a channel object",
        "",
    ),
    (
        "channels-same-token",
        edit(MULTI, {"channels.1": MULTI["channels"][0]}),
        "$.channels[1]",
        "same bot token",
        "",
    ),
    (
        "exec-enabled-string",
        edit(TELEGRAM, {"tools": {"exec": {"enabled": "false"}}}),
        "$.tools.exec.enabled",
        "must be a JSON boolean",
        "use false without quotes",
    ),
    (
        "exec-timeout",
        edit(TELEGRAM, {"tools": {"exec": {"timeout_s": 601}}}),
        "$.tools.exec.timeout_s",
        "<= 600",
        "",
    ),
    (
        "exec-not-object",
        edit(TELEGRAM, {"tools": {"exec": True}}),
        "$.tools.exec",
        "must be a JSON object",
        "",
    ),
    (
        "iterations",
        edit(TELEGRAM, {"agent": {"max_tool_iterations": 51}}),
        "$.agent.max_tool_iterations",
        "from 1 to 50",
        "",
    ),
    (
        "history-negative",
        edit(TELEGRAM, {"agent": {"history_limit": -1}}),
        "$.agent.history_limit",
        "from 0",
        "",
    ),
    (
        "prompt-number",
        edit(TELEGRAM, {"agent": {"system_prompt": 42}}),
        "$.agent.system_prompt",
        "must be a string",
        "",
    ),
    (
        "dc-bot-prefix",
        edit(DISCORD, {"channel.token": "Bot " + DISCORD["channel"]["token"]}),
        "$.channel.token",
        "starts with the word",
        "",
    ),
    (
        "dc-one-part",
        edit(DISCORD, {"channel.token": "abcdefghijklmnopqrstuvwxyz"}),
        "$.channel.token",
        "has 3 base64url parts",
        "",
    ),
    (
        "dc-short-id",
        edit(DISCORD, {"channel.allowed_users": ["12345"]}),
        "$.channel.allowed_users[0]",
        "17 to 20 digits",
        "",
    ),
    (
        "slack-swapped",
        edit(
            SLACK,
            {
                "channel.bot_token": SLACK["channel"]["app_token"],
                "channel.app_token": SLACK["channel"]["bot_token"],
            },
        ),
        "$.channel.bot_token",
        "are swapped",
        "",
    ),
    (
        "slack-no-app-token",
        edit(SLACK, {"channel.app_token": DELETE}),
        "$.channel.app_token",
        "app_token is missing",
        "",
    ),
    (
        "slack-user-token",
        edit(SLACK, {"channel.bot_token": "xoxp-1234-5678-abcdef"}),
        "$.channel.bot_token",
        'starts with "xoxp-"',
        "",
    ),
    (
        "slack-bad-user",
        edit(SLACK, {"channel.allowed_user_ids": ["u0123abcd"]}),
        "$.channel.allowed_user_ids[0]",
        "not a Slack user id",
        "",
    ),
    ("mixed-forms", edit(TELEGRAM, {"providers": {}}), "$", "mixes the stack form", ""),
    ("empty-object", {}, "$", 'no "llm" section', ""),
    # upstream dialect
    (
        "up-enabled-string",
        edit(UPSTREAM, {"channels.telegram.enabled": "true"}),
        "$.channels.telegram.enabled",
        "must be a JSON boolean",
        "use true without quotes",
    ),
    (
        "up-nothing-enabled",
        edit(UPSTREAM, {"channels.telegram.enabled": False}),
        "$.channels",
        "no supported channel is enabled",
        "",
    ),
    (
        "up-no-key",
        edit(UPSTREAM, {"providers.openrouter.api_key": ""}),
        "$.providers",
        "no supported provider has an api_key",
        "",
    ),
    (
        "up-placeholder-key",
        edit(UPSTREAM, {"providers.openrouter.api_key": "sk-or-v1-xxx"}),
        "$.providers.openrouter.api_key",
        "placeholder",
        "",
    ),
    (
        "up-ambiguous",
        edit(
            UPSTREAM,
            {"providers.anthropic.api_key": "sk-ant-api03-" + "a" * 40, "agents.defaults.model": "llama3"},
        ),
        "$.providers",
        "several providers have an api_key",
        "agents.defaults.provider",
    ),
    (
        "up-provider-unsupported",
        edit(UPSTREAM, {"agents.defaults.provider": "groq"}),
        "$.agents.defaults.provider",
        "not supported",
        "",
    ),
    (
        "up-provider-without-key",
        edit(UPSTREAM, {"agents.defaults.provider": "claude"}),
        "$.providers.anthropic",
        "has no api_key",
        "",
    ),
    (
        "up-no-model",
        edit(UPSTREAM, {"agents.defaults.model": DELETE}),
        "$.agents.defaults.model",
        "required key is missing",
        "",
    ),
    (
        "up-tg-empty-allow",
        edit(UPSTREAM, {"channels.telegram.allow_from": []}),
        "$.channels.telegram.allow_from",
        "non-empty allow_from",
        "",
    ),
    (
        "up-tg-placeholder-user",
        edit(UPSTREAM, {"channels.telegram.allow_from": ["YOUR_USER_ID"]}),
        "$.channels.telegram.allow_from[0]",
        "username",
        "",
    ),
    (
        "up-channels-list-mixed",
        edit(UPSTREAM, {"providers": DELETE, "llm": TELEGRAM["llm"]}),
        "$",
        "mixes",
        "",
    ),
    ("up-no-providers", edit(UPSTREAM, {"providers": DELETE}), "$.providers", "required section", ""),
    (
        "v3-unknown-model-name",
        edit(UPSTREAM_V3, {"agents.defaults.model_name": "gpt-5"}),
        "$.agents.defaults.model_name",
        "no model_list entry has model_name",
        '"gpt-4o-mini", "claude"',
    ),
    (
        "v3-protocol",
        edit(UPSTREAM_V3, {"model_list.0.model": "deepseek/deepseek-chat"}),
        "$.model_list[0].model",
        'protocol "deepseek" is not supported',
        "",
    ),
    (
        "v3-placeholder-key",
        edit(UPSTREAM_V3, {"model_list.0.api_keys": ["sk-your-openrouter-key"]}),
        "$.model_list[0].api_keys[0]",
        "placeholder",
        "",
    ),
    (
        "v3-empty-keys",
        edit(UPSTREAM_V3, {"model_list.0.api_keys": []}),
        "$.model_list[0].api_keys",
        "non-empty array",
        "",
    ),
    (
        "v3-settings-token",
        edit(UPSTREAM_V3, {"channel_list.telegram.settings.token": "123:abc"}),
        "$.channel_list.telegram.settings.token",
        "3 characters after ':'",
        "",
    ),
    (
        "v3-nothing-enabled",
        edit(UPSTREAM_V3, {"channel_list.telegram.enabled": False}),
        "$.channel_list",
        "no supported channel is enabled",
        "channel_list.telegram",
    ),
    ("v3-empty-model-list", edit(UPSTREAM_V3, {"model_list": []}), "$.model_list", "non-empty array", ""),
    (
        "up-iterations",
        edit(UPSTREAM, {"agents.defaults.max_tool_iterations": 0}),
        "$.agents.defaults.max_tool_iterations",
        "from 1 to 50",
        "",
    ),
]


def secrets_in(config: Any) -> list[str]:
    """Every secret-bearing string value of a config (to make sure none is echoed)."""
    found: list[str] = []
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in SECRET_KEYS and isinstance(value, str) and len(value) >= 8:
                    found.append(value.strip())
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return found


def test_there_are_at_least_30_distinct_cases() -> None:
    assert len(CASES) >= 30
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("config", "path", "fragment", "fix"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_broken_config_gives_exactly_the_expected_error(
    config: Any, path: str, fragment: str, fix: str
) -> None:
    result = validate(config)
    assert not result.valid
    assert result.normalized is None
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    error = result.errors[0]
    assert error.path == path, str(error)
    assert fragment in error.message, str(error)
    assert fix in error.fix, str(error)
    assert error.fix.strip()
    assert str(error) == f"{error.path}: {error.message} (fix: {error.fix})"
    assert "\n" not in str(error)
    for secret in secrets_in(config):
        for problem in result.errors + result.warnings:
            assert secret not in str(problem), f"secret echoed in {problem.path}"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("{", "not valid JSON"),
        ('{"llm": {},}', "not valid JSON"),
        ("// comment\n{}", "not valid JSON"),
        ('{"a": NaN}', "NaN"),
        ('{"a": -Infinity}', "-Infinity"),
        ('{"a": 1e400}', "not a valid JSON number"),
        ("[" * 100000 + "]" * 100000, "nested too deeply"),
        ("{} {}", "not valid JSON"),
        ('"just a string"', "must be a JSON object"),
        ('{"a": 1' + "0" * 5000 + "}", "cannot parse"),
    ],
)
def test_broken_text_gives_one_error_at_root(text: str, fragment: str) -> None:
    result = validate_text(text)
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    assert result.errors[0].path == "$"
    assert fragment in result.errors[0].message


def test_broken_bytes() -> None:
    assert "UTF-16" in validate_text("{}".encode("utf-16")).errors[0].message
    assert "not valid UTF-8" in validate_text(b'{"a": "\xff"}').errors[0].message
    assert "limit" in validate_text(b" " * (1024 * 1024 + 1)).errors[0].message
    assert validate_text(b"\xef\xbb\xbf" + json.dumps(TELEGRAM).encode()).valid  # UTF-8 BOM is fine


def test_duplicate_keys_are_an_error_at_their_path() -> None:
    text = json.dumps(TELEGRAM).replace('"model": ', '"model": "x", "model": ', 1)
    result = validate_text(text)
    assert [e.path for e in result.errors] == ["$.llm.model"]
    assert "more than once" in result.errors[0].message


# (id, config, expected warning path, fragment)
WARNINGS: list[tuple[str, Any, str, str]] = [
    (
        "typo",
        edit(DISCORD, {"channel.alowed_users": []}),
        "$.channel.alowed_users",
        'did you mean "allowed_users"',
    ),
    ("unknown-section", edit(TELEGRAM, {"tool": {}}), "$.tool", 'did you mean "tools"'),
    ("discord-open", edit(DISCORD, {"channel.allowed_users": []}), "$.channel.allowed_users", "EVERYONE"),
    ("exec-open", edit(SLACK, {"channel.allowed_user_ids": []}), "$.channel", "shell commands"),
    ("key-shape", edit(DISCORD, {"llm.api_key": GOOD_KEY}), "$.llm.api_key", "looks like an openrouter key"),
    (
        "plain-http",
        edit(TELEGRAM, {"llm.api_base": "http://llm.example.org/v1"}),
        "$.llm.api_base",
        "unencrypted",
    ),
    (
        "duplicate-user",
        edit(TELEGRAM, {"channel.allowed_users": [5, "5"]}),
        "$.channel.allowed_users[1]",
        "twice",
    ),
    (
        "app-token-on-telegram",
        edit(TELEGRAM, {"channel.app_token": "xapp-1"}),
        "$.channel.app_token",
        "only used",
    ),
    ("up-ignored-section", UPSTREAM, "$.gateway", "ignored by this gateway"),
    (
        "exec-open-channels-list",
        edit(MULTI, {"channels": [{**MULTI["channels"][1], "allowed_users": []}]}),
        "$.channels[0]",
        "shell commands",
    ),
    (
        "v3-first-key-only",
        edit(UPSTREAM_V3, {"model_list.0.api_keys": [GOOD_KEY, GOOD_KEY + "x"]}),
        "$.model_list[0].api_keys",
        "only the first key",
    ),
    (
        "v3-ignored-setting",
        edit(UPSTREAM_V3, {"channel_list.telegram.settings.streaming": {"enabled": True}}),
        "$.channel_list.telegram.settings.streaming",
        "ignored by this gateway",
    ),
    (
        "up-pipe-user",
        edit(UPSTREAM, {"channels.telegram.allow_from": ["123456789|alice"]}),
        "$.channels.telegram.allow_from[0]",
        "only the numeric id",
    ),
    (
        "up-unsupported-channel",
        edit(UPSTREAM, {"channels.whatsapp": {"enabled": True}}),
        "$.channels.whatsapp.enabled",
        "not supported",
    ),
    (
        "up-token-not-enabled",
        edit(UPSTREAM, {"channels.discord": {"token": DISCORD["channel"]["token"]}}),
        "$.channels.discord",
        'no "enabled": true',
    ),
    (
        "up-picked-by-model",
        edit(UPSTREAM, {"providers.anthropic.api_key": "sk-ant-api03-" + "a" * 40}),
        "$.providers.openrouter",
        "using openrouter",
    ),
]


@pytest.mark.parametrize(
    ("config", "path", "fragment"), [w[1:] for w in WARNINGS], ids=[w[0] for w in WARNINGS]
)
def test_valid_config_with_expected_warning(config: Any, path: str, fragment: str) -> None:
    result = validate(config)
    assert result.valid, [str(e) for e in result.errors]
    matching = [w for w in result.warnings if w.path == path and fragment in str(w)]
    assert matching, [str(w) for w in result.warnings]


def test_problem_is_plain_data() -> None:
    problem = Problem("$.a", "is wrong", "fix it")
    assert problem.as_dict() == {"path": "$.a", "message": "is wrong", "fix": "fix it"}
    assert problem == Problem("$.a", "is wrong", "fix it")
    assert len({problem, Problem("$.a", "is wrong", "fix it")}) == 1
