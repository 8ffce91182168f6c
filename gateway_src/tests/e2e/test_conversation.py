"""Messages in, answers out: access control, history, /reset, long answers, concurrency."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import ALLOWED_USER, STRANGER, AskFn, StartGateway
from tests.e2e.gateway_process import GatewayProcess
from tests.fakes import llm_script
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram


async def test_allowed_user_gets_the_llm_reply(
    gateway: GatewayProcess, ask: AskFn, openai_fake: FakeOpenAI, telegram: FakeTelegram
) -> None:
    assert await ask("hello there") == "echo: hello there"
    [request] = openai_fake.script.requests
    assert request.path == "/api/v1/chat/completions"
    assert request.body["model"] == "test/model"
    assert request.body["messages"][-1] == {"role": "user", "content": "hello there"}
    [sent] = telegram.sent_to(ALLOWED_USER)
    assert sent.chat_id == ALLOWED_USER


async def test_stranger_causes_no_llm_request_and_no_reply(
    gateway: GatewayProcess, ask: AskFn, openai_fake: FakeOpenAI, telegram: FakeTelegram
) -> None:
    await telegram.push_update(STRANGER, "let me in")
    # The allowed user's message is queued after the stranger's: once it is answered,
    # the stranger's update has certainly been processed.
    assert await ask("after stranger") == "echo: after stranger"
    assert [r.last_user_text for r in openai_fake.script.requests] == ["after stranger"]
    assert telegram.sent_to(STRANGER) == []


async def test_history_survives_a_restart(
    start_gateway: StartGateway, ask: AskFn, openai_fake: FakeOpenAI
) -> None:
    first = await start_gateway()
    assert await ask("remember the word pelican") == "echo: remember the word pelican"
    assert await first.stop() == 0
    await start_gateway()
    assert await ask("which word") == "echo: which word"
    contents = [m.get("content") for m in openai_fake.script.requests[-1].body["messages"]]
    assert "remember the word pelican" in contents
    assert "echo: remember the word pelican" in contents
    assert contents[-1] == "which word"


async def test_reset_clears_history(gateway: GatewayProcess, ask: AskFn, openai_fake: FakeOpenAI) -> None:
    await ask("first message")
    await ask("second message")
    reset_answer = await ask("/reset")
    assert reset_answer  # a confirmation, not an LLM answer
    assert len(openai_fake.script.requests) == 2, "/reset must not reach the LLM"
    await ask("fresh start")
    messages = openai_fake.script.requests[-1].body["messages"]
    assert [m["role"] for m in messages if m["role"] != "system"] == ["user"]
    assert messages[-1]["content"] == "fresh start"


async def test_long_answer_is_split_into_ordered_chunks(
    gateway: GatewayProcess, openai_fake: FakeOpenAI, telegram: FakeTelegram
) -> None:
    # Letters, digits, spaces and newlines only: no markup escaping can change the text.
    lines = [f"line {i:04d} " + "abcdefghij" * 7 for i in range(150)]
    answer = "\n".join(lines)[:10_000]
    assert len(answer) == 10_000
    openai_fake.script.add(llm_script.text(answer))
    await telegram.push_update(ALLOWED_USER, "tell me a long story")
    expected_chunks = 3  # 10,000 chars need at least 3 messages of <= 4096
    sent = await telegram.wait_for_sent(expected_chunks, chat_id=ALLOWED_USER, wait_s=15)
    await asyncio.sleep(0.5)  # a late extra chunk would show up here
    chunks = [m.text for m in telegram.sent_to(ALLOWED_USER)]
    assert len(chunks) >= expected_chunks and all(len(c) <= 4096 for c in chunks)
    assert [m.message_id for m in sent] == sorted(m.message_id for m in sent)
    squash = "".join(answer.split("\n"))
    assert "".join("".join(c.split("\n")) for c in chunks) == squash
    assert all(c.strip() for c in chunks)


async def test_two_chats_proceed_concurrently(
    gateway: GatewayProcess, openai_fake: FakeOpenAI, telegram: FakeTelegram
) -> None:
    chat_a, chat_b = ALLOWED_USER, -1001  # chat B is a group: the bot answers when mentioned
    openai_fake.script.add(llm_script.text("slow answer for A", delay_s=3), match="from chat A")
    await telegram.push_update(ALLOWED_USER, "from chat A", chat_id=chat_a)
    await openai_fake.script.wait_for_requests(1)
    await telegram.push_update(ALLOWED_USER, "@picoclaw_test_123456_bot from chat B", chat_id=chat_b)
    [b] = await telegram.wait_for_sent(1, chat_id=chat_b, wait_s=10)
    assert b.text == "echo: from chat B"
    assert telegram.sent_to(chat_a) == [], "chat B must not wait for chat A's slow LLM reply"
    [a] = await telegram.wait_for_sent(1, chat_id=chat_a, wait_s=10)
    assert a.text == "slow answer for A" and a.at > b.at
