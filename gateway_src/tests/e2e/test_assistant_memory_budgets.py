"""Long-term memory (per chat, on disk in the workspace, /memory, /forget) and daily budgets
(/usage, a plain notice and no LLM request over the limit), on the real gateway process."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from tests.e2e.conftest import ALLOWED_USER, AskFn, StartGateway
from tests.fakes import llm_script
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram

OTHER_USER = 222
NOTES_HEADER = "Long-term notes about the user(s) of this chat"


def system_prompt(openai_fake: FakeOpenAI, index: int = -1) -> str:
    messages = openai_fake.script.requests[index].body["messages"]
    assert messages[0]["role"] == "system"
    return str(messages[0]["content"])


async def test_memory_is_per_chat_survives_a_restart_and_is_shown_and_forgotten(
    start_gateway: StartGateway, ask: AskFn, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    first = await start_gateway(allowed_users=[ALLOWED_USER, OTHER_USER])
    openai_fake.script.add(
        llm_script.tool_call("update_memory", {"notes": "- likes green tea\n- lives in Lyon"}), match="I like"
    )
    assert await ask("I like green tea and live in Lyon") == "echo: I like green tea and live in Lyon"
    notes_file = workspace / "memory" / f"telegram_{ALLOWED_USER}.md"
    assert notes_file.read_text() == "- likes green tea\n- lives in Lyon\n"
    tool_result = openai_fake.script.requests[-1].body["messages"][-1]
    assert tool_result["role"] == "tool" and tool_result["content"].startswith("saved (")

    # Another user's chat never sees these notes.
    assert await ask("hello", user=OTHER_USER) == "echo: hello"
    assert "green tea" not in system_prompt(openai_fake) and "(no notes yet)" in system_prompt(openai_fake)
    assert "no notes" in (await ask("/memory", user=OTHER_USER))

    assert await first.stop() == 0
    await start_gateway(allowed_users=[ALLOWED_USER, OTHER_USER])
    requests_before = len(openai_fake.script.requests)
    assert await ask("what do I drink?") == "echo: what do I drink?"
    prompt = system_prompt(openai_fake)
    assert NOTES_HEADER in prompt and "- likes green tea\n- lives in Lyon" in prompt

    shown = await ask("/memory")
    assert (
        "likes green tea" in shown and "lives in Lyon" in shown
    )  # a list: rendered as the platform shows it
    assert (await ask("/forget")).startswith("Done")
    assert not notes_file.exists()
    assert len(openai_fake.script.requests) == requests_before + 1, "/memory and /forget need no LLM call"
    await ask("anything left?")
    assert "green tea" not in system_prompt(openai_fake)

    # The file is the user's too: edited by hand, it is what the agent sees next.
    other_file = workspace / "memory" / f"telegram_{OTHER_USER}.md"
    other_file.write_text("- prefers metric units\n")
    await ask("how far is it?", user=OTHER_USER)
    assert "- prefers metric units" in system_prompt(openai_fake)


async def test_memory_file_is_untrusted_capped_and_never_read_through_a_link(
    start_gateway: StartGateway, ask: AskFn, openai_fake: FakeOpenAI, workspace: Path, tmp_path: Path
) -> None:
    await start_gateway(allowed_users=[ALLOWED_USER, OTHER_USER], extra={"memory": {"max_chars": 300}})
    (workspace / "memory").mkdir()
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("TOP-SECRET-OUTSIDE-THE-WORKSPACE")
    (workspace / "memory" / f"telegram_{OTHER_USER}.md").symlink_to(secret)
    (workspace / "memory" / f"telegram_{ALLOWED_USER}.md").write_text("x" * 5000)

    assert "no notes" in await ask("/memory", user=OTHER_USER)
    await ask("hi", user=OTHER_USER)
    assert "TOP-SECRET" not in system_prompt(openai_fake)

    await ask("hi")
    prompt = system_prompt(openai_fake)
    assert "x" * 300 in prompt and "x" * 301 not in prompt
    # Too long for the cap: the tool refuses and says how to fix it; the file is unchanged.
    openai_fake.script.add(llm_script.tool_call("update_memory", {"notes": "y" * 301}), match="save this")
    await ask("save this")
    tool_result = openai_fake.script.requests[-1].body["messages"][-1]["content"]
    assert "limit is 300" in tool_result and "shorten" in tool_result
    assert (workspace / "memory" / f"telegram_{ALLOWED_USER}.md").read_text() == "x" * 5000


async def test_over_the_daily_message_budget_a_notice_and_no_llm_request(
    start_gateway: StartGateway, ask: AskFn, openai_fake: FakeOpenAI
) -> None:
    # ALLOWED_USER is the owner (first allowed user): no limits unless owner limits are set.
    budgets = {"daily_messages": 2, "daily_tokens": None}
    await start_gateway(allowed_users=[ALLOWED_USER, OTHER_USER], extra={"budgets": budgets})
    assert await ask("one", user=OTHER_USER) == "echo: one"
    assert await ask("two", user=OTHER_USER) == "echo: two"
    notice = await ask("three", user=OTHER_USER)
    assert "used your 2 messages for today" in notice
    assert [r.last_user_text for r in openai_fake.script.requests] == ["one", "two"]
    usage = await ask("/usage", user=OTHER_USER)
    assert "messages: 2 of 2" in usage and "tokens: 30 (no limit)" in usage  # the fake reports 15 a request
    for text in ("owner 1", "owner 2", "owner 3"):
        assert await ask(text) == f"echo: {text}"
    assert "messages: 3 (no limit)" in await ask("/usage")


async def test_token_budget_from_the_providers_usage_survives_a_restart(
    start_gateway: StartGateway, ask: AskFn, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    extra = {"budgets": {"daily_messages": None, "daily_tokens": 20}}
    first = await start_gateway(allowed_users=[ALLOWED_USER, OTHER_USER], extra=extra)
    assert await ask("a", user=OTHER_USER) == "echo: a"  # 15 tokens: under 20
    assert await ask("b", user=OTHER_USER) == "echo: b"  # 30: over, known only afterwards
    assert "used your 20 language-model tokens" in await ask("c", user=OTHER_USER)
    assert len(openai_fake.script.requests) == 2
    assert await first.stop() == 0
    usage_file = tmp_path / "state" / "usage.json"
    assert json.loads(usage_file.read_text())["users"][f"telegram:{OTHER_USER}"] == [2, 30]

    await start_gateway(allowed_users=[ALLOWED_USER, OTHER_USER], extra=extra)
    assert "used your 20 language-model tokens" in await ask("d", user=OTHER_USER)
    assert "tokens: 30 of 20" in await ask("/usage", user=OTHER_USER)
    assert len(openai_fake.script.requests) == 2


async def test_a_message_run_again_after_a_kill_9_is_counted_once(
    start_gateway: StartGateway, ask: AskFn, openai_fake: FakeOpenAI, telegram: FakeTelegram, tmp_path: Path
) -> None:
    extra = {"budgets": {"daily_messages": 1, "daily_tokens": None}}
    gateway = await start_gateway(allowed_users=[ALLOWED_USER, OTHER_USER], extra=extra)
    openai_fake.script.add(llm_script.text("never arrives", delay_s=60), match="cut me off")
    await telegram.push_update(OTHER_USER, "cut me off")
    await openai_fake.script.wait_for_requests(1, wait_s=15)
    usage_file = tmp_path / "state" / "usage.json"
    deadline = time.monotonic() + 15
    # Killed only once the count is on disk (written every few seconds): the worst case.
    while not usage_file.exists() or json.loads(usage_file.read_text())["users"] != {
        f"telegram:{OTHER_USER}": [1, 0]
    }:
        assert time.monotonic() < deadline, "the message count was never written"
        await asyncio.sleep(0.1)
    gateway.process.kill()  # type: ignore[union-attr]  # mid-turn: the journal resumes the message
    await gateway.process.wait()  # type: ignore[union-attr]
    openai_fake.script.clear()

    await start_gateway(allowed_users=[ALLOWED_USER, OTHER_USER], extra=extra)
    [answer] = await telegram.wait_for_sent(1, chat_id=OTHER_USER, wait_s=20)
    assert answer.text == "echo: cut me off", "run again, not refused for its own count"
    usage = await ask("/usage", user=OTHER_USER)
    assert "messages: 1 of 1" in usage and "tokens: 15 (no limit)" in usage, usage
    assert "used your 1 messages for today" in await ask("one more", user=OTHER_USER)
    assert [r.last_user_text for r in openai_fake.script.requests] == ["cut me off", "cut me off"]
