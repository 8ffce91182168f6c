"""tools.web and api in the shared validator: defaults, path-and-fix errors, secrets redacted."""

from __future__ import annotations

from typing import Any

import pytest

from picoclaw_gateway.config import from_normalized
from picoclaw_gateway.config_validator import validate
from tests.conftest import BOT_TOKEN, OPENROUTER_KEY

API_TOKEN = "0123456789abcdef0123456789abcdef0123"
SEARCH_KEY = "BSAq1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6"


def config(**sections: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "llm": {"provider": "openrouter", "api_key": OPENROUTER_KEY, "model": "openai/gpt-4o-mini"},
        "channel": {"type": "telegram", "token": BOT_TOKEN, "allowed_users": [123]},
    }
    base.update(sections)
    return base


def errors(data: dict[str, Any]) -> list[str]:
    return [str(e) for e in validate(data).errors]


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"tools": {"web": {"search": {"provider": "bing"}}}},
         '$.tools.web.search.provider: unknown search provider "bing" (fix: use one of: brave,'),
        ({"tools": {"web": {"search": {"provider": "brave"}}}},
         "$.tools.web.search.api_key: the brave search API needs an API key"),
        ({"tools": {"web": {"search": {"provider": "tavily", "api_key": "YOUR_API_KEY"}}}},
         "$.tools.web.search.api_key: api_key is a placeholder"),
        ({"tools": {"web": {"search": {"provider": "searxng"}}}},
         "$.tools.web.search.api_base: searxng needs the address of your SearXNG server"),
        ({"tools": {"web": {"allow": ["::/0"]}}},
         '$.tools.web.allow[0]: "::/0" allows every address, which turns the SSRF guard off'),
        ({"tools": {"web": {"allow": ["bad host!"]}}},
         '$.tools.web.allow[0]: "bad host!" is neither an address, a network nor a host name'),
        ({"tools": {"web": {"fetch": {"max_bytes": 10}}}}, "$.tools.web.fetch.max_bytes:"),
        ({"api": {"enabled": True}}, "$.api.token: the API is enabled but has no token (fix: add"),
        ({"api": {"enabled": True, "token": "short-one"}}, "$.api.token: token is 9 characters, needs 32"),
        ({"api": {"enabled": True, "token": API_TOKEN, "listen": "localhost"}},
         '$.api.listen: "localhost" is not an IP address'),
        ({"api": {"enabled": True, "token": API_TOKEN, "mirror_to": {"channel": "slack", "chat_id": "1"}}},
         "$.api.mirror_to.channel: no slack channel is configured"),
    ],
)  # fmt: skip
def test_errors_name_the_path_and_a_fix(section: dict[str, Any], expected: str) -> None:
    found = errors(config(**section))
    assert any(line.startswith(expected) and "(fix: " in line for line in found), found


def test_valid_web_and_api_settings_reach_the_runtime_config_and_secrets_are_redacted() -> None:
    data = config(
        tools={
            "web": {
                "search": {"provider": "brave", "api_key": SEARCH_KEY},
                "allow": ["10.0.0.0/8", "NAS.lan"],
            }
        },
        api={"enabled": True, "token": API_TOKEN, "mirror_to": {"channel": "telegram", "chat_id": 123}},
    )
    result = validate(data)
    assert result.valid, result.errors
    runtime = from_normalized(result.normalized, "/tmp/ws")
    assert runtime.web.search.provider == "brave" and runtime.web.allow == ("10.0.0.0/8", "nas.lan")
    assert runtime.api.enabled and runtime.api.mirror_chat_id == "123"
    assert SEARCH_KEY in runtime.secrets() and API_TOKEN in runtime.secrets()
    shown = str(result.as_dict())
    assert SEARCH_KEY not in shown and API_TOKEN not in shown
    assert SEARCH_KEY not in repr(runtime) and API_TOKEN not in repr(runtime)


def test_metadata_in_the_allow_list_is_a_warning() -> None:
    result = validate(config(tools={"web": {"allow": ["169.254.0.0/16"]}}))
    assert result.valid
    assert [w.path for w in result.warnings] == ["$.tools.web.allow[0]"]


def test_upstream_brave_block_becomes_the_search_provider() -> None:
    upstream = {
        "agents": {"defaults": {"model": "openrouter/openai/gpt-4o-mini"}},
        "providers": {"openrouter": {"api_key": OPENROUTER_KEY}},
        "channels": {"telegram": {"enabled": True, "token": BOT_TOKEN, "allow_from": ["1"]}},
        "tools": {"web": {"brave": {"enabled": True, "api_key": SEARCH_KEY, "max_results": 3},
                          "duckduckgo": {"enabled": True}}},
    }  # fmt: skip
    result = validate(upstream)
    assert result.valid, result.errors
    search = result.normalized["tools"]["web"]["search"]
    assert (search["provider"], search["api_key"], search["max_results"]) == ("brave", SEARCH_KEY, 3)
    assert [w.path for w in result.warnings] == ["$.tools.web.duckduckgo"], "no key-less search here"
    assert result.as_dict()["normalized"]["tools"]["web"]["search"]["api_key"] == "***"
