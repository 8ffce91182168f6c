"""Reply formatting: markdown to Telegram HTML / Slack mrkdwn / Discord markdown, and splitting.

Telegram output is checked with the fake Bot API's own HTML reader (tests/fakes/telegram_html.py):
what it accepts, with which entities, and how long the message is after parsing."""

from __future__ import annotations

import random

import pytest

from picoclaw_gateway.channels.base import Channel, OnMessage
from picoclaw_gateway.channels.text_split import utf16_len
from picoclaw_gateway.config import ChannelConfig
from picoclaw_gateway.formatting import markdown
from picoclaw_gateway.formatting.markdown import BOLD, ITALIC, Run
from picoclaw_gateway.formatting.render import DiscordMarkdown, Renderer, SlackMrkdwn, TelegramHTML
from picoclaw_gateway.formatting.split import Part, format_parts
from tests.fakes.telegram_html import HTMLParseError, parse_html

SAMPLE = (
    "# Plan\n"
    "Use **bold _and italic_**, `x < y && z`, ~~old~~ and [the docs](https://example.com/a?b=1&c=2).\n\n"
    "- first <b>not a tag</b>\n- second\n\n"
    "```python\nif a < b:\n    print('&')\n```\n"
)


def entity_types(html_text: str) -> list[str]:
    return [entity["type"] for entity in parse_html(html_text)[1]]


def test_telegram_html_is_accepted_and_carries_each_style() -> None:
    [part] = format_parts(SAMPLE, TelegramHTML(), 4096)
    assert part.markup
    text, entities = parse_html(part.text)
    assert text.startswith("Plan\n\nUse bold and italic, x < y && z, old and the docs.")
    assert "• first <b>not a tag</b>\n• second" in text  # the model's HTML is text, not markup
    assert "if a < b:\n    print('&')" in text
    kinds = {entity["type"] for entity in entities}
    assert kinds == {"bold", "italic", "code", "strikethrough", "text_link", "pre"}
    link = next(e for e in entities if e["type"] == "text_link")
    assert link["url"] == "https://example.com/a?b=1&c=2"
    assert text[link["offset"] : link["offset"] + link["length"]] == "the docs"
    assert next(e for e in entities if e["type"] == "pre")["language"] == "python"
    assert "the docs (https://example.com/a?b=1&c=2)" in part.plain  # the plain fallback keeps the link


def test_slack_mrkdwn_and_discord_markdown() -> None:
    [slack] = format_parts(SAMPLE, SlackMrkdwn(), 3900)
    assert "*bold* *_and italic_*" in slack.text
    assert "`x &lt; y &amp;&amp; z`" in slack.text and "~old~" in slack.text
    assert "<https://example.com/a?b=1&c=2|the docs>" in slack.text
    assert "&lt;b&gt;not a tag&lt;/b&gt;" in slack.text  # no <!channel>-style markup from the model
    assert "```\nif a &lt; b:" in slack.text
    [discord] = format_parts(SAMPLE + "\nsnake_case 2\\*3 a|b\n", DiscordMarkdown(), 2000)
    assert "**bold** ***and italic***" in discord.text and "~~old~~" in discord.text
    assert "[the docs](https://example.com/a?b=1&c=2)" in discord.text
    assert "```python\nif a < b:" in discord.text
    assert "snake\\_case 2\\*3 a\\|b" in discord.text  # literal markup characters stay literal


def test_quotes_and_list_items_continue_on_each_line() -> None:
    source = "> quoted **line one\nline two**\n\n- item\n  more"
    [slack] = format_parts(source, SlackMrkdwn(), 3900)
    assert slack.text == "> quoted *line one*\n> *line two*\n\n• item\n  more"  # ">" raw: Slack quotes it
    [telegram] = format_parts(source, TelegramHTML(), 4096)
    assert parse_html(telegram.text)[0] == "> quoted line one\n> line two\n\n• item\n  more"


def test_unsafe_links_and_edge_spaces() -> None:
    [part] = format_parts("[click](javascript:alert(1)) [file](ftp://host/f)", SlackMrkdwn(), 3900)
    assert "<javascript" not in part.text and part.text.startswith("[click](javascript:alert(1))")
    assert "<ftp" not in part.text and part.text.endswith(" file")  # only links a chat app opens safely
    # Slack ignores "*bold *" and Discord "**bold **": edge spaces go outside, each line gets its markers
    assert SlackMrkdwn().run(Run(" bold \nnext", BOLD)) == " *bold* \n*next*"
    assert DiscordMarkdown().run(Run("bold ", BOLD | ITALIC)) == "***bold*** "
    # touching styled runs are kept apart: "**a*****b***" would not read as bold then bold italic
    [part] = format_parts("**a*b***", DiscordMarkdown(), 2000)
    assert part.text == "**a**\u200b***b***"


def test_empty_and_invisible_replies_give_no_parts() -> None:
    assert format_parts("", TelegramHTML(), 4096) == []
    assert format_parts("   \n\n  ", TelegramHTML(), 4096) == []


def test_a_bold_span_across_the_limit_is_closed_and_reopened() -> None:
    text = "**" + " ".join(f"word{i}" for i in range(2000)) + "**"
    parts = format_parts(text, TelegramHTML(), 4096)
    assert len(parts) >= 3
    for part in parts:
        visible, entities = parse_html(part.text)
        assert utf16_len(visible) <= 4096
        assert entities == [{"type": "bold", "offset": 0, "length": utf16_len(visible)}]
    assert " ".join(parse_html(p.text)[0] for p in parts) == text.strip("*")


