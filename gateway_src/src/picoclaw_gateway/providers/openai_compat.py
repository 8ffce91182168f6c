"""OpenAI-compatible chat completions (OpenRouter, OpenAI, local servers) over httpx."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from picoclaw_gateway.config import LLMConfig
from picoclaw_gateway.http_client import CappedAsyncClient, shared_ssl_context, was_truncated
from picoclaw_gateway.logging_setup import mask_secrets
from picoclaw_gateway.providers.base import (
    ContextTooLongError,
    LLMResponse,
    OnText,
    Provider,
    ProviderAuthError,
    ProviderError,
    RetryableProviderError,
    ToolCall,
    is_context_too_long,
    parse_body,
    parse_retry_after,
    usage_tokens,
)

log = logging.getLogger(__name__)

STREAM_USAGE = {"stream_options": {"include_usage": True}}


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
        elif isinstance(msg.get("content"), list):  # text + image parts (media/turn.py)
            wire.append({"role": msg["role"], "content": [_openai_part(part) for part in msg["content"]]})
        else:
            wire.append({"role": msg["role"], "content": msg.get("content") or ""})
    return wire


def _openai_part(part: dict[str, Any]) -> dict[str, Any]:
    if part["type"] == "image":
        return {"type": "image_url", "image_url": {"url": f"data:{part['mime']};base64,{part['data']}"}}
    return {"type": "text", "text": part["text"]}


def _parse_arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {"_unparsed": str(raw)}
    return parsed if isinstance(parsed, dict) else {"_value": parsed}


def _bad(field: str, problem: str) -> ProviderError:
    return ProviderError(
        f"the LLM's response has {problem} ({field}) — fix: try again, or use a model/server that "
        "speaks the OpenAI chat completions format"
    )


def _content_text(content: Any, field: str) -> str:
    """`content` as servers send it: a string, null, or a list of parts (strings or
    {"type": "text"|"output_text"|"refusal", "text"|"refusal": ...}; other parts, e.g. images, skipped)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _bad(field, f"content of type {type(content).__name__}")
    texts: list[str] = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            value = part.get("text", part.get("refusal"))
            if isinstance(value, dict):  # {"text": {"value": ...}} (Assistants-style parts)
                value = value.get("value")
            if isinstance(value, str):
                texts.append(value)
    return "".join(texts)


def _tool_calls(raw: Any, field: str) -> list[ToolCall]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad(field, "tool_calls that are not a list")
    calls: list[ToolCall] = []
    for i, call in enumerate(raw):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            raise _bad(f"{field}[{i}].function", "a tool call without its function")
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise _bad(f"{field}[{i}].function.name", "a tool call without a name")
        calls.append(
            ToolCall(
                id=str(call.get("id") or f"call_{i}"),
                name=name,
                arguments=_parse_arguments(function.get("arguments")),
            )
        )
    return calls


def parse_completion(body: Any) -> LLMResponse:
    """A chat completion body -> LLMResponse; anything unusable is a ProviderError naming the field."""
    if not isinstance(body, dict):
        raise _bad("body", f"a {type(body).__name__} instead of a JSON object")
    choices = body.get("choices")
    if not choices:
        error = body.get("error")
        if error:  # some servers answer errors with HTTP 200
            detail = mask_secrets(str(error.get("message", error) if isinstance(error, dict) else error))[
                :300
            ]
            if is_context_too_long(400, detail):
                raise ContextTooLongError(f"the conversation is too long for the model: {detail}")
            raise ProviderError(f"the LLM provider returned an error: {detail}")
        raise _bad("choices", "no choices")
    choice = choices[0] if isinstance(choices, list) else None
    if not isinstance(choice, dict):
        raise _bad("choices[0]", "no readable choice")
    message = choice.get("message")
    if message is None and isinstance(choice.get("text"), str):
        message = choice["text"]  # legacy completions shape
    if isinstance(message, str):
        return LLMResponse(text=message)
    if not isinstance(message, dict):
        raise _bad("choices[0].message", "no message")
    text = _content_text(message.get("content"), "choices[0].message.content")
    if not text and isinstance(message.get("refusal"), str):
        text = message["refusal"]
    return LLMResponse(
        text=text,
        tool_calls=_tool_calls(message.get("tool_calls"), "choices[0].message.tool_calls"),
        tokens=usage_tokens(body.get("usage"), "prompt_tokens", "completion_tokens"),
    )


