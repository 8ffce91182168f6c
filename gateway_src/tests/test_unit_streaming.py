"""Streamed answers put back together: OpenAI-compatible chunks (providers/streaming.py) and
Anthropic Messages events (providers/anthropic_stream.py)."""

from __future__ import annotations

import pytest

from picoclaw_gateway.providers.anthropic_stream import AnthropicAssembler
from picoclaw_gateway.providers.base import ProviderError, RetryableProviderError
from picoclaw_gateway.providers.streaming import _Assembler


def delta(**fields: object) -> dict[str, object]:
    return {"choices": [{"index": 0, "delta": fields}]}


def test_text_and_tool_calls_split_across_chunks() -> None:
    assembled = _Assembler()
    seen = [
        assembled.add(chunk)
        for chunk in (
            delta(role="assistant", content=""),
            delta(content="Let me "),
            delta(content="look."),
            delta(
                tool_calls=[{"index": 0, "id": "call_1", "function": {"name": "read_", "arguments": '{"pa'}}]
            ),
            delta(tool_calls=[{"index": 0, "function": {"name": "file", "arguments": 'th": "a.txt"}'}}]),
            delta(
                tool_calls=[{"index": 1, "id": "call_2", "function": {"name": "list_dir", "arguments": "{}"}}]
            ),
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
            "not a chunk",
        )
    ]
    assert seen == [False, True, True, False, False, False, False, False]
    response = assembled.response(truncated=False)
    assert response.text == "Let me look."
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_1", "read_file", {"path": "a.txt"}),
        ("call_2", "list_dir", {}),
    ]
    cut = assembled.response(truncated=True)
    assert cut.truncated and cut.tool_calls == [], "arguments cut at the size cap are not run"


def test_an_error_chunk_is_a_provider_error() -> None:
    with pytest.raises(ProviderError, match="overloaded"):
        _Assembler().add({"error": {"message": "overloaded"}})


def test_the_usage_chunk_gives_the_tokens() -> None:
    assembled = _Assembler()
    assembled.add({"choices": [{"index": 0, "delta": {"content": "hi"}}], "usage": None})
    last = {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}}
    assert assembled.add(last) is False
    assert assembled.response(truncated=False).tokens == 19


TOOL_USE = {"type": "tool_use", "id": "toolu_9", "name": "read_file", "input": {}}


def json_delta(part: str) -> dict[str, str]:
    return {"type": "input_json_delta", "partial_json": part}


def anthropic_events(*events: tuple[str, dict[str, object]]) -> list[dict[str, object]]:
    return [{"type": kind, **data} for kind, data in events]


def test_anthropic_events_text_a_tool_call_in_pieces_and_usage() -> None:
    assembled = AnthropicAssembler()
    events = anthropic_events(
        ("message_start", {"message": {"id": "msg_1", "usage": {"input_tokens": 25, "output_tokens": 1}}}),
        ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ("ping", {}),
        ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Let me "}}),
        ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "look."}}),
        ("content_block_stop", {"index": 0}),
        ("content_block_start", {"index": 1, "content_block": TOOL_USE}),
        ("content_block_delta", {"index": 1, "delta": json_delta('{"p')}),
        ("content_block_delta", {"index": 1, "delta": json_delta('ath": "a"}')}),
        ("content_block_stop", {"index": 1}),
        ("message_delta", {"delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 40}}),
        ("message_stop", {}),
    )  # fmt: skip
    assert [assembled.add(event) for event in events] == [False] * 3 + [True, True] + [False] * 7
    response = assembled.response(truncated=False)
    assert response.text == "Let me look." and response.tokens == 25 + 40
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("toolu_9", "read_file", {"path": "a"})
    ]
    assert assembled.response(truncated=True).tool_calls == []


def test_an_anthropic_error_event_says_whether_to_retry() -> None:
    with pytest.raises(RetryableProviderError, match="Overloaded"):
        AnthropicAssembler().add(
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        )
    with pytest.raises(ProviderError, match="bad input") as refused:
        AnthropicAssembler().add(
            {"type": "error", "error": {"type": "invalid_request_error", "message": "bad input"}}
        )
    assert not isinstance(refused.value, RetryableProviderError)