def test_a_long_code_block_is_split_between_lines_into_whole_blocks() -> None:
    code = "\n".join(f"line {i} = {'x' * 60}" for i in range(200))
    for renderer, limit in ((TelegramHTML(), 4096), (SlackMrkdwn(), 3900), (DiscordMarkdown(), 2000)):
        parts = format_parts(f"```js\n{code}\n```", renderer, limit)
        assert len(parts) > 1
        lines: list[str] = []
        for part in parts:
            if isinstance(renderer, TelegramHTML):
                visible, entities = parse_html(part.text)
                assert [e["type"] for e in entities] == ["pre"] and entities[0]["language"] == "js"
            else:
                assert renderer.measure(part.text) <= limit
                assert part.text.startswith("```") and part.text.endswith("```")
                visible = part.text.split("\n", 1)[1].rsplit("\n", 1)[0]
            lines.extend(visible.replace("&lt;", "<").split("\n"))
        assert lines == code.split("\n")


def test_a_telegram_message_carries_at_most_100_formatted_spans() -> None:
    source = "\n\n".join(f"**item {i}** and `code {i}`" for i in range(120))  # 240 spans, ~3,000 chars
    parts = format_parts(source, TelegramHTML(), 4096)
    assert len(parts) == 3
    assert all(len(parse_html(p.text)[1]) <= 100 for p in parts)


def test_one_huge_word_and_emoji_are_cut_by_what_the_platform_counts() -> None:
    word = "😀" * 5000  # 10,000 UTF-16 units
    parts = format_parts(f"**{word}**", TelegramHTML(), 4096)
    assert "".join(parse_html(p.text)[0] for p in parts) == word
    assert all(utf16_len(parse_html(p.text)[0]) <= 4096 for p in parts)


_PIECES = ("**", "_", "`", "~~", "\n", "\n\n", "- ", "> ", "# ", "```\n", "<", "&", ">", "😀", "é", "|", "*")


def _random_markdown(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(1, 400)):
        roll = rng.random()
        if roll < 0.3:
            out.append(rng.choice(_PIECES))
        elif roll < 0.35:
            out.append(f"[link {rng.randint(0, 9)}](https://example.com/{'p' * rng.randint(0, 80)})")
        else:
            out.append("".join(rng.choice("abc xyz") for _ in range(rng.randint(1, 60))))
    return "".join(out)


@pytest.mark.parametrize(
    ("renderer", "limit"),
    [(TelegramHTML(), 4096), (TelegramHTML(), 120), (SlackMrkdwn(), 300), (DiscordMarkdown(), 200)],
)
def test_random_markdown_always_fits_and_telegram_always_parses(renderer: Renderer, limit: int) -> None:
    rng = random.Random(limit)
    for _ in range(150):
        source = _random_markdown(rng)
        for part in format_parts(source, renderer, limit):
            assert renderer.measure(part.plain) <= limit, source
            if isinstance(renderer, TelegramHTML):
                try:
                    visible, _entities = parse_html(part.text)
                except HTMLParseError as exc:  # pragma: no cover - the failure message is the point
                    pytest.fail(f"{exc} for {source!r}")
                assert utf16_len(visible) <= limit
            else:
                assert renderer.measure(part.text) <= limit, source


def test_the_fake_refuses_markup_the_api_refuses() -> None:
    with pytest.raises(
        HTMLParseError, match=r"can't parse entities: Unsupported start tag \"foo\" at byte offset 2"
    ):
        parse_html("é<foo>x</foo>")
    with pytest.raises(HTMLParseError, match='Can\'t find end tag corresponding to start tag "b"'):
        parse_html("<b>open")
    with pytest.raises(
        HTMLParseError, match=r'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'
    ):
        parse_html("<b><i>x</b></i>")
    assert parse_html("a &amp; b &lt;c&gt; &copy;") == ("a & b <c> &copy;", [])


class _Formatted(Channel):
    renderer = TelegramHTML()
    message_limit = 4096

    async def run(self, on_message: OnMessage) -> None:  # pragma: no cover - never started here
        raise NotImplementedError

    async def send_chunk(self, chat_id: str, text: str) -> None:  # pragma: no cover
        raise NotImplementedError


def test_replies_format_plain_sends_the_model_text_as_it_is() -> None:
    formatted = _Formatted(ChannelConfig("telegram", "t"))
    plain = _Formatted(ChannelConfig("telegram", "t", reply_format="plain"))
    assert formatted.parts("**hi** <x>") == [Part("<b>hi</b> &lt;x&gt;", "hi <x>", True)]
    assert plain.parts("**hi** <x>") == [Part("**hi** <x>", "**hi** <x>", False)]
    assert plain.parts("") == formatted.parts(" ") == [Part("(empty reply)", "(empty reply)", False)]


@pytest.mark.parametrize("alphabet", ["abc xyz.,'?\n\n  \t:;()\"é😀0123456789", "ab \n\n\n   \t\t1.)x"])
def test_text_without_markup_skips_the_parser_with_the_same_blocks(alphabet: str) -> None:
    rng = random.Random(16)
    checked = 0
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
        if markdown._MARKUP.search(text):
            continue
        checked += 1
        fast = markdown._plain_blocks(text)
        parsed = markdown._Reader(text.split("\n")).read(markdown._parser().parse(text))
        assert [(b.gap, b.text, b.code) for b in fast] == [(b.gap, b.text, b.code) for b in parsed], text
    assert checked > 200