def raise_for_status(status: int, headers: httpx.Headers, text: str) -> None:
    if status < 400:
        return
    if status in (401, 403):
        raise ProviderAuthError(status)
    if is_context_too_long(status, text):
        raise ContextTooLongError(f"the conversation is too long for the model (HTTP {status})")
    if status == 429 or status >= 500:
        raise RetryableProviderError(
            f"LLM provider returned HTTP {status}", retry_after=parse_retry_after(headers.get("retry-after"))
        )
    # Masked before it is shortened: a key cut in half would no longer be recognised.
    raise ProviderError(f"LLM provider returned HTTP {status}: {mask_secrets(text[:1000])[:300]}")


def api_client(
    config: LLMConfig, *, timeout: httpx.Timeout, max_response_bytes: int | None = None
) -> CappedAsyncClient:
    """The client every call to an OpenAI-compatible API goes through (the provider, `picoclaw doctor`):
    the key as a bearer token, proxies from the environment, the shared TLS context. Responses are
    capped at `max_response_bytes`, by default the configured llm.max_response_bytes."""
    return CappedAsyncClient(
        max_response_bytes=max_response_bytes or config.max_response_bytes,
        timeout=timeout,
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=2),
        headers={"Authorization": f"Bearer {config.api_key}"},
        trust_env=True,
        verify=shared_ssl_context(),
    )


class OpenAICompatProvider(Provider):
    def __init__(self, config: LLMConfig, client: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._url = config.api_base.rstrip("/") + "/chat/completions"
        self._client = client or api_client(config, timeout=httpx.Timeout(config.timeout_s, connect=15.0))
        self._stream_usage = True  # ask streams for their usage chunk until the server refuses it

    def _payload(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self._config.model,
            "messages": to_openai_messages(system, messages),
            "max_tokens": self._config.max_tokens,
        }
        if self._config.temperature is not None:
            payload["temperature"] = self._config.temperature
        if tools:
            payload["tools"] = [{"type": "function", "function": tool} for tool in tools]
        return payload

    async def chat_stream(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]], on_text: OnText
    ) -> LLMResponse:
        from picoclaw_gateway.providers.streaming import stream_completion

        payload = self._payload(system, messages, tools)
        if self._stream_usage:
            # include_usage: a last chunk with the usage, so budgets count a streamed turn too.
            try:
                return await stream_completion(
                    self._client, self._url, {**payload, **STREAM_USAGE}, on_text, raise_for_status
                )
            except ProviderError as exc:
                if isinstance(exc, RetryableProviderError) or "stream_options" not in str(exc):
                    raise
                self._stream_usage = False  # an older server: stream without, for good
                log.warning(
                    "the LLM server refused stream_options (%s); live replies stream without it, "
                    "so budgets count no tokens for them",
                    exc,
                )
        return await stream_completion(self._client, self._url, payload, on_text, raise_for_status)

    async def chat(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMResponse:
        payload = self._payload(system, messages, tools)
        try:
            response = await self._client.post(self._url, json=payload)
        except httpx.TimeoutException as exc:
            raise RetryableProviderError(f"LLM request timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise RetryableProviderError(f"cannot reach the LLM provider ({type(exc).__name__})") from exc
        raise_for_status(response.status_code, response.headers, response.text)
        return parse_body(
            response.content,
            was_truncated(response),
            parse_completion,
            self._config.max_response_bytes,
            "check llm.api_base (an OpenAI-compatible base URL ends in /v1 or /api/v1)",
        )

    async def close(self) -> None:
        await self._client.aclose()
