"""Provider interface and the neutral message format the agent speaks.

Messages (what sessions store) are plain dicts:
  {"role": "user", "content": str}
  {"role": "assistant", "content": str, "tool_calls": [{"id", "name", "arguments": dict}]}
  {"role": "tool", "tool_call_id": str, "name": str, "content": str}
Each provider converts them to its wire format.
"""

from __future__ import annotations

import abc
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from picoclaw_gateway.providers.truncated_json import close_truncated

# The largest LLM response body read is llm.max_response_bytes (default 1 MiB; see the
# validator's DEFAULTS). Past it the body is cut and the connection dropped, so a runaway or
# hostile answer costs ~6x the cap in memory (bytes, text, parsed copies) instead of its full size
# several times over; with 4 turns in flight at the default that is ~25 MB, inside 128 MB.
TRUNCATED_NOTE = "[cut: the model's response was larger than {size}; the rest was not read]"


def format_size(size: int) -> str:
    """Bytes for a person: "1 MiB", "512 KiB", "1.5 MiB", "1000 bytes"."""
    for unit, factor in (("MiB", 2**20), ("KiB", 2**10)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LLMResponse:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    truncated: bool = False  # the body passed llm.max_response_bytes: text is what came before the cut
    tokens: int = 0  # prompt + completion tokens the provider reported (0: not reported)
    fallback_model: str | None = None  # the llm.fallbacks model that answered; None: the configured one


def usage_tokens(usage: Any, *keys: str) -> int:
    """The sum of the non-negative integer `keys` of a provider's usage object (0 if absent)."""
    if not isinstance(usage, dict):
        return 0
    return sum(v for k in keys if type(v := usage.get(k)) is int and v > 0)


class ProviderError(Exception):
    """The LLM call failed; the message is safe to show the user."""


class ProviderAuthError(ProviderError):
    """401/403: the key is wrong. Retrying cannot help."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the LLM provider rejected the API key ({status}) — check llm.api_key")
        self.status = status


class ContextTooLongError(ProviderError):
    """The request was too large for the model (context length / 413): shorten and retry."""


# How providers say "too long": OpenAI/OpenRouter "maximum context length", code
# context_length_exceeded; Anthropic "prompt is too long", request_too_large; vLLM/llama.cpp
# "exceeds the context window"/"too many tokens".
_CONTEXT_TOO_LONG = re.compile(
    r"context.length|context.window|maximum context|prompt is too long|too many tokens"
    r"|request.too.large|reduce the length|input is too long|tokens? exceed",
    re.IGNORECASE,
)


def is_context_too_long(status: int, text: str) -> bool:
    return status == 413 or (status == 400 and bool(_CONTEXT_TOO_LONG.search(text)))


class RetryableProviderError(ProviderError):
    """429, 5xx, timeouts, connection errors: worth another try, after `retry_after` if given."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


OnText = Callable[[str], None]  # live replies: gets all the answer's text so far, as it arrives


class Provider(abc.ABC):
    handles_retries = False  # True: chat() retries transient failures itself (providers/fallback.py)

    @abc.abstractmethod
    async def chat(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMResponse:
        """One completion. `tools` are JSON-schema function specs: {name, description, parameters}."""

    async def chat_stream(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]], on_text: OnText
    ) -> LLMResponse:
        """chat(), telling `on_text` the text as it arrives; this default (no streaming) tells nothing."""
        return await self.chat(system, messages, tools)

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass


def truncated_response(body: Any, parse: Any, max_bytes: int) -> LLMResponse:
    """An answer cut at `max_bytes` (llm.max_response_bytes): its text up to the cut (tool calls
    are dropped, their arguments may be cut too), or a ProviderError when no text survived."""
    response: LLMResponse | None = None
    if body is not None:
        try:
            response = parse(body)
        except ProviderError:
            response = None
    if response is None or not response.text.strip():
        raise ProviderError(
            f"the model's response was larger than {format_size(max_bytes)} and held no "
            "readable text — fix: ask for a shorter answer, or raise llm.max_response_bytes"
        )
    return LLMResponse(text=response.text, truncated=True)


def parse_body(content: bytes, truncated: bool, parse: Any, max_bytes: int, not_json_fix: str) -> LLMResponse:
    """A response body read under the size cap: cut at the cap, what survives of it (see
    truncated_response); otherwise JSON handed to `parse`, or a ProviderError naming the fix."""
    if truncated:
        return truncated_response(close_truncated(content.decode("utf-8", "ignore")), parse, max_bytes)
    try:
        body = json.loads(content)
    except ValueError:
        raise ProviderError(f"the LLM returned a response that is not JSON — fix: {not_json_fix}") from None
    return parse(body)


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
