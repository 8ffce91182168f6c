"""Fallback models: the configured model, then llm.fallbacks in order, each with its own retries.

A model whose retries all failed with 429, 5xx, a timeout or a connection error is skipped for
llm.fallback_cooldown_s, so the next messages go straight to the next model instead of waiting out
the same failure again. When every model is cooling down, the one whose cooldown ends first is
tried anyway: an answer late beats none. A fallback that rejects its key is skipped (logged);
the primary's key rejection is the owner's to fix and is reported as before. The answer says which
model gave it only when that was a fallback (LLMResponse.fallback_model). Log lines name the
model, never a key.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from picoclaw_gateway.providers.base import (
    LLMResponse,
    OnText,
    Provider,
    ProviderAuthError,
    ProviderError,
    RetryableProviderError,
)
from picoclaw_gateway.providers.retry import RetryPolicy, with_retry

log = logging.getLogger(__name__)


class FallbackChain(Provider):
    handles_retries = True

    def __init__(
        self,
        models: list[tuple[str, Provider]],
        cooldown_s: float,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.models = models  # (model id for messages and logs, provider), the configured model first
        self.cooldown_s = cooldown_s
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._cool_until = [0.0] * len(models)

    def _order(self) -> list[int]:
        now = self._clock()
        ready = [index for index, until in enumerate(self._cool_until) if until <= now]
        return ready or [min(range(len(self.models)), key=self._cool_until.__getitem__)]

    async def chat(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMResponse:
        return await self._run(lambda p: p.chat(system, messages, tools))

    async def chat_stream(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]], on_text: OnText
    ) -> LLMResponse:
        return await self._run(lambda p: p.chat_stream(system, messages, tools, on_text))

    async def _run(self, call: Callable[[Provider], Awaitable[LLMResponse]]) -> LLMResponse:
        failure: ProviderError | None = None
        for index in self._order():
            label, provider = self.models[index]
            try:
                response = await with_retry(lambda p=provider: call(p), self.policy)
            except RetryableProviderError as exc:
                self._cool_until[index] = self._clock() + self.cooldown_s
                log.warning(
                    "model %s failed after its retries (%s); skipping it for %.0f s",
                    label,
                    exc,
                    self.cooldown_s,
                )
                failure = exc
                continue
            except ProviderAuthError as exc:
                if index == 0:
                    raise
                log.error(
                    "fallback model %s: the key was rejected (%d) — fix: check llm.fallbacks[%d].api_key",
                    label,
                    exc.status,
                    index - 1,
                )
                failure = failure or RetryableProviderError(f"fallback model {label} rejected its key")
                continue
            if index:
                log.info("answered by fallback model %s", label)
                return dataclasses.replace(response, fallback_model=label)
            return response
        assert failure is not None  # _order() is never empty
        raise failure

    async def close(self) -> None:
        for _label, provider in self.models:
            await provider.close()
