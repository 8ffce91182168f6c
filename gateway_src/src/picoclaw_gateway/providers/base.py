"""Provider interface and the neutral message format the agent speaks.

Messages (what sessions store) are plain dicts:
  {"role": "user", "content": str}
  {"role": "assistant", "content": str, "tool_calls": [{"id", "name", "arguments": dict}]}
  {"role": "tool", "tool_call_id": str, "name": str, "content": str}
Each provider converts them to its wire format.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LLMResponse:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)


class ProviderError(Exception):
    """The LLM call failed; the message is safe to show the user."""


class ProviderAuthError(ProviderError):
    """401/403: the key is wrong. Retrying cannot help."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the LLM provider rejected the API key ({status}) — check llm.api_key")
        self.status = status


class RetryableProviderError(ProviderError):
    """429, 5xx, timeouts, connection errors: worth another try, after `retry_after` if given."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Provider(abc.ABC):
    @abc.abstractmethod
    async def chat(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMResponse:
        """One completion. `tools` are JSON-schema function specs: {name, description, parameters}."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (number or HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    import time

    return max(0.0, when.timestamp() - time.time())
