"""An LLM answer cut at the body cap still yields its text: every prefix of a document reads."""

from __future__ import annotations

import json

from picoclaw_gateway.providers.openai_compat import parse_completion
from picoclaw_gateway.providers.truncated_json import close_truncated

DOC = {
    "id": "chatcmpl-1",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": 'héllo "quoted" \\ back\nslash 😀 ünïcode ' * 3,
                "tool_calls": [{"id": "c1", "function": {"name": "exec", "arguments": '{"command": "ls"}'}}],
            },
            "finish_reason": "stop",
            "logprobs": None,
        }
    ],
    "usage": {"prompt_tokens": 12345, "total": -1.5e3, "cached": True},
}


def test_every_prefix_reads_as_a_prefix_of_the_document() -> None:
    for ensure_ascii in (True, False):
        text = json.dumps(DOC, ensure_ascii=ensure_ascii)
        assert close_truncated(text) == DOC
        full = DOC["choices"][0]["message"]["content"]
        for cut in range(len(text)):
            value = close_truncated(text[:cut])
            if value is None:
                assert cut < 40, f"nothing read from {cut} characters"
                continue
            assert isinstance(value, dict)
            message = (value.get("choices") or [{}])[0].get("message", {})
            content = message.get("content", "")
            assert full.startswith(content), (cut, content)
            content.encode("utf-8")  # never half a surrogate pair


def test_a_cut_completion_parses_to_the_text_so_far() -> None:
    text = json.dumps({"choices": [{"message": {"role": "assistant", "content": "x" * 1000}}]})
    response = parse_completion(close_truncated(text[:500]))
    assert response.text == "x" * (500 - len('{"choices": [{"message": {"role": "assistant", "content": "'))


def test_garbage_reads_as_nothing() -> None:
    assert close_truncated("<html><body>502 Bad Gateway") is None
    assert close_truncated("") is None
