"""An answer read as it arrives (server-sent events), for every provider that streams.

Used only for live replies (replies.live): each piece of text is handed to `on_text` with all the
text so far, and the whole answer (text, tool calls assembled from their deltas, and the tokens
the provider reports at the end) is returned like a plain completion. The wire format is the
assembler's: OpenAI-compatible chunks here (`stream_options.include_usage` asks for the usage
chunk), Anthropic's Messages events in anthropic_stream.py. The body is read through the same
size cap as any other answer; past it the answer is what arrived before the cut.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from picoclaw_gateway.http_client import was_truncated
from picoclaw_gateway.logging_setup import mask_secrets
from picoclaw_gateway.providers.base import (
    LLMResponse,
    OnText,
    ProviderError,
    RetryableProviderError,
    ToolCall,
    usage_tokens,
)


class Assembler(Protocol):
    """One provider's stream events put together (the neutral interface of stream_completion)."""

    text: list[str]

    def add(self, event: Any) -> bool:
        """Takes one decoded `data:` event; True when it added text. Raises ProviderError for an
        error event."""
        ...

    def response(self, truncated: bool) -> LLMResponse: ...


def arguments_of(raw: str) -> dict[str, Any]:
    """A tool call's arguments from the JSON text its deltas spelled out."""
    try:
        parsed = json.loads(raw or "{}")
    except ValueError:
        return {"_unparsed": raw}
    return parsed if isinstance(parsed, dict) else {"_value": parsed}


class _Assembler:
    """OpenAI-compatible chunks: text and tool calls from their deltas, tokens from the usage chunk
    (the last one, `choices: []`, sent when `stream_options.include_usage` is asked for)."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.tokens = 0

    def add(self, chunk: Any) -> bool:
        """Takes one chunk; True when it added text."""
        if not isinstance(chunk, dict):
            return False
        if chunk.get("error"):
            detail = chunk["error"].get("message") if isinstance(chunk["error"], dict) else chunk["error"]
            # Masked before it is shortened: a key cut in half would no longer be recognised.
            raise ProviderError(
                f"the LLM provider returned an error: {mask_secrets(str(detail)[:1000])[:300]}"
            )
        if isinstance(chunk.get("usage"), dict):
            self.tokens = usage_tokens(chunk["usage"], "prompt_tokens", "completion_tokens")
        choices = chunk.get("choices")
        delta = (
            choices[0].get("delta")
            if isinstance(choices, list) and choices and isinstance(choices[0], dict)
            else None
        )
        if not isinstance(delta, dict):
            return False
        for call in delta.get("tool_calls") or []:
            if not isinstance(call, dict):
                continue
            index = call.get("index", len(self.calls))
            slot = self.calls.setdefault(
                index if isinstance(index, int) else len(self.calls), {"id": "", "name": "", "args": ""}
            )
            function = call.get("function") if isinstance(call.get("function"), dict) else {}
            slot["id"] = slot["id"] or str(call.get("id") or "")
            slot["name"] += str(function.get("name") or "")
            slot["args"] += str(function.get("arguments") or "")
        content = delta.get("content")
        if isinstance(content, str) and content:
            self.text.append(content)
            return True
        return False

    def response(self, truncated: bool) -> LLMResponse:
        return assembled_response(self.text, self.calls, truncated, self.tokens, "call_")


def assembled_response(
    text: list[str], calls: dict[int, dict[str, str]], truncated: bool, tokens: int, id_prefix: str
) -> LLMResponse:
    """The answer from its pieces: `calls` maps a position to the call's id, name and arguments
    JSON. Past the size cap the tool calls are dropped (their arguments may be cut too)."""
    tool_calls = [
        ToolCall(
            id=slot["id"] or f"{id_prefix}{index}", name=slot["name"], arguments=arguments_of(slot["args"])
        )
        for index, slot in sorted(calls.items())
        if slot["name"]
    ]
    return LLMResponse(
        text="".join(text), tool_calls=[] if truncated else tool_calls, truncated=truncated, tokens=tokens
    )


async def stream_completion(
    client: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any],
    on_text: OnText,
    raise_for_status: Callable[[int, httpx.Headers, str], None],
    *,
    assembler: Assembler | None = None,
    headers: dict[str, str] | None = None,
) -> LLMResponse:
    """POST `payload` with `stream: true`; `assembler` reads the events (default: OpenAI chunks)."""
    assembled: Assembler = assembler if assembler is not None else _Assembler()
    try:
        body = {**payload, "stream": True}
        async with client.stream("POST", url, json=body, headers=headers) as response:
            if response.status_code >= 400:
                await response.aread()
                raise_for_status(response.status_code, response.headers, response.text)
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except ValueError:
                    continue  # a keep-alive or a line cut at the size cap
                if assembled.add(chunk):
                    on_text("".join(assembled.text))
            truncated = was_truncated(response)
    except httpx.TimeoutException as exc:
        raise RetryableProviderError(f"LLM request timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise RetryableProviderError(f"cannot reach the LLM provider ({type(exc).__name__})") from exc
    return assembled.response(truncated)
