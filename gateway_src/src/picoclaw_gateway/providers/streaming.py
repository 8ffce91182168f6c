"""An OpenAI-compatible chat completion read as it arrives (`stream: true`, server-sent events).

Used only for live replies (replies.live): each piece of text is handed to `on_text` with all the
text so far, and the whole answer (text and tool calls, assembled from their deltas) is returned
like a plain completion. The body is read through the same size cap as any other answer; past it
the answer is what arrived before the cut.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from picoclaw_gateway.http_client import was_truncated
from picoclaw_gateway.logging_setup import mask_secrets
from picoclaw_gateway.providers.base import (
    LLMResponse,
    OnText,
    ProviderError,
    RetryableProviderError,
    ToolCall,
)


def _arguments(raw: str) -> dict[str, Any]:
    try:
        parsed = json.loads(raw or "{}")
    except ValueError:
        return {"_unparsed": raw}
    return parsed if isinstance(parsed, dict) else {"_value": parsed}


class _Assembler:
    """Text and tool calls put together from chunk deltas."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}

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
        calls = [
            ToolCall(id=slot["id"] or f"call_{index}", name=slot["name"], arguments=_arguments(slot["args"]))
            for index, slot in sorted(self.calls.items())
            if slot["name"]
        ]
        return LLMResponse(
            text="".join(self.text), tool_calls=[] if truncated else calls, truncated=truncated
        )


async def stream_completion(
    client: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any],
    on_text: OnText,
    raise_for_status: Callable[[int, httpx.Headers, str], None],
) -> LLMResponse:
    assembled = _Assembler()
    try:
        async with client.stream("POST", url, json={**payload, "stream": True}) as response:
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
