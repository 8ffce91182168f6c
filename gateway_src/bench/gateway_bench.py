"""Memory and latency of the real gateway subprocess against the protocol fakes.

For each profile (telegram+openrouter, telegram+openai, telegram+anthropic, discord+openrouter,
slack+openrouter) prints one JSON line: RSS idle / peak / after N messages (from
/proc/<pid>/status), latency p50/p99 from the moment the fake platform hands a message to the gateway
(Telegram: getUpdates returns it; Discord: MESSAGE_CREATE dispatched on the gateway websocket; Slack:
events_api envelope sent on the Socket Mode websocket) until it receives the matching reply (the fake
LLM answers instantly), throughput, and process start -> /ready 200.

Run from gateway_src: `make bench-gateway` or `python -m bench.gateway_bench [--messages 1000]`.
Exits non-zero only when the harness itself fails; a gateway problem is reported in "error".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import ANTHROPIC_KEY, BOT_TOKEN, OPENAI_KEY, OPENROUTER_KEY
from tests.e2e.gateway_process import GatewayProcess
from tests.e2e.test_discord import DISCORD_TOKEN
from tests.e2e.test_slack import SLACK_APP_TOKEN, SLACK_BOT_TOKEN
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.llm_script import RecordedRequest, Reply, text, tool_call
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram

from bench.proc_memory import peak_rss_mb, rss_mb

PROFILES = (
    "telegram+openrouter",
    "telegram+openai",
    "telegram+anthropic",
    "discord+openrouter",
    "slack+openrouter",
    "telegram+openrouter/realistic",
)
# "/realistic": many chats, each message answered after a tool call with a ~6 KB reply (issue 12:
# the 4-chat echo profiles hide per-chat and per-reply memory).
REALISTIC_CHATS = 200
REALISTIC_REPLY_CHARS = 6_000
READY_WAIT_S = 40.0  # longer than one 25 s long poll, so a slow-to-ready gateway is still measured
REPLY_WAIT_S = 30.0
# 200 users in a closed loop share 4 concurrent turns: each waits for ~199 others' answers.
REALISTIC_REPLY_WAIT_S = 180.0
FIRST_USER = 111
FIRST_DISCORD_USER = 123456789012345678  # snowflake-sized; the DM channel id is the user id
# chat index, text, reply parts to wait for -> seconds until the (first part of the) reply arrived
Ask = Callable[[int, str, int], Awaitable[float]]


@dataclass
class Platform:
    """A started fake chat service and how the bench drives it."""

    channel: dict[str, Any]  # the config's channels[] entry
    listening: Callable[[], Awaitable[tuple[str, float]]]  # waits; -> (result key, monotonic time)
    ask: Ask
    close: Callable[[], Awaitable[None]]


async def telegram_platform(chats: int, reply_wait_s: float = REPLY_WAIT_S) -> Platform:
    fake = await FakeTelegram([BOT_TOKEN]).start()
    users = [FIRST_USER + n for n in range(chats)]

    async def listening() -> tuple[str, float]:
        return "startup_to_polling_s", (await fake.wait_for_calls("getUpdates", 1, wait_s=READY_WAIT_S))[0].at

    async def ask(chat: int, text: str, parts: int = 1) -> float:
        user = users[chat]
        before = len(fake.sent_to(user))
        update_id = await fake.push_update(user, text)
        sent = await fake.wait_for_sent(before + parts, chat_id=user, wait_s=reply_wait_s)
        return sent[before].at - fake.delivered_at[update_id]

    channel = {"type": "telegram", "token": BOT_TOKEN, "allowed_users": users, "api_base": fake.base_url}
    return Platform(channel, listening, ask, fake.close)


async def discord_platform(chats: int, reply_wait_s: float = REPLY_WAIT_S) -> Platform:
    fake = await FakeDiscord(DISCORD_TOKEN).start()
    users = [FIRST_DISCORD_USER + n for n in range(chats)]

    async def listening() -> tuple[str, float]:
        await fake.wait_for_identifies(1, wait_s=READY_WAIT_S)
        await fake.wait_connected(wait_s=READY_WAIT_S)
        return "startup_to_connected_s", time.monotonic()

    async def ask(chat: int, text: str, parts: int = 1) -> float:
        user = users[chat]  # a DM: channel id = user id
        before = len(fake.sent_to(user))
        pushed = time.monotonic()  # the fake writes MESSAGE_CREATE to the socket right away
        await fake.push_message(user, text)
        sent = await fake.wait_for_sent(before + parts, user, wait_s=reply_wait_s)
        return sent[before].at - pushed

    channel = {"type": "discord", "token": DISCORD_TOKEN, "allowed_users": users, "api_base": fake.api_base}
    return Platform(channel, listening, ask, fake.close)


async def slack_platform(chats: int, reply_wait_s: float = REPLY_WAIT_S) -> Platform:
    fake = await FakeSlack(SLACK_BOT_TOKEN, SLACK_APP_TOKEN).start()
    users = [f"U0BENCH{n:04d}" for n in range(chats)]

    async def listening() -> tuple[str, float]:
        await fake.wait_for_connections(1, wait_s=READY_WAIT_S)
        await fake.wait_connected(wait_s=READY_WAIT_S)
        return "startup_to_connected_s", time.monotonic()

    async def ask(chat: int, text: str, parts: int = 1) -> float:
        dm = f"D{users[chat][1:]}"
        before = len(fake.posted_to(dm))
        pushed = time.monotonic()  # the fake writes the envelope to the Socket Mode socket right away
        await fake.push_dm(users[chat], text, channel=dm)
        sent = await fake.wait_for_sent(before + parts, dm, wait_s=reply_wait_s)
        return sent[before].at - pushed

    channel = {
        "type": "slack",
        "bot_token": SLACK_BOT_TOKEN,
        "app_token": SLACK_APP_TOKEN,
        "allowed_users": users,
        "api_base": fake.api_base,
    }
    return Platform(channel, listening, ask, fake.close)


PLATFORMS = {"telegram": telegram_platform, "discord": discord_platform, "slack": slack_platform}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def realistic_reply(request: RecordedRequest) -> Reply:
    """First a tool call (list_dir), then, once its result is in the request, a ~6 KB answer."""
    messages = request.body.get("messages") or []
    last = messages[-1] if messages else {}
    if last.get("role") != "tool":
        if " message 0 " in request.last_user_text:  # each chat's first turn saves notes (memory)
            return tool_call("update_memory", {"notes": f"- bench user of {request.last_user_text[-12:]}"})
        return tool_call("list_dir", {"path": "."})
    # Markdown as models write it (issue 16: replies are formatted, so the parser runs on each one);
    # the same number of messages whatever the user text (the harness waits for that many).
    line = "Here is **what I found**, with some detail and `a bit of code`."
    lines = [f"About `{request.last_user_text}`:"]
    lines += [f"- {n:03d} {line}" for n in range(REALISTIC_REPLY_CHARS // (len(line) + 7) + 1)]
    body = "\n".join(lines)
    return text(body[:REALISTIC_REPLY_CHARS])


def seed_jobs(state_dir: Path, channel: str, chat_ids: list[str], count: int) -> None:
    """`count` scheduled jobs as a busy deployment has them (issue 16: 100 pending): a third each of
    daily cron tasks, hourly reminders and one-shots, spread over the chats and all due later, plus
    five due before the start (missed while down), which fire at once in chats of their own, so
    the firing path (cronsim, zoneinfo, the journal) is loaded as well."""
    from picoclaw_gateway.schedules.store import Job, JobStore

    store = JobStore(state_dir)
    now = time.time()
    zones = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")
    for n in range(count):
        kind, spec = (("cron", "0 9 * * *"), ("every", "3600"), ("at", "2030-01-01T09:00"))[n % 3]
        chat, due = chat_ids[n % len(chat_ids)], now + 3600 + n
        if n < 5:
            chat, due = f"99900{n}", now - 60
        text = f"bench job {n}: remember to check the report for project {n} " * 3
        store.add(Job(0, channel, chat, chat, kind, spec, zones[n % 4], "message", text, now, due))


def reply_parts(limit: int) -> int:
    """How many Telegram messages one realistic answer becomes (formatted, cut at `limit`)."""
    from picoclaw_gateway.formatting.render import TelegramHTML
    from picoclaw_gateway.formatting.split import format_parts

    sample = RecordedRequest("", {}, {"messages": [{"role": "tool"}]}, "bench message 100 from chat 100")
    return len(format_parts(realistic_reply(sample).text or "", TelegramHTML(), limit))


async def _chat_loop(ask: Ask, chat: int, count: int, latencies: list[float], parts: int) -> None:
    """One user talking: next message only after the previous answer (closed loop)."""
    for i in range(count):
        latencies.append(await ask(chat, f"bench message {i} from chat {chat}", parts))
        if len(latencies) % 250 == 0:
            print(f"bench: {len(latencies)} messages answered", file=sys.stderr, flush=True)


async def run_profile(
    profile: str, messages: int, chats: int, workdir: Path, env: dict[str, str], scheduled_jobs: int = 0
) -> dict[str, Any]:
    pair, _, variant = profile.partition("/")
    platform_name, provider = pair.split("+", 1)
    realistic = variant == "realistic"
    if realistic:
        chats = REALISTIC_CHATS
    platform = await PLATFORMS[platform_name](chats, REALISTIC_REPLY_WAIT_S if realistic else REPLY_WAIT_S)
    llm: FakeOpenAI | FakeAnthropic
    if provider == "anthropic":
        llm = await FakeAnthropic().start()
        settings = {"api_key": ANTHROPIC_KEY, "model": "claude-bench", "api_base": llm.base_url}
    else:
        llm = await FakeOpenAI().start()
        key, path = (OPENROUTER_KEY, "/api/v1") if provider == "openrouter" else (OPENAI_KEY, "/v1")
        settings = {"api_key": key, "model": "bench/model", "api_base": llm.base_url + path}
    parts = 1
    if realistic:
        llm.script.responder = realistic_reply
        parts = reply_parts(4096)  # Telegram's limit (the only realistic platform so far)
    workspace = workdir / profile / "workspace"
    workspace.mkdir(parents=True)
    config = workdir / profile / "config.json"
    llm_section: dict[str, Any] = {"provider": provider, **settings}
    extra: dict[str, Any] = {}
    if realistic:  # the assistant features on: memory and budgets are by default, the heartbeat too
        extra["heartbeat"] = {"enabled": True, "interval_minutes": 30}
        (workspace / "HEARTBEAT.md").write_text("# Checklist\n- tell me if backups/ is empty\n")
        # issue 16: with a fallback model configured (a second provider client)
        llm_section["fallbacks"] = [{"model": "bench/fallback"}]
    config.write_text(json.dumps({"llm": llm_section, "channels": [platform.channel], **extra}))
    if scheduled_jobs:
        (workdir / profile / "state").mkdir(mode=0o700)
        users = [str(u) for u in platform.channel.get("allowed_users", [])] or ["1"]
        seed_jobs(workdir / profile / "state", platform_name, users, scheduled_jobs)
    result: dict[str, Any] = {"profile": profile, "chats": chats, "scheduled_jobs": scheduled_jobs}
    gateway = GatewayProcess(config, workspace, workdir / profile, extra_env=env)
    try:
        await gateway.start()
        try:
            result["startup_to_ready_s"] = round(await gateway.wait_status("/ready", 200, READY_WAIT_S), 2)
        except AssertionError:
            result["startup_to_ready_s"] = None  # not ready without traffic; measured anyway below
        key, listening_at = await platform.listening()
        result[key] = round(listening_at - gateway.started_at, 2)
        await asyncio.sleep(1.0)  # let start-up garbage settle before the idle reading
        result["rss_idle_mb"] = rss_mb(gateway.pid)

        latencies: list[float] = []
        per_chat = [messages // chats + (1 if n < messages % chats else 0) for n in range(chats)]
        started = time.monotonic()
        loops = (_chat_loop(platform.ask, n, c, latencies, parts) for n, c in enumerate(per_chat))
        await asyncio.gather(*loops)
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.5)
        result["rss_after_1000_mb" if messages == 1000 else f"rss_after_{messages}_mb"] = rss_mb(gateway.pid)
        result["rss_peak_mb"] = peak_rss_mb(gateway.pid)
        result["latency_p50_ms"] = round(statistics.median(latencies) * 1000, 1)
        result["latency_p99_ms"] = round(percentile(latencies, 99) * 1000, 1)
        result["msgs_per_s"] = round(messages / elapsed, 1)
        result["llm_requests"] = len(llm.script.requests)
        result["exit_code"] = await gateway.stop(signal.SIGTERM, wait_s=15)
    except (TimeoutError, AssertionError) as exc:  # the gateway misbehaved: report, keep going
        result["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        if gateway.process is not None and gateway.process.returncode is None:
            gateway.process.kill()
            await gateway.process.wait()
    finally:
        await platform.close()
        await llm.close()
    return result


async def main_async(args: argparse.Namespace) -> int:
    # The container image's runtime environment (Dockerfile ENV), so figures match production.
    env = {"MALLOC_ARENA_MAX": str(args.malloc_arena_max)} if args.malloc_arena_max else {}
    with tempfile.TemporaryDirectory(prefix="picoclaw-bench-") as tmp:
        for profile in args.profiles:
            result = await asyncio.wait_for(
                run_profile(profile, args.messages, args.chats, Path(tmp), env, args.scheduled_jobs),
                args.profile_timeout,
            )
            print(json.dumps(result), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profiles", nargs="+", choices=PROFILES, default=list(PROFILES))
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=4, help="concurrent private chats (allowed users)")
    parser.add_argument("--malloc-arena-max", type=int, default=2, help="as the image sets; 0: unset")
    parser.add_argument("--scheduled-jobs", type=int, default=100, help="jobs pending in the state dir")
    parser.add_argument("--profile-timeout", type=float, default=300.0, help="hard bound per profile, s")
    args = parser.parse_args()
    if args.messages < 1 or args.chats < 1:
        parser.error("--messages and --chats must be at least 1")
    try:
        return asyncio.run(main_async(args))
    except TimeoutError:
        print(f"bench: a profile exceeded --profile-timeout {args.profile_timeout}s", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
