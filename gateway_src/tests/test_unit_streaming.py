"""Streamed chat completion chunks put back together (providers/streaming.py)."""

from __future__ import annotations

import pytest

from picoclaw_gateway.providers.base import ProviderError
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
