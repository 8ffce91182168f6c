"""Providers against the protocol-level fakes on 127.0.0.1: tools, retries, Retry-After, auth errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from picoclaw_gateway.agent.loop import AgentLoop
from picoclaw_gateway.agent.tools import build_registry
from picoclaw_gateway.config import ExecConfig, LLMConfig
from picoclaw_gateway.providers.anthropic import AnthropicProvider
from picoclaw_gateway.providers.base import ProviderAuthError, RetryableProviderError, parse_retry_after
from picoclaw_gateway.providers.openai_compat import OpenAICompatProvider
from picoclaw_gateway.providers.retry import RetryPolicy, with_retry
from tests.conftest import ANTHROPIC_KEY, OPENROUTER_KEY
from tests.fakes import llm_script
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI

FAST = RetryPolicy(attempts=4, base_delay_s=0.05, max_delay_s=0.2, retry_after_cap_s=1.5)


def openai_provider(fake: FakeOpenAI, key: str = OPENROUTER_KEY) -> OpenAICompatProvider:
    return OpenAICompatProvider(LLMConfig("openrouter", key, "test/model", fake.base_url + "/api/v1"))


def agent(provider, workspace: Path, max_iter: int = 5) -> AgentLoop:  # type: ignore[no-untyped-def]
    return AgentLoop(provider, build_registry(workspace, ExecConfig()), "be brief", max_iter, FAST)


async def test_retry_honours_retry_after_then_succeeds(openai_fake: FakeOpenAI, tmp_path: Path) -> None:
    openai_fake.script.add(llm_script.error(429, retry_after=1), times=1)
    provider = openai_provider(openai_fake)
    started = time.monotonic()
    result = await agent(provider, tmp_path).run_turn([], "hi")
    elapsed = time.monotonic() - started
    await provider.close()
    assert result.reply == "echo: hi"
    assert elapsed >= 0.95, "waited for Retry-After"
    assert len(openai_fake.script.requests) == 2


async def test_retry_after_is_capped(openai_fake: FakeOpenAI) -> None:
    openai_fake.script.add(llm_script.error(503, retry_after=3600), times=1)
    provider = openai_provider(openai_fake)
    started = time.monotonic()
    response = await with_retry(lambda: provider.chat("", [{"role": "user", "content": "x"}], []), FAST)
    await provider.close()
    assert response.text == "echo: x"
    assert 1.4 < time.monotonic() - started < 5


async def test_persistent_5xx_gives_a_plain_message(openai_fake: FakeOpenAI, tmp_path: Path) -> None:
    openai_fake.script.add(llm_script.error(500), times=None)
    provider = openai_provider(openai_fake)
    result = await agent(provider, tmp_path).run_turn([], "hi")
    await provider.close()
    assert len(openai_fake.script.requests) == FAST.attempts
    assert result.new_messages == []
    assert "could not reach the language model" in result.reply and "500" in result.reply


async def test_connection_refused_is_retryable() -> None:
    provider = OpenAICompatProvider(LLMConfig("openai", "sk-x", "m", "http://127.0.0.1:9/v1"))
    with pytest.raises(RetryableProviderError):
        await provider.chat("", [{"role": "user", "content": "x"}], [])
    await provider.close()


async def test_bad_key_is_reported_plainly_without_retry(tmp_path: Path) -> None:
    fake = await FakeOpenAI(api_key=OPENROUTER_KEY).start()
    try:
        provider = openai_provider(fake, key="sk-or-v1-wrong")
        result = await agent(provider, tmp_path).run_turn([], "hi")
        await provider.close()
        assert len(fake.script.requests) <= 1
    finally:
        await fake.close()
    assert "the LLM provider rejected the API key (401) — check llm.api_key" in result.reply


async def test_openai_tool_calls_run_tools_and_loop(openai_fake: FakeOpenAI, tmp_path: Path) -> None:
    openai_fake.script.add(llm_script.tool_call("write_file", {"path": "n.txt", "content": "42"}), times=1)
    provider = openai_provider(openai_fake)
    result = await agent(provider, tmp_path).run_turn([], "save 42")
    await provider.close()
    assert (tmp_path / "n.txt").read_text() == "42"
    roles = [m["role"] for m in result.new_messages]
    assert roles == ["user", "assistant", "tool", "assistant"]
    second = openai_fake.script.requests[1].body
    assert second["messages"][0] == {"role": "system", "content": "be brief"}
    assert second["messages"][-1]["role"] == "tool"
    assert {t["function"]["name"] for t in second["tools"]} >= {"exec", "read_file", "write_file"}


async def test_tool_loop_is_bounded(openai_fake: FakeOpenAI, tmp_path: Path) -> None:
    openai_fake.script.add(llm_script.tool_call("list_dir", {"path": "."}), times=None)
    provider = openai_provider(openai_fake)
    result = await agent(provider, tmp_path, max_iter=3).run_turn([], "loop forever")
    await provider.close()
    assert "stopped after 3 tool steps" in result.reply
    assert len(openai_fake.script.requests) == 4


async def test_anthropic_tools_and_auth(tmp_path: Path) -> None:
    fake = await FakeAnthropic(api_key=ANTHROPIC_KEY).start()
    try:
        fake.script.add(llm_script.tool_call("list_dir", {"path": "."}), times=1)
        (tmp_path / "hello.txt").write_text("x")
        provider = AnthropicProvider(LLMConfig("anthropic", ANTHROPIC_KEY, "claude-x", fake.base_url))
        result = await agent(provider, tmp_path).run_turn([], "what files?")
        await provider.close()
        assert result.reply.startswith("echo:")
        body = fake.script.requests[1].body
        assert body["system"] == "be brief"
        assert body["messages"][-1]["content"][0]["type"] == "tool_result"
        assert "hello.txt" in body["messages"][-1]["content"][0]["content"]

        bad = AnthropicProvider(LLMConfig("anthropic", "sk-ant-wrong", "claude-x", fake.base_url))
        with pytest.raises(ProviderAuthError, match=r"rejected the API key \(401\)"):
            await bad.chat("", [{"role": "user", "content": "x"}], [])
        await bad.close()
    finally:
        await fake.close()


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
