"""FallbackChain's order and cooldowns, on a clock the test moves (the e2e test covers the wire)."""

from __future__ import annotations

from typing import Any

import pytest

from picoclaw_gateway.providers.base import (
    LLMResponse,
    Provider,
    ProviderAuthError,
    ProviderError,
    RetryableProviderError,
)
from picoclaw_gateway.providers.fallback import FallbackChain
from picoclaw_gateway.providers.retry import RetryPolicy


class Scripted(Provider):
    """Answers with its name, or raises what `failing` holds; counts calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failing: Exception | None = None
        self.calls = 0

    async def chat(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMResponse:
        self.calls += 1
        if self.failing is not None:
            raise self.failing
        return LLMResponse(text=self.name)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def chain(clock: Clock, *providers: Scripted) -> FallbackChain:
    return FallbackChain(
        [(p.name, p) for p in providers], 60.0, RetryPolicy(attempts=2, base_delay_s=0.0), clock
    )


async def test_cooldown_skips_a_failed_model_until_it_ends() -> None:
    clock, primary, backup = Clock(), Scripted("primary"), Scripted("backup")
    models = chain(clock, primary, backup)
    primary.failing = RetryableProviderError("HTTP 429", retry_after=0)
    answer = await models.chat("", [], [])
    assert (answer.text, answer.fallback_model, primary.calls, backup.calls) == ("backup", "backup", 2, 1)
    clock.now += 59
    assert (await models.chat("", [], [])).fallback_model == "backup" and primary.calls == 2
    primary.failing = None
    clock.now += 2
    answer = await models.chat("", [], [])
    assert (answer.text, answer.fallback_model, primary.calls) == ("primary", None, 3)


async def test_every_model_cooling_tries_the_one_that_recovers_first() -> None:
    clock, first, second = Clock(), Scripted("first"), Scripted("second")
    models = chain(clock, first, second)
    first.failing = second.failing = RetryableProviderError("HTTP 503")
    with pytest.raises(RetryableProviderError):
        await models.chat("", [], [])
    clock.now += 1
    second.failing = None
    with pytest.raises(RetryableProviderError):
        await models.chat("", [], [])  # only "first" (cooling the shortest) is tried
    assert (first.calls, second.calls) == (4, 2)


async def test_key_errors_skip_a_fallback_but_not_the_configured_model() -> None:
    clock, primary, bad_key, backup = Clock(), Scripted("primary"), Scripted("bad-key"), Scripted("backup")
    models = chain(clock, primary, bad_key, backup)
    primary.failing = RetryableProviderError("timed out")
    bad_key.failing = ProviderAuthError(401)
    assert (await models.chat("", [], [])).fallback_model == "backup"
    primary.failing = ProviderAuthError(401)
    fresh = chain(Clock(), primary, backup)
    with pytest.raises(ProviderAuthError):
        await fresh.chat("", [], [])
    primary.failing = ProviderError("HTTP 400: bad request")  # not a fallback case: reported as is
    with pytest.raises(ProviderError, match="bad request"):
        await chain(Clock(), primary, backup).chat("", [], [])
    assert backup.calls == 1
