"""The model's markdown reaches Telegram as parse_mode=HTML the Bot API accepts (the fake reads it
like the API: parsed text, entities, the 4096 limit after parsing), as plain text when the API
refuses the markup, and a long formatted answer is split without breaking a formatted span."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ALLOWED_USER
from tests.e2e.gateway_process import GatewayProcess
from tests.e2e.test_llm_bounds import wait_for_text
from tests.fakes import llm_script
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram, SentMessage

MARKDOWN = "**Done.** Use `make test`, see [the guide](https://example.com/guide?a=1&b=2).\n\n- one\n- two"


async def _answer(telegram: FakeTelegram, text: str, count: int = 1) -> list[SentMessage]:
    before = len(telegram.sent_to(ALLOWED_USER))
    await telegram.push_update(ALLOWED_USER, text)
    return (await telegram.wait_for_sent(before + count, chat_id=ALLOWED_USER, wait_s=20))[before:]


async def test_markdown_is_sent_as_html_the_api_accepts(
    gateway: GatewayProcess, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    openai_fake.script.add(llm_script.text(MARKDOWN))
    [sent] = await _answer(telegram, "format please")
    assert sent.params.get("parse_mode") == "HTML"
    assert sent.text == "Done. Use make test, see the guide.\n\n• one\n• two"  # no raw asterisks
    by_type = {entity["type"]: entity for entity in sent.entities}
    assert set(by_type) == {"bold", "code", "text_link"}
    assert by_type["text_link"]["url"] == "https://example.com/guide?a=1&b=2"
    link = by_type["text_link"]
    assert sent.text[link["offset"] : link["offset"] + link["length"]] == "the guide"


@pytest.mark.parametrize(
    "refusal",
    [
        'Bad Request: can\'t parse entities: Unsupported start tag "b" at byte offset 0',
        "Bad Request: ENTITIES_TOO_LONG",
    ],
)
async def test_refused_markup_is_sent_again_as_plain_text(
    gateway: GatewayProcess, telegram: FakeTelegram, openai_fake: FakeOpenAI, refusal: str
) -> None:
    openai_fake.script.add(llm_script.text(MARKDOWN))
    telegram.refuse_markup(1, refusal)
    [sent] = await _answer(telegram, "format please")
    assert "parse_mode" not in sent.params and sent.entities == []
    assert sent.text == (
        "Done. Use make test, see the guide (https://example.com/guide?a=1&b=2).\n\n• one\n• two"
    )
    refused = [c for c in telegram.calls_to("sendMessage") if c.params.get("parse_mode") == "HTML"]
    assert len(refused) == 1, "the formatted send was tried once, then the plain one"
    assert "refused the formatting of a reply" in gateway.output()


async def test_a_long_formatted_answer_is_split_within_the_limit_without_breaking_spans(
    gateway: GatewayProcess, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    bold = "**" + " ".join(f"bold{i:04d}" for i in range(900)) + "**"  # ~8,100 characters of one span
    code = "```python\n" + "\n".join(f"x_{i} = '<{i}>' & {i}" for i in range(400)) + "\n```"
    openai_fake.script.add(llm_script.text(f"# Report\n\n{bold}\n\n{code}\n\nThe *end*."))
    before = len(telegram.sent_to(ALLOWED_USER))
    await telegram.push_update(ALLOWED_USER, "long please")
    replies = (await wait_for_text(telegram, "The end."))[before:]
    assert all(m.params.get("parse_mode") == "HTML" for m in replies)
    assert len(replies) >= 4 and all(len(m.text.encode("utf-16-le")) // 2 <= 4096 for m in replies)
    words = " ".join(m.text for m in replies)
    assert all(f"bold{i:04d}" in words for i in range(900))
    for message in replies:
        if "bold0" in message.text:  # every piece of the bold span is bold from start to end
            bolds = [e for e in message.entities if e["type"] == "bold"]
            covered = sum(e["length"] for e in bolds)
            assert covered >= len(message.text.replace("Report\n\n", "").rstrip()) - 1, message.entities
    code_parts = [m for m in replies if any(e["type"] == "pre" for e in m.entities)]
    assert len(code_parts) >= 2, "the code block is split into whole code blocks"
    code_lines = [line for m in code_parts for line in m.text.split("\n") if line.startswith("x_")]
    assert code_lines == [f"x_{i} = '<{i}>' & {i}" for i in range(400)]
    assert replies[-1].text.endswith("The end.")
    assert {"type": "pre", "language": "python"}.items() <= next(
        e for e in code_parts[0].entities if e["type"] == "pre"
    ).items()
