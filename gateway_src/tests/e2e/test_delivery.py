"""The delivery guarantee end to end: every acknowledged message gets exactly one reply or notice,
across kill -9, SIGTERM with a full queue and /reset (the gateway is an unmodified subprocess)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from collections import Counter
from pathlib import Path

from picoclaw_gateway.core import RESET_REPLY
from picoclaw_gateway.router import CANCELLED_NOTICE
from tests.e2e.conftest import ALLOWED_USER, LaunchGateway, MakeConfig
from tests.e2e.gateway_process import GatewayProcess, gateway_env
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram

GRACE_S = 10.0  # Docker's default stop timeout: the gateway must be gone by then


async def started(launch: LaunchGateway, config: Path, telegram: FakeTelegram) -> GatewayProcess:
    polls = len(telegram.calls_to("getUpdates"))
    gateway = await launch(config)
    await gateway.wait_status("/health", 200, wait_s=30)
    await telegram.wait_for_calls("getUpdates", polls + 1, wait_s=30)
    return gateway


async def wait_until(condition: object, wait_s: float, what: str) -> None:
    deadline = time.monotonic() + wait_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def replies_by_text(telegram: FakeTelegram) -> Counter[tuple[int, str]]:
    return Counter((m.chat_id, m.text) for m in telegram.sent)


async def test_kill_9_during_a_burst_loses_nothing(
    telegram: FakeTelegram, openai_fake: FakeOpenAI, make_config: MakeConfig, launch_gateway: LaunchGateway
) -> None:
    chats, per_chat, kills = 30, 6, 8
    users = [5000 + n for n in range(chats)]
    config = make_config(allowed_users=users)
    openai_fake.script.echo_delay_s = (0.02, 0.3)
    rng = random.Random(12)
    pushed: dict[int, tuple[int, str]] = {}  # update_id -> (chat, text)

    async def traffic() -> None:
        order = [(user, i) for i in range(per_chat) for user in users]  # each chat's messages in order
        for user, i in order:
            text = f"m{user}-{i}"
            pushed[await telegram.push_update(user, text)] = (user, f"echo: {text}")
            await asyncio.sleep(rng.uniform(0.0, 0.08))

    pusher = asyncio.create_task(traffic())
    killed_at: list[float] = []
    started_at: list[float] = []  # when each run of the gateway was launched (the last one: `final`)
    for kill in range(kills):
        started_at.append(time.monotonic())
        gateway = await started(launch_gateway, config, telegram)
        await asyncio.sleep(rng.uniform(0.2, 1.5))
        gateway.process.kill()  # type: ignore[union-attr]
        killed_at.append(time.monotonic())
        await gateway.process.wait()  # type: ignore[union-attr]
        print(f"kill -9 #{kill + 1}: {len(telegram.sent)} replies so far, {len(pushed)} pushed")
    await pusher
    started_at.append(time.monotonic())
    final = await started(launch_gateway, config, telegram)
    expected = set(pushed.values())
    await wait_until(lambda: expected <= set(replies_by_text(telegram)), 180, "every message answered")
    await asyncio.sleep(1.0)  # a late duplicate would show up now
    assert await final.stop(signal.SIGTERM) == 0

    accepted = {u for u in pushed if u < telegram.confirmed_below()}
    assert accepted == set(pushed), "every update was acknowledged in the end"
    counts = replies_by_text(telegram)
    lost = [pushed[u] for u in sorted(accepted) if counts[pushed[u]] == 0]
    duplicates = {reply: n for reply, n in counts.items() if n > 1}
    print(
        f"\nkill -9 x{kills}, {chats} chats x {per_chat} messages: {len(accepted)} accepted, "
        f"{len(lost)} lost, {sum(duplicates.values()) - len(duplicates)} duplicates {sorted(duplicates)}"
    )
    assert not lost
    assert set(counts) == expected, "nothing but the replies"
    for (chat, text), _n in duplicates.items():
        # The window: the platform took the send, the process died before recording it.
        first, second = [m.at for m in telegram.sent_to(chat) if m.text == text][:2]
        # The run that sent the first copy is the last one launched before the fake recorded it (the
        # fake records a request when its handler runs, which may be just after the test's kill).
        sender = max(i for i, start in enumerate(started_at) if start <= first)
        assert sender < kills, f"{text}: a duplicate sent by the run that was never killed"
        assert killed_at[sender] <= second, f"{text}: resent before the run that sent it was killed"
        lag = 1000 * (killed_at[sender] - first)
        print(f"  {text}: first copy {lag:.0f} ms before the kill -9 of its run, resent after it")
    for user in users:  # order per chat: the first copy of each reply comes in message order
        firsts = list(dict.fromkeys(m.text for m in telegram.sent_to(user)))
        assert firsts == [f"echo: m{user}-{i}" for i in range(per_chat)], user


async def test_sigterm_with_a_full_queue_exits_in_time_and_answers_all_after_restart(
    telegram: FakeTelegram, openai_fake: FakeOpenAI, make_config: MakeConfig, launch_gateway: LaunchGateway
) -> None:
    users = [6000 + n for n in range(4)]
    config = make_config(allowed_users=users)
    openai_fake.script.echo_delay_s = (2.0, 2.0)
    gateway = await started(launch_gateway, config, telegram)
    ids = [await telegram.push_update(users[i % 4], f"q{i}") for i in range(40)]
    await wait_until(lambda: telegram.confirmed_below() > ids[-1], 30, "all 40 acknowledged (queued)")
    asked = len(openai_fake.script.requests)
    stopping = time.monotonic()
    assert await gateway.stop(signal.SIGTERM, wait_s=GRACE_S + 5) == 0
    took = time.monotonic() - stopping
    before_restart = len(telegram.sent)
    print(f"\nSIGTERM with 40 queued: exit after {took:.1f} s, {before_restart} answered before it")
    assert took < GRACE_S
    assert before_restart < 40 and asked < 40, "the queue was really full"

    openai_fake.script.echo_delay_s = (0.0, 0.0)
    restarted = await started(launch_gateway, config, telegram)
    expected = {(users[i % 4], f"echo: q{i}") for i in range(40)}
    await wait_until(lambda: expected <= set(replies_by_text(telegram)), 60, "all 40 answered")
    await asyncio.sleep(1.0)
    assert await restarted.stop(signal.SIGTERM) == 0
    assert replies_by_text(telegram) == Counter(dict.fromkeys(expected, 1)), "each exactly once"


async def test_reset_gives_each_queued_message_exactly_one_outcome(
    telegram: FakeTelegram,
    openai_fake: FakeOpenAI,
    make_config: MakeConfig,
    launch_gateway: LaunchGateway,
    workspace: Path,
) -> None:
    config = make_config()
    gateway = await started(launch_gateway, config, telegram)
    openai_fake.script.echo_delay_s = (1.5, 1.5)
    await telegram.push_update(ALLOWED_USER, "first")
    await openai_fake.script.wait_for_requests(1, wait_s=15)
    for text in ("queued one", "queued two", "/reset", "after the reset"):
        await telegram.push_update(ALLOWED_USER, text)
    sent = await telegram.wait_for_sent(5, chat_id=ALLOWED_USER, wait_s=30)
    await asyncio.sleep(1.0)
    assert [m.text for m in telegram.sent_to(ALLOWED_USER)] == [
        "echo: first",
        CANCELLED_NOTICE,
        CANCELLED_NOTICE,
        RESET_REPLY,
        "echo: after the reset",
    ]
    assert len(sent) == 5
    assert [r.last_user_text for r in openai_fake.script.requests] == ["first", "after the reset"]
    assert [m["content"] for m in openai_fake.script.requests[-1].body["messages"][1:]] == ["after the reset"]
    assert await gateway.stop(signal.SIGTERM) == 0
    # The journal is in the state directory, the workspace's sibling, out of the tools' reach.
    state = workspace.parent / "state"
    assert (state / "journal" / "journal.bin").is_file() and state.stat().st_mode & 0o777 == 0o700
    assert os.listdir(workspace) == [], "nothing of the gateway's own in the workspace"
    assert (state / "sessions").is_dir(), "the chat histories are in the state directory too"


async def test_a_state_directory_inside_the_workspace_is_refused(
    make_config: MakeConfig, workspace: Path
) -> None:
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "picoclaw_gateway", "gateway", "--config", str(make_config())],
        *["--workspace", str(workspace), "--state-dir", str(workspace / "state")],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=gateway_env(),
    )
    _out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "is inside the workspace" in err.decode() and "fix: pass --state-dir" in err.decode()
    assert not (workspace / "state").exists()


async def test_a_staged_reply_is_sent_after_a_restart_without_asking_the_llm_again(
    telegram: FakeTelegram, openai_fake: FakeOpenAI, make_config: MakeConfig, launch_gateway: LaunchGateway
) -> None:
    config = make_config()
    gateway = await started(launch_gateway, config, telegram)
    telegram.flood_method("sendMessage", retry_after=60)  # the reply is computed, then cannot go out
    await telegram.push_update(ALLOWED_USER, "compute me once")
    await openai_fake.script.wait_for_requests(1, wait_s=15)
    await telegram.wait_for_calls("sendMessage", 1, wait_s=15)
    assert await gateway.stop(signal.SIGTERM, wait_s=GRACE_S + 5) == 0
    telegram.flood_until.clear()
    restarted = await started(launch_gateway, config, telegram)
    await telegram.wait_for_sent(1, chat_id=ALLOWED_USER, wait_s=20)
    await asyncio.sleep(0.5)
    assert [m.text for m in telegram.sent_to(ALLOWED_USER)] == ["echo: compute me once"]
    assert [r.last_user_text for r in openai_fake.script.requests] == ["compute me once"], "not recomputed"
    assert "resuming 1 unfinished messages" in restarted.output()
    assert await restarted.stop(signal.SIGTERM) == 0
