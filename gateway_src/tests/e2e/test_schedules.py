"""Reminders and scheduled jobs end to end: the agent's `schedule` tool, delivery exactly once across
a kill -9 restart, a job missed while the gateway was down, /jobs and /cancel (the gateway is an
unmodified subprocess; the LLM's tool calls are scripted on the fake)."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from typing import Any

from tests.e2e.conftest import ALLOWED_USER, AskFn, LaunchGateway, MakeConfig
from tests.e2e.gateway_process import GatewayProcess
from tests.fakes import llm_script
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram

CHAT = ALLOWED_USER


def schedule(openai_fake: FakeOpenAI, match: str, **arguments: Any) -> None:
    """The LLM answers the message containing `match` with one call of the schedule tool."""
    openai_fake.script.add(llm_script.tool_call("schedule", arguments), match=match)


def tool_results(openai_fake: FakeOpenAI) -> list[str]:
    """The tool results the LLM got, in order (these tests script only schedule calls)."""
    out = []
    for request in openai_fake.script.requests:
        for message in request.body.get("messages", []):
            if message.get("role") == "tool":
                out.append(str(message.get("content")))
    return list(dict.fromkeys(out))  # each later request repeats the earlier results


def texts(telegram: FakeTelegram, needle: str) -> list[str]:
    return [m.text for m in telegram.sent_to(CHAT) if needle in m.text]


async def started(launch: LaunchGateway, config: Any, telegram: FakeTelegram) -> GatewayProcess:
    polls = len(telegram.calls_to("getUpdates"))
    gateway = await launch(config)
    await gateway.wait_status("/health", 200, wait_s=30)
    await telegram.wait_for_calls("getUpdates", polls + 1, wait_s=30)
    return gateway


async def wait_for_text(telegram: FakeTelegram, needle: str, wait_s: float) -> list[str]:
    deadline = time.monotonic() + wait_s
    while not texts(telegram, needle):
        assert time.monotonic() < deadline, f"no message with {needle!r}: {[m.text for m in telegram.sent]}"
        await asyncio.sleep(0.05)
    return texts(telegram, needle)


async def test_a_reminder_is_delivered_exactly_once_across_a_kill_9_restart(
    telegram: FakeTelegram,
    openai_fake: FakeOpenAI,
    make_config: MakeConfig,
    launch_gateway: LaunchGateway,
    ask: AskFn,
) -> None:
    config = make_config()
    gateway = await started(launch_gateway, config, telegram)
    schedule(openai_fake, "remind", action="add", in_seconds=5, message="stretch your legs")
    schedule(openai_fake, "every day", action="add", in_seconds=5, prompt="say the weather code W7")
    assert await ask("remind me in 5 s") == "echo: remind me in 5 s"
    assert await ask("every day check the weather") == "echo: every day check the weather"
    scheduled = tool_results(openai_fake)
    assert len(scheduled) == 2 and all(r.startswith("Scheduled #") for r in scheduled), scheduled
    gateway.process.kill()  # type: ignore[union-attr]  # the jobs were written before the tool returned
    await gateway.process.wait()  # type: ignore[union-attr]
    fired_at = time.monotonic()
    final = await started(launch_gateway, config, telegram)
    reminders = await wait_for_text(telegram, "stretch your legs", 20)
    answers = await wait_for_text(telegram, "say the weather code W7", 20)
    await asyncio.sleep(2.0)  # a duplicate would show up now
    assert texts(telegram, "stretch your legs") == reminders and len(reminders) == 1
    # On time, or (a slow machine's restart outlasted the delay) marked late: once either way.
    assert reminders[0] == "⏰ stretch your legs" or reminders[0].startswith("⏰ stretch your legs\n(late: ")
    # The prompt ran as an agent turn (the fake echoes it) once, in the chat that scheduled it.
    assert len(answers) == len(texts(telegram, "say the weather code W7")) == 1
    assert answers[0].startswith("echo: [Scheduled task #")
    assert time.monotonic() - fired_at < 15
    assert (await ask("/jobs")).startswith("No scheduled jobs in this chat")
    assert await final.stop(signal.SIGTERM) == 0


async def test_a_job_missed_while_down_fires_once_marked_late(
    telegram: FakeTelegram,
    openai_fake: FakeOpenAI,
    make_config: MakeConfig,
    launch_gateway: LaunchGateway,
    ask: AskFn,
) -> None:
    config = make_config()
    gateway = await started(launch_gateway, config, telegram)
    schedule(openai_fake, "remind", action="add", in_seconds=2, message="water the plants")
    await ask("remind me in 2 s")
    assert await gateway.stop(signal.SIGTERM) == 0
    await asyncio.sleep(3.0)  # due while the gateway is down
    final = await started(launch_gateway, config, telegram)
    reminders = await wait_for_text(telegram, "water the plants", 15)
    await asyncio.sleep(1.5)
    assert texts(telegram, "water the plants") == reminders
    assert len(reminders) == 1
    assert reminders[0].startswith("⏰ water the plants\n(late: this was due ")
    assert "while I was offline" in reminders[0]
    assert await final.stop(signal.SIGTERM) == 0


async def test_a_job_missed_for_longer_than_the_grace_is_not_sent_but_noticed(
    telegram: FakeTelegram,
    openai_fake: FakeOpenAI,
    make_config: MakeConfig,
    launch_gateway: LaunchGateway,
    ask: AskFn,
) -> None:
    config = make_config(extra={"schedules": {"missed_grace_s": 0, "timezone": "Europe/Berlin"}})
    gateway = await started(launch_gateway, config, telegram)
    schedule(openai_fake, "remind", action="add", in_seconds=1, message="call mom")
    await ask("remind me in 1 s")
    assert await gateway.stop(signal.SIGTERM) == 0
    await asyncio.sleep(2.0)
    final = await started(launch_gateway, config, telegram)
    notices = await wait_for_text(telegram, "call mom", 15)
    await asyncio.sleep(1.0)
    assert notices == texts(telegram, "call mom") and len(notices) == 1
    assert notices[0].startswith("⏰ Missed reminder #") and "longer than 0 h" in notices[0]
    assert re.search(r"due \d{4}-\d\d-\d\d \d\d:\d\d CET", notices[0]), notices[0]  # the configured zone
    assert await final.stop(signal.SIGTERM) == 0


async def test_jobs_and_cancel_by_command_and_by_the_agent(
    gateway: GatewayProcess, openai_fake: FakeOpenAI, telegram: FakeTelegram, ask: AskFn
) -> None:
    schedule(
        openai_fake, "standup", action="add", cron="0 9 * * MON-FRI", timezone="America/New_York",
        prompt="summarize my day",
    )  # fmt: skip
    schedule(openai_fake, "tea", action="add", every_seconds=3600, message="tea time")
    await ask("standup every weekday")
    await ask("tea every hour")
    ids = [int(m) for m in re.findall(r"Scheduled #(\d+)", " ".join(tool_results(openai_fake)))]
    assert len(ids) == 2, tool_results(openai_fake)
    listing = await ask("/jobs")
    assert f"#{ids[0]} cron '0 9 * * MON-FRI' (America/New_York), next " in listing
    assert re.search(rf"#{ids[0]} .* next \d{{4}}-\d\d-\d\d 09:00 E[SD]T — task: summarize my day", listing)
    assert f"#{ids[1]} every 1 h, next " in listing and "message: tea time" in listing
    # Another chat sees none of them and cannot cancel them.
    other = ALLOWED_USER + 1000
    assert (await ask("/jobs", chat=other)).startswith("No scheduled jobs in this chat")
    assert (
        await ask(f"/cancel {ids[0]}", chat=other)
        == f"There is no job #{ids[0]} in this chat — /jobs lists them."
    )
    assert await ask(f"/cancel {ids[0]}") == f"Cancelled job #{ids[0]}."
    assert (
        await ask("/cancel banana")
        == "'banana' is not a job id — fix: /cancel ID with an id that /jobs lists"
    )
    # The agent lists and cancels too (tool actions list / cancel).
    schedule(openai_fake, "what is planned", action="list")
    await ask("what is planned?")
    assert "tea time" in tool_results(openai_fake)[-1] and "summarize" not in tool_results(openai_fake)[-1]
    schedule(openai_fake, "stop the tea", action="cancel", id=ids[1])
    await ask("stop the tea")
    assert tool_results(openai_fake)[-1] == f"Cancelled job #{ids[1]}."
    assert (await ask("/jobs")).startswith("No scheduled jobs in this chat")
    assert "/jobs - list this chat's reminders" in await ask("/help")


async def test_invalid_jobs_from_the_llm_are_refused_with_a_fix(
    gateway: GatewayProcess, openai_fake: FakeOpenAI, ask: AskFn
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"action": "add", "cron": "61 * * * *", "message": "x"}, "error: cron '61 * * * *' is not valid"),
        ({"action": "add", "cron": "* * * * *", "message": "x"}, "more often than schedules.min_interval_s"),
        ({"action": "add", "every_seconds": 5, "message": "x"}, "every_seconds must be from 300"),
        ({"action": "add", "in_seconds": 60, "message": "x", "timezone": "Mars/Base"}, "unknown time zone"),
        ({"action": "add", "at": "2001-01-01T09:00", "message": "x"}, "is in the past"),
        ({"action": "add", "at": "tomorrow", "message": "x"}, "is not an ISO 8601 date-time"),
        ({"action": "add", "in_seconds": 60}, "exactly one of 'message' and 'prompt'"),
        (
            {"action": "add", "in_seconds": 60, "at": "2030-01-01T00:00", "message": "x"},
            "exactly one time, got at, in_seconds",
        ),
        ({"action": "add", "in_seconds": "60", "message": "x"}, "in_seconds must be a whole number"),
        ({"action": "add", "in_seconds": 60, "message": "x" * 2001}, "at most 2000 — fix: shorten it"),
        ({"action": "add", "in_seconds": 60, "message": "x", "chat_id": "1"}, "unknown argument(s) chat_id"),
        ({"action": "delete"}, "action 'delete' is unknown"),
    ]
    for index, (arguments, expected) in enumerate(cases):
        schedule(openai_fake, f"case {index}", **arguments)
        await ask(f"case {index}")
        result = tool_results(openai_fake)[-1]
        assert result.startswith("error: ") and expected in result, (arguments, result)
        assert " — fix: " in result, result
    assert (await ask("/jobs")).startswith("No scheduled jobs in this chat"), "nothing was stored"


async def test_jobs_per_chat_are_capped(
    telegram: FakeTelegram, openai_fake: FakeOpenAI, make_config: MakeConfig, launch_gateway: LaunchGateway,
    ask: AskFn,
) -> None:  # fmt: skip
    config = make_config(extra={"schedules": {"max_jobs_per_chat": 2}})
    gateway = await started(launch_gateway, config, telegram)
    for n in range(3):
        schedule(openai_fake, f"job {n}", action="add", in_seconds=3600, message=f"later {n}")
        await ask(f"job {n}")
    results = tool_results(openai_fake)
    assert [r.startswith("Scheduled #") for r in results] == [True, True, False]
    assert "already has 2 scheduled jobs (schedules.max_jobs_per_chat) — fix: cancel one" in results[2]
    assert json.dumps(gateway.output()).count("Traceback") == 0
    assert await gateway.stop(signal.SIGTERM) == 0
