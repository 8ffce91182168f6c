"""Groups (answer only when mentioned, replied to or given a command; allowed_groups; group_mode
"all") and the heartbeat (a message to the owner only when something needs attention), on the
real gateway process and the Telegram fake."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from tests.conftest import BOT_TOKEN
from tests.e2e.conftest import ALLOWED_USER, STRANGER, StartGateway
from tests.fakes import llm_script
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram

GROUP = -1001
OTHER_GROUP = -1002
BOT_ID = int(BOT_TOKEN.split(":")[0])
BOT_NAME = f"picoclaw_test_{BOT_ID}_bot"  # what the fake's getMe answers


def reply_to_bot(chat_id: int) -> dict[str, Any]:
    """The `reply_to_message` of a message answering one of the bot's messages."""
    return {
        "reply_to_message": {
            "message_id": 1,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "PicoClaw Test", "username": BOT_NAME},
            "chat": {"id": chat_id, "type": "group", "title": "group"},
            "date": int(time.time()),
            "text": "an earlier answer",
        }
    }


async def answer(telegram: FakeTelegram, chat: int, text: str, **kwargs: Any) -> str:
    before = len(telegram.sent_to(chat))
    await telegram.push_update(kwargs.pop("user", ALLOWED_USER), text, chat_id=chat, **kwargs)
    sent = await telegram.wait_for_sent(before + 1, chat_id=chat, wait_s=15)
    return sent[before].text


