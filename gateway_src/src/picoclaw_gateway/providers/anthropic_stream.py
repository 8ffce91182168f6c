"""Anthropic Messages API events put together (`stream: true`), for live replies.

The sequence: message_start (usage.input_tokens), then per content block content_block_start
(a text block, or a tool_use block with its id and name), content_block_delta (text_delta text,
or input_json_delta partial_json: the tool's input spelled out in pieces), content_block_stop;
then message_delta (stop_reason, usage.output_tokens so far) and message_stop. `ping` events
come at any time; an `error` event (overloaded_error...) can end the stream early. Read by
streaming.stream_completion like the OpenAI-compatible chunks.
"""

from __future__ import annotations

from typing import Any

from picoclaw_gateway.logging_setup import mask_secrets
from picoclaw_gateway.providers.base import (
    LLMResponse,
    ProviderError,
    RetryableProviderError,
    usage_tokens,
)
from picoclaw_gateway.providers.streaming import assembled_response

# Error event types worth another try (the same kinds the API answers with 429 / 5xx).
RETRYABLE_ERRORS = ("overloaded_error", "api_error", "rate_limit_error")


class AnthropicAssembler:
    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}  # block index -> id, name, input JSON so far
        self.input_tokens = 0
        self.output_tokens = 0

    def add(self, event: Any) -> bool:
        """Takes one event; True when it added text."""
        if not isinstance(event, dict):
            return False
        kind = event.get("type")
        if kind == "error":
            self._fail(event.get("error"))
        elif kind == "message_start":
            message = event.get("message")
            self._count(message.get("usage") if isinstance(message, dict) else None)
        elif kind == "message_delta":
            self._count(event.get("usage"))
        elif kind == "content_block_start":
            block, index = event.get("content_block"), event.get("index")
            if isinstance(block, dict) and block.get("type") == "tool_use" and isinstance(index, int):
                self.calls[index] = {"id": str(block.get("id") or ""), "name": str(block.get("name") or ""),
                                     "args": ""}  # fmt: skip
        elif kind == "content_block_delta":
            return self._delta(event.get("index"), event.get("delta"))
        return False

    def _delta(self, index: Any, delta: Any) -> bool:
        if not isinstance(delta, dict):
            return False
        if delta.get("type") == "text_delta" and isinstance(delta.get("text"), str) and delta["text"]:
            self.text.append(delta["text"])
            return True
        if delta.get("type") == "input_json_delta" and index in self.calls:
            self.calls[index]["args"] += str(delta.get("partial_json") or "")
        return False

    def _count(self, usage: Any) -> None:
        # Both counts are cumulative: message_delta repeats or raises what message_start said.
        self.input_tokens = max(self.input_tokens, usage_tokens(usage, "input_tokens"))
        self.output_tokens = max(self.output_tokens, usage_tokens(usage, "output_tokens"))

    @staticmethod
    def _fail(error: Any) -> None:
        kind = error.get("type") if isinstance(error, dict) else None
        detail = error.get("message", error) if isinstance(error, dict) else error
        # Masked before it is shortened: a key cut in half would no longer be recognised.
        message = f"the LLM provider returned an error: {mask_secrets(str(detail)[:1000])[:300]}"
        if kind in RETRYABLE_ERRORS:
            raise RetryableProviderError(message)
        raise ProviderError(message)

    def response(self, truncated: bool) -> LLMResponse:
        tokens = self.input_tokens + self.output_tokens
        return assembled_response(self.text, self.calls, truncated, tokens, "toolu_")
