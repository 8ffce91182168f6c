"""Config keys of issue 16's formatting and fallback models: llm.fallbacks, llm.fallback_cooldown_s,
replies.format, and upstream agents.defaults.model_fallbacks; errors name the path and the fix,
fallback keys are secrets (redacted, never in messages)."""

from __future__ import annotations

import json
from typing import Any

from picoclaw_gateway.config import from_normalized
from picoclaw_gateway.config_validator import redact, validate

OR_KEY = "sk-or-v1-" + "0123456789abcdef" * 4
ANT_KEY = "sk-ant-api03-" + "b" * 40
TG_TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


def stack(llm_extra: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    llm = {"provider": "openrouter", "api_key": OR_KEY, "model": "openai/gpt-4o", **(llm_extra or {})}
    return {"llm": llm, "channel": {"type": "telegram", "token": TG_TOKEN, "allowed_users": [1]}, **top}


def problems(data: dict[str, Any]) -> list[str]:
    result = validate(data)
    return [str(p) for p in result.errors]


def test_fallbacks_are_normalized_and_inherit_the_key_of_the_same_endpoint() -> None:
    data = stack(
        {
            "fallbacks": [
                {"model": "meta-llama/llama-3.3-70b-instruct"},
                {"provider": "anthropic", "model": "claude-haiku", "api_key": ANT_KEY},
            ],
            "fallback_cooldown_s": 30,
        }
    )
    result = validate(data)
    assert result.valid, [str(p) for p in result.errors]
    llm = result.normalized["llm"]
    assert llm["fallbacks"] == [
        {
            "provider": "openrouter",
            "api_key": OR_KEY,
            "model": "meta-llama/llama-3.3-70b-instruct",
            "api_base": "https://openrouter.ai/api/v1",
        },
        {
            "provider": "anthropic",
            "api_key": ANT_KEY,
            "model": "claude-haiku",
            "api_base": "https://api.anthropic.com",
        },
    ]
    assert llm["fallback_cooldown_s"] == 30.0
    config = from_normalized(result.normalized, "/tmp/ws")
    assert [m.model for m in config.llm.fallbacks] == ["meta-llama/llama-3.3-70b-instruct", "claude-haiku"]
    assert config.llm.fallbacks[1].max_tokens == config.llm.max_tokens
    assert ANT_KEY in config.secrets(), "the log masking filter knows the fallback keys"
    shown = json.dumps(redact(result.normalized)) + json.dumps(result.as_dict())
    assert ANT_KEY not in shown and OR_KEY not in shown


def test_fallback_errors_name_the_path_and_the_fix_without_the_key() -> None:
    bad = stack(
        {
            "fallbacks": [
                {"provider": "anthropic", "model": "claude-haiku"},
                {"provider": "gemini", "model": "x"},
                {"model": "has space", "api_key": ANT_KEY},
                "gpt-4o",
            ],
            "fallback_cooldown_s": -1,
        }
    )
    found = problems(bad)
    assert any(p.startswith("$.llm.fallbacks[0].api_key: a fallback on another provider") for p in found)
    assert any(
        p.startswith('$.llm.fallbacks[1].provider: unknown provider "gemini" (fix: use one of') for p in found
    )
    assert any(p.startswith("$.llm.fallbacks[2].model: model id contains whitespace") for p in found)
    assert any(p.startswith("$.llm.fallbacks[3]: must be a JSON object, got string") for p in found)
    assert any(p.startswith("$.llm.fallback_cooldown_s: must be >= 0") for p in found)
    assert all(ANT_KEY not in p for p in found)
    too_many = problems(stack({"fallbacks": [{"model": f"m{i}"} for i in range(6)]}))
    assert too_many == ["$.llm.fallbacks: has 6 entries, at most 5 (fix: keep the 5 you trust most)"]


def test_a_fallback_that_is_the_model_itself_is_a_warning() -> None:
    result = validate(stack({"fallbacks": [{"model": "openai/gpt-4o"}]}))
    assert result.valid
    assert [str(w) for w in result.warnings] == [
        "$.llm.fallbacks[0].model: is the model of llm itself (fix: name another model, or remove this entry)"
    ]


def test_replies_format_and_live() -> None:
    assert validate(stack(replies={"format": "plain"})).normalized["replies"] == {
        "format": "plain",
        "live": False,
        "live_interval_s": 1.5,
    }
    live = validate(stack(replies={"live": True, "live_interval_s": 3}))
    assert from_normalized(live.normalized, "/tmp/ws").channels[0].live_interval_s == 3.0
    assert problems(stack(replies={"live": "yes", "live_interval_s": 0.1})) == [
        "$.replies.live_interval_s: must be >= 0.5 and <= 60, got 0.1 (fix: write a number >= 0.5 and <= 60)",
        '$.replies.live: must be a JSON boolean, got the string "yes" (fix: use true without quotes)',
    ]
    assert problems(stack(replies={"format": "html"})) == [
        '$.replies.format: unknown format "html" (fix: use "markdown" (each platform\'s own formatting) '
        'or "plain" (text as the model wrote it))'
    ]
    config = from_normalized(validate(stack(replies={"format": "plain"})).normalized, "/tmp/ws")
    assert config.channels[0].reply_format == "plain"


def _upstream(defaults: dict[str, Any], model_list: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "agents": {"defaults": defaults},
        "model_list": model_list,
        "channels": {"telegram": {"enabled": True, "token": TG_TOKEN, "allow_from": ["1"]}},
    }


def test_upstream_model_fallbacks_map_to_llm_fallbacks() -> None:
    data = _upstream(
        {"model_name": "main", "model_fallbacks": ["backup"]},
        [
            {"model_name": "main", "model": "openrouter/openai/gpt-4o", "api_key": OR_KEY},
            {"model_name": "backup", "model": "anthropic/claude-haiku", "api_key": ANT_KEY},
        ],
    )
    result = validate(data)
    assert result.valid, [str(p) for p in result.errors]
    assert result.normalized["llm"]["fallbacks"] == [
        {
            "provider": "anthropic",
            "api_key": ANT_KEY,
            "model": "claude-haiku",
            "api_base": "https://api.anthropic.com",
        }
    ]
    missing = _upstream({"model_name": "main", "model_fallbacks": ["nope"]}, data["model_list"])
    assert problems(missing) == [
        '$.agents.defaults.model_fallbacks[0]: no model_list entry has model_name "nope" '
        '(fix: use one of: "main", "backup")'
    ]
    classic = {
        "agents": {"defaults": {"model": "openai/gpt-4o", "model_fallbacks": ["openai/gpt-4o-mini"]}},
        "providers": {"openrouter": {"api_key": OR_KEY}},
        "channels": {"telegram": {"enabled": True, "token": TG_TOKEN, "allow_from": ["1"]}},
    }
    [entry] = validate(classic).normalized["llm"]["fallbacks"]
    assert entry == {
        "provider": "openrouter",
        "api_key": OR_KEY,
        "model": "openai/gpt-4o-mini",
        "api_base": "https://openrouter.ai/api/v1",
    }
