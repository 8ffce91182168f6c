"""Anthropic Messages API through the official SDK (retries are ours: max_retries=0)."""

from __future__ import annotations

import logging
from typing import Any

import anthropic
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

API_VERSION = "2023-06-01"  # the anthropic-version header the SDK sends too


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
        elif isinstance(msg.get("content"), list):  # text + image parts (media/turn.py)
            add("user", [_anthropic_block(part) for part in msg["content"]])
        else:
            add("user", [{"type": "text", "text": msg.get("content") or " "}])
    return wire


def _anthropic_block(part: dict[str, Any]) -> dict[str, Any]:
    if part["type"] == "image":
        source = {"type": "base64", "media_type": part["mime"], "data": part["data"]}
        return {"type": "image", "source": source}
    return {"type": "text", "text": part["text"]}


def _bad(field: str, problem: str) -> ProviderError:
    return ProviderError(
        f"the LLM's response has {problem} ({field}) — fix: try again, or check llm.api_base "
        "points to the Anthropic Messages API"
    )


def parse_message(body: Any) -> LLMResponse:
    """A Messages API body -> LLMResponse; unknown block types (thinking...) are skipped."""
    if not isinstance(body, dict):
        raise _bad("body", f"a {type(body).__name__} instead of a JSON object")
    content = body.get("content")
    if not isinstance(content, list):
        error = body.get("error")
        if error:
            detail = mask_secrets(str(error.get("message", error) if isinstance(error, dict) else error))[
                :300
            ]
            raise ProviderError(f"the LLM provider returned an error: {detail}")
        raise _bad("content", "no content list")
    texts: list[str] = []
    calls: list[ToolCall] = []
    for i, block in enumerate(content):
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif block.get("type") == "tool_use":
            name = block.get("name")
            if not isinstance(name, str) or not name:
                raise _bad(f"content[{i}].name", "a tool call without a name")
            args = block.get("input")
            calls.append(
                ToolCall(
                    id=str(block.get("id") or f"toolu_{i}"),
                    name=name,
                    arguments=dict(args) if isinstance(args, dict) else {"_value": args},
                )
            )
    tokens = usage_tokens(body.get("usage"), "input_tokens", "output_tokens")
    return LLMResponse(text="".join(texts), tool_calls=calls, tokens=tokens)


def _retry_after(exc: anthropic.APIStatusError) -> float | None:
    return parse_retry_after(exc.response.headers.get("retry-after"))


class AnthropicProvider(Provider):
    def __init__(self, config: LLMConfig) -> None:
        self._config = config
        # Ours, so every body (answers and error pages) is read with the size cap.
        self._http = CappedAsyncClient(
            max_response_bytes=config.max_response_bytes,
            timeout=httpx.Timeout(config.timeout_s, connect=15.0),
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=2),
            follow_redirects=True,
            verify=shared_ssl_context(),
        )
        self._client = anthropic.AsyncAnthropic(
            api_key=config.api_key,
            base_url=config.api_base,
            max_retries=0,
            timeout=config.timeout_s,
            http_client=self._http,
        )

    def _request(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> dict[str, Any]:
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
        return kwargs

    async def chat_stream(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]], on_text: OnText
    ) -> LLMResponse:
        """The Messages API's server-sent events, read by the shared streaming reader (the SDK's
        event models would be built for every piece of text)."""
        from picoclaw_gateway.providers.anthropic_stream import AnthropicAssembler
        from picoclaw_gateway.providers.openai_compat import raise_for_status
        from picoclaw_gateway.providers.streaming import stream_completion

        headers = {"x-api-key": self._config.api_key, "anthropic-version": API_VERSION}
        url = self._config.api_base.rstrip("/") + "/v1/messages"
        return await stream_completion(
            self._http,
            url,
            self._request(system, messages, tools),
            on_text,
            raise_for_status,
            assembler=AnthropicAssembler(),
            headers=headers,
        )

    async def chat(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMResponse:
        kwargs = self._request(system, messages, tools)
        try:
            raw = await self._client.messages.with_raw_response.create(**kwargs)
        except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as exc:
            raise ProviderAuthError(exc.status_code) from None
        except anthropic.APITimeoutError as exc:
            raise RetryableProviderError("LLM request timed out") from exc
        except anthropic.APIConnectionError as exc:
            raise RetryableProviderError(f"cannot reach the LLM provider ({type(exc).__name__})") from exc
        except anthropic.APIStatusError as exc:
            if is_context_too_long(exc.status_code, exc.message):
                raise ContextTooLongError(
                    f"the conversation is too long for the model (HTTP {exc.status_code})"
                ) from None
            if exc.status_code == 429 or exc.status_code >= 500:
                raise RetryableProviderError(
                    f"LLM provider returned HTTP {exc.status_code}", retry_after=_retry_after(exc)
                ) from None
            raise ProviderError(
                # Masked before it is shortened: a key cut in half would no longer be recognised.
                f"LLM provider returned HTTP {exc.status_code}: {mask_secrets(exc.message[:1000])[:300]}"
            ) from None
        response = raw.http_response
        return parse_body(
            response.content,
            was_truncated(response),
            parse_message,
            self._config.max_response_bytes,
            "check llm.api_base",
        )

    async def close(self) -> None:
        await self._client.close()
