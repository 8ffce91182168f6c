"""Assistant features' pieces without a network: Telegram group signals, the heartbeat's OK rule,
the usage ledger (day change, the user cap, a damaged file), and their config keys in both dialects."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from picoclaw_gateway import budgets
from picoclaw_gateway.budgets import UsageLedger
from picoclaw_gateway.channels.telegram_groups import signals, without_mention
from picoclaw_gateway.config import BudgetConfig
from picoclaw_gateway.config_validator import validate
from picoclaw_gateway.heartbeat import STATE_FILE, Heartbeat, has_tasks, is_ok
from picoclaw_gateway.long_memory import NotesStore, file_name
from tests.conftest import BOT_TOKEN

BOT_ID = 123456
LLM = {"provider": "openrouter", "api_key": "sk-or-v1-" + "a" * 64, "model": "x/y"}


def group_message(text: str, **extra: Any) -> dict[str, Any]:
    return {"chat": {"id": -5, "type": "supergroup"}, "text": text, **extra}


def test_telegram_group_signals() -> None:
    private = {"chat": {"id": 7, "type": "private"}, "text": "hi"}
    assert not signals(private, BOT_ID, "pico_bot").group
    assert signals(group_message("hey @Pico_Bot look"), BOT_ID, "pico_bot").mentioned
    assert not signals(group_message("mail me at x@pico_bot.org or @pico_bot2"), BOT_ID, "pico_bot").mentioned
    text_mention = group_message("hey you", entities=[{"type": "text_mention", "user": {"id": BOT_ID}}])
    assert signals(text_mention, BOT_ID, None).mentioned
    reply = group_message("and?", reply_to_message={"from": {"id": BOT_ID}})
    assert signals(reply, BOT_ID, "pico_bot").replied
    assert signals(group_message("/reset"), BOT_ID, "pico_bot").command
    assert signals(group_message("/reset@pico_bot"), BOT_ID, "pico_bot").command
    assert not signals(group_message("/reset@other_bot"), BOT_ID, "pico_bot").command
    assert not signals(group_message("plain"), BOT_ID, "pico_bot").mentioned
    assert without_mention("@pico_bot what\nnext?", "pico_bot") == "what\nnext?"
    assert without_mention("@pico_bot", "pico_bot") == "@pico_bot"


def test_heartbeat_ok_and_empty_checklists() -> None:
    for reply in (
        "HEARTBEAT_OK",
        " **HEARTBEAT_OK** ",
        "All fine. HEARTBEAT_OK",
        "HEARTBEAT_OK - nothing new.",
    ):
        assert is_ok(reply), reply
    for reply in ("The disk is 95% full.", "HEARTBEAT_OK but the backup failed last night at 3:00, check it"):
        assert not is_ok(reply), reply
    assert not has_tasks("# Checklist\n\n- \n* \n<!-- later -->\n")
    assert has_tasks("# Checklist\n- check the backups\n")


def test_heartbeat_schedule_kept_across_restarts(tmp_path: Path) -> None:
    clock = [1000.0]

    def restarted() -> Heartbeat:  # first_due needs no agent, router or channel
        return Heartbeat(None, tmp_path, None, (None, "1"), 60.0, tmp_path, lambda: clock[0])  # type: ignore[arg-type]

    assert restarted().first_due() == 1060.0, "a new installation checks one interval after its start"
    clock[0] = 1030.0
    assert restarted().first_due() == 1060.0, "a restart keeps the schedule: no extra check"
    clock[0] = 5000.0
    assert restarted().first_due() == 1060.0, "missed while down: due now (run once)"
    clock[0] = 500.0  # the wall clock went back: the kept time is more than an interval away
    assert restarted().first_due() == 560.0
    (tmp_path / STATE_FILE).write_text("{broken")
    assert restarted().first_due() == 560.0


def test_usage_ledger_limits_day_change_cap_and_damaged_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = UsageLedger(tmp_path, BudgetConfig(daily_messages=1, daily_tokens=None), owners={"t:1"})
    assert ledger.admit("t:2", 1) is None
    ledger.spent("t:2", 1, 10)
    assert "1 messages" in (ledger.admit("t:2", 2) or "")
    for turn in (3, 4, 5, 6, 7):
        assert ledger.admit("t:1", turn) is None, "the owner has no limits unless set"
    ledger.flush()
    assert json.loads((tmp_path / "usage.json").read_text())["users"]["t:2"] == [1, 10]
    assert UsageLedger(tmp_path, ledger.config, set()).users["t:2"] == [1, 10]

    monkeypatch.setattr(budgets, "today", lambda: "2099-01-01")
    assert ledger.refusal("t:2") is None, "a new UTC day starts at zero"
    monkeypatch.setattr(budgets, "MAX_USERS", 2)
    ledger.spent("t:3", 8, 0)
    ledger.spent("t:4", 9, 0)
    assert ledger.admit("t:5", 10) == budgets.FULL_NOTICE
    (tmp_path / "usage.json").write_text("{not json")
    assert UsageLedger(tmp_path, ledger.config, set()).users == {}


def test_a_message_rerun_after_a_crash_is_counted_once(tmp_path: Path) -> None:
    config = BudgetConfig(daily_messages=1, daily_tokens=None)
    waiting = {41}  # journal entries still waiting for their turn
    ledger = UsageLedger(tmp_path, config, set(), pending=waiting.__contains__)
    assert ledger.admit("t:2", 41) is None
    ledger.flush()  # the housekeeping wrote the count, then the process died mid-turn
    after_crash = UsageLedger(tmp_path, config, set(), pending=waiting.__contains__)
    assert after_crash.admit("t:2", 41) is None, "the resumed turn is not refused by its own count"
    after_crash.spent("t:2", 41, 15)
    after_crash.spent("t:2", 41, 15)  # its turn ran twice (the outcome's write failed): counted once
    assert after_crash.users["t:2"] == [1, 15]
    assert "1 messages" in (after_crash.admit("t:2", 42) or ""), "the next message is over the limit"
    waiting.clear()  # the outcome is staged: the id is not kept any more
    after_crash.flush()
    assert json.loads((tmp_path / "usage.json").read_text())["turns"] == {}
    assert UsageLedger(tmp_path, config, set(), pending=waiting.__contains__).turns == {}


def _stack(**extra: Any) -> dict[str, Any]:
    channel = {"type": "telegram", "token": BOT_TOKEN, "allowed_users": [111]}
    return {"llm": LLM, "channel": channel, **extra}


def test_config_keys_and_their_fixes() -> None:
    good = validate(_stack(heartbeat={"enabled": True}, memory={"max_chars": 1000}))
    assert good.valid and good.normalized is not None
    assert good.normalized["heartbeat"] == {
        "enabled": True,
        "interval_minutes": 30.0,
        "channel": 0,
        "chat_id": "111",
    }
    discord = {"type": "discord", "token": "M" + "a" * 23 + ".abcdef." + "b" * 27, "allowed_users": [42]}
    bad = validate(
        {"llm": LLM, "channel": discord, "heartbeat": {"enabled": True}, "budgets": {"daily_tokens": 0}}
    )
    problems = {p.path: str(p) for p in bad.errors}
    assert "heartbeat.chat_id to the owner's direct-message chat id" in problems["$.heartbeat.chat_id"]
    assert "from 1 to" in problems["$.budgets.daily_tokens"]
    groups = validate(
        _stack(channel={**_stack()["channel"], "group_mode": "Mention", "allowed_groups": "-100"})
    )
    paths = {p.path for p in groups.errors}
    assert paths == {"$.channel.group_mode", "$.channel.allowed_groups"}


def test_upstream_group_trigger_and_heartbeat_map() -> None:
    upstream = {
        "agents": {"defaults": {"model": "openrouter/x/y"}},
        "providers": {"openrouter": {"api_key": LLM["api_key"]}},
        "channels": {
            "telegram": {
                "enabled": True,
                "token": BOT_TOKEN,
                "allow_from": ["111"],
                "group_trigger": {"mention_only": False},
            }
        },
        "heartbeat": {"enabled": True, "interval": 10},
    }
    result = validate(upstream)
    assert result.valid, [str(e) for e in result.errors]
    assert result.normalized is not None
    assert result.normalized["channels"][0]["group_mode"] == "all"
    assert result.normalized["heartbeat"] == {
        "enabled": True,
        "interval_minutes": 10.0,
        "channel": 0,
        "chat_id": "111",
    }


def test_notes_never_block_on_a_fifo_nor_write_through_a_link(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    (workspace / "memory").mkdir(parents=True)
    store = NotesStore(workspace, max_chars=100)
    os.mkfifo(workspace / "memory" / file_name("telegram", "1"))
    assert store.load("telegram", "1") == "", "a FIFO is not read (it would block the event loop)"
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    (workspace / "memory" / file_name("telegram", "2")).symlink_to(outside)
    store.save("telegram", "2", "- new notes")
    assert outside.read_text() == "untouched"
    assert store.load("telegram", "2") == "- new notes"
    (workspace / "memory").rename(workspace / "real-memory")
    (workspace / "memory").symlink_to(tmp_path)
    assert store.load("telegram", "2") == "", "a linked memory folder is not followed"
