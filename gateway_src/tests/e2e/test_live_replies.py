"""replies.live: the answer is shown as it streams in, in one Telegram message edited at most every
replies.live_interval_s (Telegram's floor: 1 s), which then becomes the formatted reply (its first
part, for a long one); with the OpenAI-compatible and the Anthropic streams, and the tokens they
report count against the daily budget."""

from __future__ import annotations

import asyncio
import itertools
import time

from tests.e2e.conftest import ALLOWED_USER, AskFn, StartGateway
from tests.fakes import llm_script
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram, SentMessage

INTERVAL_S = 0.5  # below Telegram's floor: the floor wins
FLOOR_S = 1.0
OTHER_USER = 222


async def _final(telegram: FakeTelegram, before: int, count: int, wait_s: float = 20.0) -> list[SentMessage]:
    """The `count` messages after `before`, once the first is formatted (the preview was replaced)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        sent = telegram.sent_to(ALLOWED_USER)[before:]
        if len(sent) >= count and sent[0].params.get("parse_mode") == "HTML":
            return sent
        await asyncio.sleep(0.05)
    raise AssertionError([(m.text[:80], m.params.get("parse_mode")) for m in telegram.sent_to(ALLOWED_USER)])


async def test_a_streamed_answer_is_edited_in_place_then_formatted(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    await start_gateway(extra={"replies": {"live": True, "live_interval_s": INTERVAL_S}})
    answer = " ".join(f"**step {i}** done." for i in range(60))
    openai_fake.script.add(llm_script.streamed(answer, pieces=12, piece_delay_s=0.35))
    before = len(telegram.sent_to(ALLOWED_USER))
    await telegram.push_update(ALLOWED_USER, "live please")
    [reply] = await _final(telegram, before, 1)
    assert openai_fake.script.requests[-1].body.get("stream") is True
    sends = [c for c in telegram.calls_to("sendMessage") if int(c.params["chat_id"]) == ALLOWED_USER]
    assert len(sends) == before + 1, "one message: the preview, later edited into the reply"
    assert sends[-1].params["text"].endswith(" …") and "parse_mode" not in sends[-1].params
    edits = telegram.calls_to("editMessageText")
    assert len(edits) >= 3 and reply.edits == len(edits)  # previews while streaming, then the reply
    previews = [e for e in edits if "parse_mode" not in e.params]
    assert all(e.params["text"].endswith(" …") for e in previews)
    gaps = [b.at - a.at for a, b in itertools.pairwise([sends[-1], *previews])]
    assert all(gap >= FLOOR_S - 0.05 for gap in gaps), gaps  # throttled (the final edit need not be)
    assert reply.text == " ".join(f"step {i} done." for i in range(60))
    assert sum(e["type"] == "bold" for e in reply.entities) == 60


async def test_a_long_live_answer_fills_the_preview_then_sends_the_rest(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    await start_gateway(extra={"replies": {"live": True, "live_interval_s": INTERVAL_S}})
    answer = "\n\n".join(f"Paragraph {i}: " + "words " * 60 for i in range(30))  # ~11,000 characters
    openai_fake.script.add(llm_script.streamed(answer, pieces=6, piece_delay_s=0.3))
    before = len(telegram.sent_to(ALLOWED_USER))
    await telegram.push_update(ALLOWED_USER, "long live please")
    sent = await _final(telegram, before, 3)
    assert sent[0].edits >= 2 and all(m.edits == 0 for m in sent[1:])
    assert all(m.params.get("parse_mode") == "HTML" and len(m.text) <= 4096 for m in sent)
    assert sent[0].text.startswith("Paragraph 0:") and sent[-1].text.rstrip().endswith("words")


async def test_tool_calls_still_work_when_answers_stream(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    await start_gateway(extra={"replies": {"live": True, "live_interval_s": INTERVAL_S}})
    openai_fake.script.add(llm_script.tool_call("list_dir", {"path": "."}, text_before="Looking..."))
    openai_fake.script.add(llm_script.streamed("Found **nothing** special.", pieces=3, piece_delay_s=0.3))
    before = len(telegram.sent_to(ALLOWED_USER))
    await telegram.push_update(ALLOWED_USER, "what is in my workspace?")
    [reply] = await _final(telegram, before, 1)
    assert reply.text == "Found nothing special."
    requests = openai_fake.script.requests
    assert all(r.body.get("stream") is True for r in requests)
    tool_result = requests[-1].body["messages"][-1]
    assert tool_result["role"] == "tool" and requests[-2].body["messages"][-1]["role"] == "user"


async def test_anthropic_streams_live_with_a_tool_call_in_the_middle(
    start_gateway: StartGateway, telegram: FakeTelegram, anthropic_fake: FakeAnthropic, ask: AskFn
) -> None:
    budgets = {"daily_messages": None, "daily_tokens": None, "owner_daily_tokens": 1000}
    live = {"live": True, "live_interval_s": INTERVAL_S}
    await start_gateway("anthropic", extra={"replies": live, "budgets": budgets})
    anthropic_fake.script.add(llm_script.tool_call("list_dir", {"path": "."}, text_before="Looking..."))
    answer = " ".join(f"**file {i}** is fine." for i in range(40))
    anthropic_fake.script.add(llm_script.streamed(answer, pieces=10, piece_delay_s=0.35))
    before = len(telegram.sent_to(ALLOWED_USER))
    await telegram.push_update(ALLOWED_USER, "what is in my workspace?")
    [reply] = await _final(telegram, before, 1)
    assert reply.text == " ".join(f"file {i} is fine." for i in range(40))
    assert sum(e["type"] == "bold" for e in reply.entities) == 40 and reply.edits >= 2
    requests = anthropic_fake.script.requests
    assert len(requests) == 2 and all(r.body.get("stream") is True for r in requests)
    assert requests[0].body["tools"], "the tools are offered in the streamed request"
    call = requests[1].body["messages"][-2]["content"]
    assert [b["type"] for b in call] == ["text", "tool_use"] and call[1]["input"] == {"path": "."}
    result = requests[1].body["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result["tool_use_id"] == call[1]["id"]
    # Two streamed requests, each message_start input 10 + message_delta output 5.
    assert "tokens: 30 of 1,000" in await ask("/usage")


async def _ask_live(telegram: FakeTelegram, text: str, user: int) -> str:
    """The answer once the preview (ending in " …") has been replaced by it."""
    before = len(telegram.sent_to(user))
    await telegram.push_update(user, text)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        sent = telegram.sent_to(user)[before:]
        if sent and not sent[0].text.endswith(" …"):
            return sent[0].text
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answer to {text!r}")


async def test_streamed_turns_count_against_the_token_budget(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI, ask: AskFn
) -> None:
    extra = {"replies": {"live": True, "live_interval_s": INTERVAL_S}, "budgets": {"daily_tokens": 20}}
    await start_gateway(allowed_users=[ALLOWED_USER, OTHER_USER], extra=extra)
    assert await _ask_live(telegram, "a", OTHER_USER) == "echo: a"  # 15 tokens, from the usage chunk
    assert await _ask_live(telegram, "b", OTHER_USER) == "echo: b"  # 30: over, known only afterwards
    assert "used your 20 language-model tokens" in await ask("c", user=OTHER_USER)
    requests = openai_fake.script.requests
    assert len(requests) == 2 and all(r.body["stream_options"] == {"include_usage": True} for r in requests)
    assert "tokens: 30 of 20" in await ask("/usage", user=OTHER_USER)


async def test_a_server_that_refuses_stream_options_still_streams(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    await start_gateway(extra={"replies": {"live": True, "live_interval_s": INTERVAL_S}})
    refusal = "Unrecognized request argument supplied: stream_options"
    openai_fake.script.add(llm_script.error(400, refusal))
    openai_fake.script.add(llm_script.streamed("first", pieces=2, piece_delay_s=0.1))
    assert await _ask_live(telegram, "one", ALLOWED_USER) == "first"
    assert await _ask_live(telegram, "two", ALLOWED_USER) == "echo: two"
    bodies = [r.body for r in openai_fake.script.requests]
    assert [("stream_options" in b, b["stream"]) for b in bodies] == [
        (True, True),
        (False, True),
        (False, True),
    ]
