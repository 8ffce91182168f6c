"""llm.fallbacks: after the configured model's retries fail with 429 the next model answers, the
failed model is skipped for llm.fallback_cooldown_s (the fake counts requests per model), and the
reply names the model only when it was a fallback. The fallback's own key is used and never logged."""

from __future__ import annotations

import asyncio
import time

from tests.conftest import OPENAI_KEY, OPENROUTER_KEY
from tests.e2e.conftest import AskFn, StartGateway
from tests.fakes import llm_script
from tests.fakes.openai_api import FakeOpenAI

PRIMARY, FALLBACK = "test/model", "gpt-test"
COOLDOWN_S = 4.0
NOTE = f"\n\n(answered by the fallback model {FALLBACK})"  # the `code` span shows as plain text


async def test_a_rate_limited_model_falls_back_and_cools_down(
    start_gateway: StartGateway, ask: AskFn, openai_fake: FakeOpenAI
) -> None:
    fallback = {
        "provider": "openai",
        "model": FALLBACK,
        "api_key": OPENAI_KEY,
        "api_base": f"{openai_fake.base_url}/v1",
    }
    gateway = await start_gateway(extra={"llm": {"fallbacks": [fallback], "fallback_cooldown_s": COOLDOWN_S}})
    counts = openai_fake.script.model_counts
    openai_fake.script.add(llm_script.error(429, "rate limited", retry_after=0), times=None, model=PRIMARY)

    # Retries first (4 attempts of the configured model), then the fallback answers, and says so.
    assert await ask("first") == "echo: first" + NOTE
    failed_at = time.monotonic()
    assert (counts[PRIMARY], counts[FALLBACK]) == (4, 1)
    fallback_request = openai_fake.script.requests[-1]
    assert fallback_request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert fallback_request.path == "/v1/chat/completions"

    # Within the cooldown the rate-limited model is not asked at all.
    assert await ask("second") == "echo: second" + NOTE
    assert (counts[PRIMARY], counts[FALLBACK]) == (4, 2)

    # After the cooldown the configured model is asked again; its answer carries no note.
    openai_fake.script.clear()
    await asyncio.sleep(max(0.0, failed_at + COOLDOWN_S + 0.2 - time.monotonic()))
    assert await ask("third") == "echo: third"
    assert (counts[PRIMARY], counts[FALLBACK]) == (5, 2)
    assert openai_fake.script.requests[-1].headers["authorization"] == f"Bearer {OPENROUTER_KEY}"
    history = openai_fake.script.requests[-1].body["messages"]
    assert not any("answered by" in str(m.get("content")) for m in history), "the note is not history"

    output = gateway.output()
    assert f"model={PRIMARY} fallbacks={FALLBACK} " in output
    assert f"model {PRIMARY} failed after its retries" in output and "answered by fallback model" in output
    assert OPENAI_KEY not in output and OPENROUTER_KEY not in output


async def test_when_every_model_fails_the_user_gets_the_plain_notice(
    start_gateway: StartGateway, ask: AskFn, openai_fake: FakeOpenAI
) -> None:
    fallback = {"model": FALLBACK}  # the same provider and endpoint: the configured key serves it
    await start_gateway(extra={"llm": {"fallbacks": [fallback], "fallback_cooldown_s": 60}})
    openai_fake.script.add(llm_script.error(503, "overloaded", retry_after=0), times=None)
    reply = await ask("anyone there?", wait_s=30)
    assert reply.startswith("Sorry, I could not reach the language model: LLM provider returned HTTP 503")
    counts = openai_fake.script.model_counts
    assert (counts[PRIMARY], counts[FALLBACK]) == (4, 4)
    assert all(r.headers["authorization"] == f"Bearer {OPENROUTER_KEY}" for r in openai_fake.script.requests)