async def test_group_answers_only_when_mentioned_replied_to_or_commanded(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    await start_gateway()
    # Not addressed to the bot: a plain message, a photo, another bot's command, a stranger's mention.
    await telegram.push_update(ALLOWED_USER, "just chatting with friends", chat_id=GROUP)
    await telegram.push_update(ALLOWED_USER, "", chat_id=GROUP, extra={"photo": [], "text": None})
    await telegram.push_update(ALLOWED_USER, "/help@some_other_bot", chat_id=GROUP)
    await telegram.push_update(STRANGER, f"@{BOT_NAME} let me in", chat_id=GROUP)
    # Messages of one chat are taken in order: once this one is answered, the ones above were seen.
    assert await answer(telegram, GROUP, f"@{BOT_NAME} what is up?") == "echo: what is up?"
    assert [r.last_user_text for r in openai_fake.script.requests] == ["what is up?"]
    assert len(telegram.sent_to(GROUP)) == 1

    assert await answer(telegram, GROUP, "and then?", extra=reply_to_bot(GROUP)) == "echo: and then?"
    assert (await answer(telegram, GROUP, f"/help@{BOT_NAME}")).startswith("I am your PicoClaw assistant")
    assert len(openai_fake.script.requests) == 2, "a command is answered without the LLM"
    # History is per chat: the group's turns are not in the private chat's.
    assert await answer(telegram, ALLOWED_USER, "private question") == "echo: private question"
    contents = [m.get("content") for m in openai_fake.script.requests[-1].body["messages"]]
    assert "what is up?" not in contents and "and then?" not in contents


async def test_allowed_groups_and_group_mode_all(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    channel = {"group_mode": "all", "allowed_groups": [str(GROUP)]}
    await start_gateway(extra={"channel": channel})
    await telegram.push_update(ALLOWED_USER, f"@{BOT_NAME} hello from elsewhere", chat_id=OTHER_GROUP)
    assert await answer(telegram, GROUP, "no mention needed here") == "echo: no mention needed here"
    # The message in the other group was pushed first; the answer in GROUP came after it was seen.
    await asyncio.sleep(0.3)
    assert telegram.sent_to(OTHER_GROUP) == []
    assert [r.last_user_text for r in openai_fake.script.requests] == ["no mention needed here"]


async def test_heartbeat_messages_the_owner_only_when_something_needs_attention(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    checklist = workspace / "HEARTBEAT.md"
    checklist.write_text("# Heartbeat checklist\n\n- \n<!-- nothing to check yet -->\n")
    openai_fake.script.add(llm_script.text("HEARTBEAT_OK"), match="[heartbeat]", times=None)
    interval_s = 1.5
    await start_gateway(extra={"heartbeat": {"enabled": True, "interval_minutes": interval_s / 60}})
    # A checklist with no task: no LLM call at all.
    await asyncio.sleep(interval_s * 2.5)
    assert openai_fake.script.counts["chat"] == 0

    checklist.write_text("# Heartbeat checklist\n- Tell me if the file alert.txt exists in the workspace\n")
    requests = await openai_fake.script.wait_for_requests(2, wait_s=interval_s * 4)
    assert "[heartbeat]" in requests[0].last_user_text
    assert "alert.txt" in requests[0].last_user_text
    assert telegram.sent == [], "HEARTBEAT_OK is swallowed: no 'nothing to report' message"

    openai_fake.script.clear()
    openai_fake.script.add(llm_script.text("alert.txt exists: please look at it."), match="[heartbeat]")
    [alert] = await telegram.wait_for_sent(1, chat_id=ALLOWED_USER, wait_s=interval_s * 4)
    assert alert.text == "alert.txt exists: please look at it."
    assert {m.chat_id for m in telegram.sent} == {ALLOWED_USER}, "the owner's private chat only"


def heartbeat_every(seconds: float) -> dict[str, Any]:
    return {"heartbeat": {"enabled": True, "interval_minutes": seconds / 60}}


def heartbeat_requests(openai_fake: FakeOpenAI) -> int:
    return sum("[heartbeat]" in r.last_user_text for r in openai_fake.script.requests)


async def test_a_heartbeat_alert_cut_off_by_kill_9_is_sent_once_after_the_restart(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    (workspace / "HEARTBEAT.md").write_text("# Heartbeat checklist\n- Tell me if backups/ is empty\n")
    alert = "backups/ is empty: last night's backup did not run."
    openai_fake.script.add(llm_script.text(alert), match="[heartbeat]")  # the first check only
    openai_fake.script.add(llm_script.text("HEARTBEAT_OK"), match="[heartbeat]", times=None)
    telegram.flood_method("sendMessage", retry_after=120)  # the alert is produced, then cannot go out
    gateway = await start_gateway(extra=heartbeat_every(2))
    await telegram.wait_for_calls("sendMessage", 1, wait_s=20)
    gateway.process.kill()  # type: ignore[union-attr]
    await gateway.process.wait()  # type: ignore[union-attr]
    telegram.flood_until.clear()
    assert telegram.sent == []

    await start_gateway(extra=heartbeat_every(2))
    await telegram.wait_for_sent(1, chat_id=ALLOWED_USER, wait_s=20)
    await openai_fake.script.wait_for_requests(3, wait_s=10)  # later checks ran: all clear
    await asyncio.sleep(0.5)  # a duplicate would show up now
    assert [m.text for m in telegram.sent] == [alert], "the alert from the journal, once"


async def test_heartbeat_checks_missed_while_down_run_once_at_the_start_and_a_restart_repeats_none(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    (workspace / "HEARTBEAT.md").write_text("# Heartbeat checklist\n- Tell me if the disk is full\n")
    openai_fake.script.add(llm_script.text("HEARTBEAT_OK"), match="[heartbeat]", times=None)
    first = await start_gateway(extra=heartbeat_every(2))
    await openai_fake.script.wait_for_requests(1, wait_s=15)
    assert await first.stop() == 0
    checks = heartbeat_requests(openai_fake)
    await asyncio.sleep(5)  # two checks fall due while the gateway is down

    hourly = heartbeat_every(3600)  # the next check after this start's is an hour away
    second = await start_gateway(extra=hourly)
    await openai_fake.script.wait_for_requests(checks + 1, wait_s=10)
    await asyncio.sleep(1.5)
    assert heartbeat_requests(openai_fake) == checks + 1, "once for all the checks missed"
    assert await second.stop() == 0

    await start_gateway(extra=hourly)  # a restart (loop) before the next check is due
    await asyncio.sleep(2)
    assert heartbeat_requests(openai_fake) == checks + 1, "a restart does not repeat the check"
    assert telegram.sent == [], "all clear: nothing is sent"
