"""Reply splitting for chat message limits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from picoclaw_gateway.channels.text_split import split_text, utf16_len


def test_short_text_is_one_chunk() -> None:
    assert split_text("hello", 4096) == ["hello"]
    assert split_text("", 4096) == []


def test_splits_on_line_boundaries_in_order() -> None:
    lines = [f"line {i:04d} " + "x" * 80 for i in range(200)]
    chunks = split_text("\n".join(lines), 4096)
    assert len(chunks) > 1
    assert all(len(c) <= 4096 for c in chunks)
    assert "\n".join(chunks).split("\n") == lines, "every line intact and in order"
    assert all(not c.startswith("\n") and not c.endswith("\n") for c in chunks)


def test_over_long_single_line_is_hard_split() -> None:
    text = "a" * 5000 + "\nshort\n" + "b" * 9000
    chunks = split_text(text, 4096)
    assert chunks == ["a" * 4096, "a" * 904 + "\nshort", "b" * 4096, "b" * 4096, "b" * 808]


def test_discord_limit() -> None:
    chunks = split_text("word " * 1000, 2000)
    assert all(len(c) <= 2000 for c in chunks)
    assert "".join(chunks) == ("word " * 1000).rstrip() or "".join(chunks) == "word " * 1000


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab \n"), max_size=3000), st.integers(min_value=2, max_value=200))
def test_property_limits_order_and_content(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(0 < len(c) <= limit for c in chunks)
    # Content is preserved in order apart from the newlines we cut at (and blank-only chunks).
    squeeze = "".join(text.split())
    assert "".join("".join(c.split()) for c in chunks) == squeeze


def test_telegram_limit_counts_utf16_units() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units, 3000 code points
    chunks = split_text(text, 4096, utf16_len)
    assert [utf16_len(c) for c in chunks] == [4096, 1904]
    assert "".join(chunks) == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("a😀 \n"), max_size=2000), st.integers(min_value=2, max_value=100))
def test_property_utf16_limits(text: str, limit: int) -> None:
    chunks = split_text(text, limit, utf16_len)
    assert all(0 < utf16_len(c) <= limit for c in chunks)
    assert "".join("".join(c.split()) for c in chunks) == "".join(text.split())
