"""OpenAI-compatible chat completions (OpenRouter, OpenAI, local servers) over httpx."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from picoclaw_gateway.config import LLMConfig
from picoclaw_gateway.http_client import shared_ssl_context
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


def to_openai_messages(system: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for msg in messages:
        if msg["role"] == "assistant" and msg.get("tool_calls"):
            wire.append(
                {
                    "role": "assistant",
                    "content": msg.get("content") or None,
                    "tool_calls": [
                        {
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])},
                        }
                        for call in msg["tool_calls"]
                    ],
                }
            )
        elif msg["role"] == "tool":
            wire.append({"role": "tool", "tool_call_id": msg["tool_call_id"], "content": msg["content"]})
        else:
            wire.append({"role": msg["role"], "content": msg.get("content") or ""})
    return wire


def _parse_arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {"_unparsed": str(raw)}
    return parsed if isinstance(parsed, dict) else {"_value": parsed}


def parse_completion(body: Any) -> LLMResponse:
    try:
        message = body["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        error = body.get("error") if isinstance(body, dict) else None
        raise ProviderError(f"the LLM returned an unexpected response: {str(error or body)[:200]}") from None
    calls = [
        ToolCall(
            id=str(call.get("id") or f"call_{i}"),
            name=call["function"]["name"],
            arguments=_parse_arguments(call["function"].get("arguments")),
        )
        for i, call in enumerate(message.get("tool_calls") or [])
    ]
    return LLMResponse(text=message.get("content") or "", tool_calls=calls)


def raise_for_status(status: int, headers: httpx.Headers, text: str) -> None:
    if status < 400:
        return
    if status in (401, 403):
        raise ProviderAuthError(status)
    if status == 429 or status >= 500:
        raise RetryableProviderError(
            f"LLM provider returned HTTP {status}", retry_after=parse_retry_after(headers.get("retry-after"))
        )
    raise ProviderError(f"LLM provider returned HTTP {status}: {text[:300]}")


class OpenAICompatProvider(Provider):
    def __init__(self, config: LLMConfig, client: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._url = config.api_base.rstrip("/") + "/chat/completions"
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(config.timeout_s, connect=15.0),
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=2),
            headers={"Authorization": f"Bearer {config.api_key}"},
            trust_env=True,
            verify=shared_ssl_context(),
        )

    async def chat(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMResponse:
        payload: dict[str, Any] = {
            "model": self._config.model,
            "messages": to_openai_messages(system, messages),
            "max_tokens": self._config.max_tokens,
        }
        if self._config.temperature is not None:
            payload["temperature"] = self._config.temperature
        if tools:
            payload["tools"] = [{"type": "function", "function": tool} for tool in tools]
        try:
            response = await self._client.post(self._url, json=payload)
        except httpx.TimeoutException as exc:
            raise RetryableProviderError(f"LLM request timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise RetryableProviderError(f"cannot reach the LLM provider ({type(exc).__name__})") from exc
        raise_for_status(response.status_code, response.headers, response.text)
        try:
            body = response.json()
        except ValueError:
            raise ProviderError("the LLM returned a response that is not JSON") from None
        return parse_completion(body)

    async def close(self) -> None:
        await self._client.aclose()
