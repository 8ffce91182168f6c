"""`picoclaw doctor`'s verdict logic that the fakes cannot reach: the real services' names and links,
model list shapes, the report format. The checks themselves run against the fakes in e2e/test_doctor.py."""

from __future__ import annotations

from picoclaw_gateway.config import ChannelConfig, LLMConfig
from picoclaw_gateway.doctor.llm import _model_ids, _offered, _Target
from picoclaw_gateway.doctor.platforms import ChannelTarget
from picoclaw_gateway.doctor.report import EXIT_INVALID, FAIL, OK, SKIP, WARN, Check, exit_code, summary
from tests.test_unit_lazy_imports import HEAVY, imported_after


def test_default_bases_name_the_provider_and_link_its_key_and_model_pages() -> None:
    target = _Target(
        LLMConfig("openrouter", "k", "m", "https://openrouter.ai/api/v1/"), "https://openrouter.ai"
    )
    assert target.rejected(401) == Check(
        "llm.api_key",
        FAIL,
        "openrouter rejected the API key (HTTP 401)",
        "put a valid key in llm.api_key (create one at https://openrouter.ai/settings/keys)",
    )
    unknown = target.unknown_model("openai/gpt-4o-mni", ["openai/gpt-4o-mini", "openai/gpt-4o", "x/y"])
    assert unknown.message == "openrouter does not offer the model 'openai/gpt-4o-mni'"
    assert unknown.fix == (
        "set llm.model to a model id it offers (closest: openai/gpt-4o-mini, openai/gpt-4o); "
        "see https://openrouter.ai/models"
    )
    custom = _Target(LLMConfig("openai", "k", "m", "http://127.0.0.1:8000/v1"), "http://127.0.0.1:8000/v1")
    assert custom.what == "the LLM server" and custom.key_fix == "put a valid key in llm.api_key"
    assert custom.unknown_model("m", []).fix == "set llm.model to a model id it offers"
    anthropic = _Target(
        LLMConfig("anthropic", "k", "m", "https://api.anthropic.com"), "https://api.anthropic.com"
    )
    assert anthropic.what == "anthropic" and anthropic.models_path == "/v1/models"


def test_model_lists_in_the_shapes_servers_send() -> None:
    assert _model_ids({"object": "list", "data": [{"id": "a"}, {"id": "b"}, {"name": "no id"}, "x"]}) == [
        "a",
        "b",
    ]
    assert _model_ids([{"id": "a"}]) == ["a"]
    assert _model_ids({"models": []}) is None
    assert _model_ids("<html>") is None
    assert _offered("a/b:free", ["a/b:free"]) and _offered("a/b:nitro", ["a/b"])
    assert not _offered("a/c", ["a/b"]) and not _offered("a/c:nitro", ["a/b"])


def test_channels_default_to_the_real_services_and_are_named_as_in_the_config() -> None:
    telegram = ChannelTarget(ChannelConfig("telegram", "1:x"), "channel", None)
    assert telegram.base == "https://api.telegram.org" and telegram.token_name == "channel.token"
    slack = ChannelTarget(ChannelConfig("slack", "xoxb-x", app_token="xapp-x"), "channels[2]", None)
    assert slack.base == "https://slack.com/api" and slack.token_name == "channels[2].bot_token"
    discord = ChannelTarget(ChannelConfig("discord", "t", proxy="http://p:1"), "channels.discord", None)
    assert discord.base == "https://discord.com/api/v10" and discord.route == "channels.discord.proxy"


def test_report_lines_summary_and_exit_codes() -> None:
    checks = [
        Check("config", OK, "valid"),
        Check("llm.model", WARN, "not checked", "none"),
        Check("channel.app_token", SKIP, "shape only"),
    ]
    assert checks[1].line() == "warn llm.model: not checked — fix: none"
    assert exit_code(checks) == 0 and summary(checks, 0) == "doctor: ok (3 checks, 1 warning)"
    failed = [*checks, Check("llm.api_key", FAIL, "rejected", "fix it")]
    assert failed[-1].line() == "FAIL llm.api_key: rejected — fix: fix it"
    assert exit_code(failed) == 1 and summary(failed, 1) == "doctor: FAIL (1 of 4 checks failed, 1 warning)"
    assert summary([Check("$", FAIL, "bad", "x")], EXIT_INVALID) == (
        "doctor: INVALID config (1 error); nothing else checked"
    )


def test_doctor_imports_no_channel_or_provider_library() -> None:
    loaded = imported_after(
        "import picoclaw_gateway.cli, picoclaw_gateway.doctor.run, picoclaw_gateway.doctor.llm, "
        "picoclaw_gateway.doctor.platforms, picoclaw_gateway.providers.openai_compat"
    )
    assert "httpx" in loaded
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)
