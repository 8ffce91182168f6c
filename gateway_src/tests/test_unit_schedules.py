"""When jobs fire (cron across DST changes, intervals, one-shots), the jobs file, and the runner's
exactly-once steps around a crash (with the real journal, router and LLM fake)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from picoclaw_gateway.agent.tools.base import ToolError
from picoclaw_gateway.config import ChannelConfig, ScheduleConfig
from picoclaw_gateway.delivery import own_messages
from picoclaw_gateway.schedules import timing
from picoclaw_gateway.schedules.requests import new_job
from picoclaw_gateway.schedules.runner import Runner
from picoclaw_gateway.schedules.service import Schedules
from picoclaw_gateway.schedules.store import JOBS_FILE, Job, JobStore
from tests.fakes.openai_api import FakeOpenAI
from tests.test_unit_router import make_router

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def ts(tz: str, *fields: int) -> float:
    return datetime(*fields, tzinfo=ZoneInfo(tz)).timestamp()  # type: ignore[misc]


def local_times(expr: str, tz: str, start: float, count: int) -> list[str]:
    out, after = [], start
    for _ in range(count):
        nxt = timing.cron_after(expr, tz, after)
        assert nxt is not None
        out.append(datetime.fromtimestamp(nxt, ZoneInfo(tz)).strftime("%m-%d %H:%M %Z"))
        after = nxt
    return out


def test_a_daily_cron_job_keeps_its_local_time_across_both_dst_changes() -> None:
    # Berlin: clocks go forward on 2026-03-29 (02:00 -> 03:00) and back on 2026-10-25 (03:00 -> 02:00).
    spring = local_times("0 9 * * *", BERLIN, ts(BERLIN, 2026, 3, 27, 12, 0), 4)
    assert spring == ["03-28 09:00 CET", "03-29 09:00 CEST", "03-30 09:00 CEST", "03-31 09:00 CEST"]
    start = ts(BERLIN, 2026, 3, 28, 9, 0)
    assert timing.cron_after("0 9 * * *", BERLIN, start) == start + 23 * 3600  # that day has 23 hours
    autumn = local_times("0 9 * * *", BERLIN, ts(BERLIN, 2026, 10, 24, 12, 0), 2)
    assert autumn == ["10-25 09:00 CET", "10-26 09:00 CET"]
    start = ts(BERLIN, 2026, 10, 24, 9, 0)
    assert timing.cron_after("0 9 * * *", BERLIN, start) == start + 25 * 3600
    # New York changes on other dates (2026-03-08, 2026-11-01): the zone of the job decides.
    assert local_times("30 7 * * MON-FRI", NEW_YORK, ts(NEW_YORK, 2026, 3, 6, 8, 0), 2) == [
        "03-09 07:30 EDT",
        "03-10 07:30 EDT",
    ]


def test_times_in_the_dst_gap_and_overlap_fire_once() -> None:
    # 02:30 does not exist on 2026-03-29 in Berlin: it fires at 03:00, the first minute after the gap.
    times = local_times("30 2 * * *", BERLIN, ts(BERLIN, 2026, 3, 28, 12, 0), 2)
    assert times == ["03-29 03:00 CEST", "03-30 02:30 CEST"]
    # 02:30 happens twice on 2026-10-25: it fires once, the first time.
    times = local_times("30 2 * * *", BERLIN, ts(BERLIN, 2026, 10, 24, 12, 0), 2)
    assert times == ["10-25 02:30 CEST", "10-26 02:30 CET"]


def test_intervals_skip_what_was_missed_and_one_shots_end() -> None:
    first = 1_000_000.0
    assert timing.next_due("every", "600", "UTC", first, first) == first + 600
    assert timing.next_due("every", "600", "UTC", first, first + 3601) == first + 4200  # 6 missed: once
    assert timing.next_due("at", "x", "UTC", first, first) is None
    assert timing.parse_at("2026-12-24T09:00", BERLIN) == ts(BERLIN, 2026, 12, 24, 9, 0)
    assert timing.parse_at("2026-12-24T09:00+00:00", BERLIN) == ts("UTC", 2026, 12, 24, 9, 0)
    assert timing.local(ts(BERLIN, 2026, 7, 1, 9, 0), BERLIN) == "2026-07-01 09:00 CEST"


def test_new_jobs_are_checked_field_by_field() -> None:
    config = ScheduleConfig(timezone=BERLIN, min_interval_s=600)
    now = ts(BERLIN, 2026, 12, 2, 8, 0)
    chat = ("telegram", "1", "42")
    job = new_job({"action": "add", "cron": " 0  9 * * * ", "prompt": "news"}, config, chat, now)
    assert (job.kind, job.spec, job.tz, job.action, job.next_due) == (
        "cron",
        "0 9 * * *",
        BERLIN,
        "agent",
        ts(BERLIN, 2026, 12, 2, 9, 0),
    )
    job = new_job({"action": "add", "at": "2026-12-24T18:00", "message": "gifts"}, config, chat, now)
    assert job.next_due == ts(BERLIN, 2026, 12, 24, 18, 0) and job.action == "message"
    for args, problem in (
        ({"cron": "*/5 * * * *", "message": "x"}, "fires every 300 s, more often than"),
        ({"cron": "0 9 30 2 *", "message": "x"}, "is not valid: Bad day-of-month"),
        ({"cron": "0 9 * *", "message": "x"}, "needs exactly 5 fields"),
        ({"every_seconds": 599, "message": "x"}, "every_seconds must be from 600"),
        ({"every_seconds": True, "message": "x"}, "must be a whole number"),
        ({"in_seconds": 0, "message": "x"}, "in_seconds must be from 1"),
        ({"at": "2030-01-01T00:00", "message": "x"}, "more than 732 days away"),
        ({"in_seconds": 5, "message": "a\x00b"}, "NUL"),
        ({"in_seconds": 5, "message": "  "}, "non-empty string"),
        ({"in_seconds": 5, "prompt": "x", "timezone": "../../etc/passwd"}, "unknown time zone"),
    ):
        with pytest.raises(ToolError, match="fix") as caught:
            new_job({"action": "add", **args}, config, chat, now)
        assert problem in str(caught.value), (args, str(caught.value))


def test_the_jobs_file_is_replaced_whole_and_read_back(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job = store.add(Job(0, "telegram", "1", "42", "at", "x", "UTC", "message", "hi ✓", 1.0, 2.0))
    store.add(Job(0, "telegram", "2", "42", "every", "600", "UTC", "agent", "check", 1.0, 5.0))
    store.remove(job.id)
    assert not (tmp_path / f".{JOBS_FILE}.tmp").exists()
    assert oct((tmp_path / JOBS_FILE).stat().st_mode & 0o777) == "0o600"
    again = JobStore(tmp_path)
    assert [(j.id, j.chat_id, j.text) for j in again.all()] == [(2, "2", "check")]
    assert again.add(job).id == 3, "ids are never reused"
    # A job someone broke by hand is skipped; the others load.
    data = json.loads((tmp_path / JOBS_FILE).read_text())
    data["jobs"].append({"id": "nine"})
    (tmp_path / JOBS_FILE).write_text(json.dumps(data))
    assert [j.id for j in JobStore(tmp_path).all()] == [2, 3]


async def test_a_crash_between_recording_and_moving_the_job_on_fires_it_once(
    openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    router, channel, provider = make_router(openai_fake, tmp_path / "ws")
    journal = router.journal
    clock = [1_000_000.0]
    schedules = Schedules(JobStore(tmp_path), ScheduleConfig(), clock=lambda: clock[0])
    job = schedules.store.add(
        Job(0, "telegram", "7", "42", "at", "x", "UTC", "message", "ping", 0.0, 999_990.0)
    )
    runner = Runner(schedules, journal, router)
    # Step 1 of a firing, then the process "dies": the job is still due in the jobs file.
    first = runner._record(job, "⏰ ping", f"job:{job.id}:{job.next_due:.0f}", staged=True)
    assert first is not None
    restarted = Runner(
        Schedules(JobStore(tmp_path), ScheduleConfig(), clock=lambda: clock[0]), journal, router
    )
    assert restarted.fire_due(clock[0]) is None  # nothing left to wait for
    assert [e.id for e in journal.unfinished()] == [first], "no second entry for the same occurrence"
    assert restarted.schedules.store.all() == [], "the one-shot is done"
    router.resume()
    await channel.wait_sent(1)
    assert [text for _chat, text, _ in channel.sent] == ["⏰ ping"]
    await router.shutdown(2)
    await provider.close()


async def test_a_fixed_message_a_crash_left_unstaged_is_staged_before_resume(
    openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    router, channel, provider = make_router(openai_fake, tmp_path / "ws")
    # Recorded, then the process died before reply_ready: a fixed message and an agent task.
    message = router.journal.record(
        SimpleNamespace(channel="telegram", chat_id="7", user_id=own_messages.SENDER, text="tea")
    )
    task = router.journal.record(
        SimpleNamespace(channel="telegram", chat_id="7", user_id="42", text="[task] go")
    )
    assert own_messages.stage_interrupted(router.journal) == 1
    assert router.journal.get(message).state == "reply"  # type: ignore[arg-type,union-attr]
    assert router.journal.get(task).state == "received", "an agent task runs its turn"  # type: ignore[arg-type,union-attr]
    router.resume()
    await channel.wait_sent(2)
    assert sorted(text for _chat, text, _ in channel.sent) == ["echo: [task] go", "tea"]
    assert [r.last_user_text for r in openai_fake.script.requests] == ["[task] go"], (
        "the message never met the LLM"
    )
    await router.shutdown(1)
    await provider.close()


async def test_a_job_whose_creator_is_no_longer_allowed_is_dropped(
    openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    router, channel, provider = make_router(openai_fake, tmp_path / "ws")
    channel.config = ChannelConfig("telegram", "unused", allowed_users=("42",))
    schedules = Schedules(JobStore(tmp_path), ScheduleConfig())
    kept = schedules.store.add(Job(0, "telegram", "7", "42", "at", "x", "UTC", "message", "a", 0.0, 1e12))
    schedules.store.add(Job(0, "telegram", "8", "43", "at", "x", "UTC", "message", "b", 0.0, 1.0))
    assert Runner(schedules, router.journal, router).fire_due(2.0) == 1e12
    assert schedules.store.all() == [kept] and not router.journal.unfinished(), "43 gets nothing sent"
    await router.shutdown(1)
    await provider.close()


async def test_the_tool_acts_only_on_the_chat_whose_turn_runs(tmp_path: Path) -> None:
    from picoclaw_gateway.agent.turn_context import CURRENT_TURN, TurnContext
    from picoclaw_gateway.schedules.tool import ScheduleTool

    tool = ScheduleTool(Schedules(JobStore(tmp_path), ScheduleConfig()))
    with pytest.raises(ToolError, match="only in a chat"):
        await tool.run({"action": "list"})  # `picoclaw agent -m` has no chat
    token = CURRENT_TURN.set(TurnContext("telegram", "1", "42"))
    try:
        added = await tool.run({"action": "add", "in_seconds": 60, "message": "hi"})
        assert added.startswith("Scheduled #1 once, next ") and "/cancel 1" in added
        CURRENT_TURN.set(TurnContext("telegram", "2", "43"))
        assert (
            await tool.run({"action": "cancel", "id": 1})
            == "There is no job #1 in this chat — /jobs lists them."
        )
        assert (await tool.run({"action": "list"})).startswith("No scheduled jobs in this chat. (Now: ")
    finally:
        CURRENT_TURN.reset(token)
    assert [j.chat_id for j in tool.schedules.store.all()] == ["1"]
