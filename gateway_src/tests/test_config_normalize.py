"""Normalization: the three input forms agree, defaults are filled in, redact hides every secret."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from picoclaw_gateway.config_validator import DEFAULT_API_BASES, redact, validate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TG_TOKEN = "123456789:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"
DC_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GAbCdE.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"
KEY = "sk-or-v1-" + "0123456789abcdef" * 4
SLACK_BOT = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef"

FORM_1 = {
    "llm": {
        "provider": "openrouter",
        "api_key": KEY,
        "model": "openai/gpt-4o-mini",
        "max_tokens": 8192,
        "temperature": 0.7,
    },
    "channel": {"type": "telegram", "token": TG_TOKEN, "allowed_users": [123456789, 42]},
    "agent": {"max_tool_iterations": 20},
}
FORM_2 = {
    "llm": {
        "provider": "openrouter",
        "api_key": KEY,
        "model": "openai/gpt-4o-mini",
        "max_tokens": 8192,
        "temperature": 0.7,
    },
    "channel": {"type": "telegram", "bot_token": TG_TOKEN, "allowed_user_ids": ["123456789", "42"]},
    "agent": {"max_tool_iterations": 20},
}
FORM_3 = {
    "agents": {
        "defaults": {
            "workspace": "~/.picoclaw/workspace",
            "model": "openai/gpt-4o-mini",
            "max_tokens": 8192,
            "temperature": 0.7,
            "max_tool_iterations": 20,
        }
    },
    "providers": {
        "openrouter": {"api_key": KEY, "api_base": ""},
        "openai": {"api_key": "", "api_base": ""},
        "anthropic": {"api_key": "", "api_base": ""},
    },
    "channels": {
        "telegram": {"enabled": True, "token": TG_TOKEN, "proxy": "", "allow_from": [123456789, "42"]},
        "discord": {"enabled": False, "token": "YOUR_DISCORD_BOT_TOKEN", "allow_from": []},
    },
}


# newer upstream layouts of the same setup: model_list + channels (2026), then version 3 channel_list
FORM_3_MODEL_LIST = {
    "agents": {
        "defaults": {"model_name": "mini", "max_tokens": 8192, "temperature": 0.7, "max_tool_iterations": 20}
    },
    "model_list": [
        {"model_name": "mini", "model": "openrouter/openai/gpt-4o-mini", "api_key": KEY},
        {"model_name": "other", "model": "openai/gpt-5", "api_key": "sk-your-openai-key"},
    ],
    "channels": {
        "telegram": {"enabled": True, "token": TG_TOKEN, "base_url": "", "allow_from": ["123456789", 42]}
    },
}
FORM_3_V3 = {
    "version": 3,
    "agents": FORM_3_MODEL_LIST["agents"],
    "model_list": [{"model_name": "mini", "model": "openrouter/openai/gpt-4o-mini", "api_keys": [KEY]}],
    "channel_list": {
        "telegram": {
            "enabled": True,
            "type": "telegram",
            "allow_from": [123456789, "42"],
            "settings": {"token": TG_TOKEN, "proxy": ""},
        }
    },
}


def test_all_forms_give_the_same_normalized_dict() -> None:
    forms = (FORM_1, FORM_2, FORM_3, FORM_3_MODEL_LIST, FORM_3_V3)
    results = [validate(form) for form in forms]
    assert [r.dialect for r in results] == ["stack", "stack", "upstream", "upstream", "upstream"]
    assert all(r.valid for r in results), [[str(e) for e in r.errors] for r in results]
    # the upstream forms have no llm.timeout_s: the default applies, as it does for the stack form
    for result in results[1:]:
        assert result.normalized == results[0].normalized


def test_normalized_shape_and_defaults() -> None:
    minimal = {
        "llm": {"provider": "anthropic", "api_key": "sk-ant-api03-" + "a" * 40, "model": "claude-x"},
        "channel": {"type": "discord", "bot_token": DC_TOKEN, "allowed_user_ids": [123456789012345678]},
    }
    normalized = validate(minimal).normalized
    assert normalized == {
        "llm": {
            "provider": "anthropic",
            "api_key": "sk-ant-api03-" + "a" * 40,
            "model": "claude-x",
            "api_base": "https://api.anthropic.com",
            "max_tokens": 4096,
            "temperature": None,
            "timeout_s": 120.0,
            "max_response_bytes": 1048576,
            "fallbacks": [],
            "fallback_cooldown_s": 60.0,
        },
        "channels": [
            {
                "type": "discord",
                "token": DC_TOKEN,
                "app_token": None,
                "allowed_users": ["123456789012345678"],
                "api_base": None,
                "proxy": None,
                "group_mode": "mention",
                "allowed_groups": [],
            }
        ],
        "agent": {
            "system_prompt": normalized["agent"]["system_prompt"],
            "max_tool_iterations": 10,
            "history_limit": 20,
            "max_reply_chars": 32000,
            "history_max_chars": 96000,
            "history_message_max_chars": 32000,
        },
        "tools": {
            "exec": {"enabled": True, "timeout_s": 30.0, "max_output_chars": 10000},
            "files": {"max_read_chars": 100000, "max_write_bytes": 1048576, "max_edit_bytes": 1048576},
            "sandbox": {"socket": None},
            "web": {
                "fetch": {
                    "enabled": True,
                    "timeout_s": 20.0,
                    "max_bytes": 1048576,
                    "max_chars": 20000,
                    "max_redirects": 5,
                },
                "search": {
                    "provider": None,
                    "api_key": None,
                    "api_base": None,
                    "max_results": 5,
                    "timeout_s": 20.0,
                },
                "allow": [],
            },
        },
        "api": {
            "enabled": False,
            "listen": "127.0.0.1",
            "port": 18791,
            "token": None,
            "model": "picoclaw",
            "rate_limit_per_minute": 30,
            "mirror_to": None,
        },
        "memory": {"enabled": True, "max_chars": 4000},
        "heartbeat": {"enabled": False, "interval_minutes": 30.0, "channel": 0, "chat_id": None},
        "budgets": {
            "daily_messages": 500,
            "daily_tokens": 2000000,
            "owner_daily_messages": None,
            "owner_daily_tokens": None,
        },
        "media": {
            "vision": "auto",
            "image_max_bytes": 1048576,
            "image_max_side_px": 2048,
            "download_timeout_s": 60.0,
            "transcription": None,
            "documents": {"enabled": True, "max_bytes": 20971520, "discord_upload_max_bytes": 10485760},
        },
        "replies": {"format": "markdown", "live": False, "live_interval_s": 1.5},
        "schedules": {
            "enabled": True,
            "timezone": "UTC",
            "max_jobs_per_chat": 20,
            "min_interval_s": 300,
            "missed_grace_s": 21600,
            "max_text_chars": 2000,
        },
    }
    assert normalized["agent"]["system_prompt"].strip()


@pytest.mark.parametrize("provider", sorted(DEFAULT_API_BASES))
def test_default_api_base_per_provider(provider: str) -> None:
    config = {
        "llm": {"provider": provider, "api_key": "k" * 40, "model": "m"},
        "channel": {"type": "telegram", "token": TG_TOKEN, "allowed_users": [1]},
    }
    assert validate(config).normalized["llm"]["api_base"] == DEFAULT_API_BASES[provider]


def test_api_base_normalization() -> None:
    config = {
        "llm": {
            "provider": "anthropic",
            "api_key": "sk-ant-x" + "a" * 30,
            "model": "claude",
            "api_base": "https://proxy.example/v1/",
        },
        "channel": {"type": "telegram", "token": TG_TOKEN, "allowed_users": [1]},
    }
    assert validate(config).normalized["llm"]["api_base"] == "https://proxy.example"


def test_custom_openai_base_allows_empty_key_and_any_shape() -> None:
    config = json.loads((EXAMPLES / "local-openai-compatible.json").read_text())
    result = validate(config)
    assert result.valid and result.warnings == []
    assert result.normalized["llm"]["api_key"] == ""
    config["llm"]["api_key"] = "ollama"
    result = validate(config)
    assert result.valid and result.warnings == []


def test_slack_channel_keeps_both_tokens() -> None:
    config = json.loads((EXAMPLES / "slack-openai.json").read_text())
    channel = validate(config).normalized["channels"][0]
    assert (channel["token"], channel["app_token"]) == (SLACK_BOT, SLACK_APP)
    upstream = {
        "agents": {"defaults": {"model": "gpt-4o-mini"}},
        "providers": {"openai": {"api_key": config["llm"]["api_key"]}},
        "channels": {
            "slack": {
                "enabled": True,
                "bot_token": SLACK_BOT,
                "app_token": SLACK_APP,
                "allow_from": ["U0123ABCD"],
            }
        },
    }
    assert validate(upstream).normalized["channels"] == validate(config).normalized["channels"]


def test_upstream_several_enabled_channels_become_several_entries() -> None:
    config = copy.deepcopy(FORM_3)
    config["channels"]["discord"] = {"enabled": True, "token": DC_TOKEN, "allow_from": ["123456789012345678"]}
    config["channels"]["slack"] = {
        "enabled": True,
        "bot_token": SLACK_BOT,
        "app_token": SLACK_APP,
        "allow_from": [],
    }
    result = validate(config)
    assert result.valid, [str(e) for e in result.errors]
    assert [c["type"] for c in result.normalized["channels"]] == ["telegram", "discord", "slack"]


@pytest.mark.parametrize(
    ("keys", "model", "provider", "expected"),
    [
        ({"openrouter": KEY}, "anything", "", "openrouter"),
        (
            {"openrouter": KEY, "anthropic": "sk-ant-" + "a" * 40},
            "anthropic/claude-3.5-haiku",
            "",
            "openrouter",
        ),
        (
            {"openai": "sk-" + "a" * 40, "anthropic": "sk-ant-" + "a" * 40},
            "claude-3-5-haiku",
            "",
            "anthropic",
        ),
        ({"openai": "sk-" + "a" * 40, "anthropic": "sk-ant-" + "a" * 40}, "gpt-4o", "", "openai"),
        ({"openai": "sk-" + "a" * 40, "openrouter": KEY}, "o3-mini", "", "openai"),
        ({"openai": "sk-" + "a" * 40, "openrouter": KEY}, "gpt-4o", "openrouter", "openrouter"),
        ({"openai": "sk-" + "a" * 40, "anthropic": "sk-ant-" + "a" * 40}, "x", "claude", "anthropic"),
    ],
)
def test_upstream_provider_selection_rule(keys: dict, model: str, provider: str, expected: str) -> None:
    config = copy.deepcopy(FORM_3)
    config["agents"]["defaults"]["model"] = model
    if provider:
        config["agents"]["defaults"]["provider"] = provider
    config["providers"] = {name: {"api_key": key} for name, key in keys.items()}
    result = validate(config)
    assert result.valid, [str(e) for e in result.errors]
    assert result.normalized["llm"]["provider"] == expected
    assert result.normalized["llm"]["api_key"] == keys[expected]


def all_strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in all_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in all_strings(v)]
    return [value] if isinstance(value, str) else []


def test_redact_hides_every_secret() -> None:
    config = json.loads((EXAMPLES / "multi-channel.json").read_text())
    config["channels"][0]["proxy"] = "socks5://alice:pr0xy-pass@proxy.example:1080"
    config["channels"][0]["api_base"] = "https://bob:b0t-api-pass@botapi.example"
    config["llm"]["api_base"] = "https://carol:llm-pass@llm.example/v1"
    config["channels"].append(
        {"type": "slack", "bot_token": SLACK_BOT, "app_token": SLACK_APP, "allowed_users": ["U0123ABCD"]}
    )
    result = validate(config)
    assert result.valid, [str(e) for e in result.errors]
    secrets = [
        config["llm"]["api_key"],
        TG_TOKEN,
        DC_TOKEN,
        SLACK_BOT,
        SLACK_APP,
        "pr0xy-pass",
        "b0t-api-pass",
        "llm-pass",
        "alice",
        "bob",
        "carol",
    ]
    original = copy.deepcopy(result.normalized)
    redacted = redact(result.normalized)
    assert result.normalized == original, "redact must not modify its argument"
    dumped = json.dumps(redacted)
    for secret in secrets:
        assert secret not in dumped
    assert json.dumps(result.as_dict()).count("***") >= 5
    for secret in secrets:
        assert secret not in json.dumps(result.as_dict())
    assert redacted["channels"][0]["proxy"] == "socks5://***@proxy.example:1080"
    assert redacted["llm"]["api_base"] == "https://***@llm.example/v1"
    assert redacted["llm"]["model"] == original["llm"]["model"]
    assert redacted["channels"][0]["allowed_users"] == original["channels"][0]["allowed_users"]
    assert all("***" not in s for s in all_strings(redact(validate(FORM_1).normalized)["agent"]))


def test_redact_keeps_empty_key_empty_and_tolerates_junk() -> None:
    config = json.loads((EXAMPLES / "local-openai-compatible.json").read_text())
    assert redact(validate(config).normalized)["llm"]["api_key"] == ""
    assert redact({}) == {}
    assert redact({"channels": [None, {"proxy": "http://[bad"}]}) == {"channels": [None, {"proxy": "***"}]}
