"""Anthropic Messages API through the official SDK (retries are ours: max_retries=0)."""

from __future__ import annotations

import logging
from typing import Any

import anthropic

from picoclaw_gateway.config import LLMConfig
from picoclaw_gateway.providers.base import (
    LLMResponse,
    Provider,
    ProviderAuthError,
    ProviderError,
    RetryableProviderError,
    ToolCall,
    parse_retry_after,
)

log = logging.getLogger(__name__)


def to_anthropic_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Neutral messages -> Anthropic turns: tool results become user tool_result blocks and
    consecutive same-role turns are merged (the API wants alternating roles)."""
    wire: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if wire and wire[-1]["role"] == role:
            wire[-1]["content"].extend(blocks)
        else:
            wire.append({"role": role, "content": blocks})

    for msg in messages:
        role = msg["role"]
        if role == "tool":
            add(
                "user",
                [{"type": "tool_result", "tool_use_id": msg["tool_call_id"], "content": msg["content"]}],
            )
        elif role == "assistant":
            blocks: list[dict[str, Any]] = []
            if msg.get("content"):
                blocks.append({"type": "text", "text": msg["content"]})
            for call in msg.get("tool_calls") or []:
                blocks.append(
                    {"type": "tool_use", "id": call["id"], "name": call["name"], "input": call["arguments"]}
                )
            if blocks:
                add("assistant", blocks)
        else:
            add("user", [{"type": "text", "text": msg.get("content") or " "}])
    return wire


def _retry_after(exc: anthropic.APIStatusError) -> float | None:
    return parse_retry_after(exc.response.headers.get("retry-after"))


class AnthropicProvider(Provider):
    def __init__(self, config: LLMConfig) -> None:
        self._config = config
        self._client = anthropic.AsyncAnthropic(
            api_key=config.api_key,
            base_url=config.api_base,
            max_retries=0,
            timeout=config.timeout_s,
        )

    async def chat(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMResponse:
        kwargs: dict[str, Any] = {
            "model": self._config.model,
            "max_tokens": self._config.max_tokens,
            "messages": to_anthropic_messages(messages),
        }
        if system:
            kwargs["system"] = system
        if self._config.temperature is not None:
            kwargs["temperature"] = self._config.temperature
        if tools:
            kwargs["tools"] = [
                {"name": t["name"], "description": t["description"], "input_schema": t["parameters"]}
                for t in tools
            ]
        try:
            response = await self._client.messages.create(**kwargs)
        except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as exc:
            raise ProviderAuthError(exc.status_code) from None
        except anthropic.APITimeoutError as exc:
            raise RetryableProviderError("LLM request timed out") from exc
        except anthropic.APIConnectionError as exc:
            raise RetryableProviderError(f"cannot reach the LLM provider ({type(exc).__name__})") from exc
        except anthropic.APIStatusError as exc:
            if exc.status_code == 429 or exc.status_code >= 500:
                raise RetryableProviderError(
                    f"LLM provider returned HTTP {exc.status_code}", retry_after=_retry_after(exc)
                ) from None
            raise ProviderError(
                f"LLM provider returned HTTP {exc.status_code}: {exc.message[:300]}"
            ) from None
        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in response.content:
            if block.type == "text":
                texts.append(block.text)
            elif block.type == "tool_use":
                args = block.input if isinstance(block.input, dict) else {"_value": block.input}
                calls.append(ToolCall(id=block.id, name=block.name, arguments=dict(args)))
        return LLMResponse(text="".join(texts), tool_calls=calls)

    async def close(self) -> None:
        await self._client.close()
