"""Retry an LLM call on transient failures with exponential backoff, jitter and Retry-After."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from picoclaw_gateway.providers.base import RetryableProviderError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4  # total tries
    base_delay_s: float = 1.0
    max_delay_s: float = 20.0
    retry_after_cap_s: float = 60.0  # a server asking for longer is not worth a chat user's wait


async def with_retry(call: Callable[[], Awaitable[T]], policy: RetryPolicy | None = None) -> T:
    policy = policy or RetryPolicy()
    for attempt in range(1, policy.attempts + 1):
        try:
            return await call()
        except RetryableProviderError as exc:
            if attempt >= policy.attempts:
                raise
            if exc.retry_after is not None:
                delay = min(exc.retry_after, policy.retry_after_cap_s)
            else:
                backoff = min(policy.max_delay_s, policy.base_delay_s * 2 ** (attempt - 1))
                delay = backoff * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not crypto
            log.warning(
                "LLM call failed (%s); retry %d/%d in %.1f s", exc, attempt, policy.attempts - 1, delay
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
