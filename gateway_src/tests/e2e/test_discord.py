"""The gateway as a subprocess on a Discord channel, against the fake Discord gateway + REST API."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from picoclaw_gateway.config_validator import validate
from tests.conftest import BOT_TOKEN, OPENROUTER_KEY
from tests.e2e.conftest import DISCORD_TOKEN, LaunchGateway, openrouter_llm
from tests.e2e.gateway_process import GATEWAY_SRC, GatewayProcess, free_port, gateway_env
from tests.fakes import llm_script
from tests.fakes._server import HTML_502, RawAnswer
from tests.fakes.discord_api import MAX_MESSAGE_CHARS, FakeDiscord
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram

ALLOWED = 123456789012345678
STRANGER = 987654321098765432
GUILD, GUILD_CHANNEL = 555555555555555555, 666666666666666666
TELEGRAM_USER = 111

Start = Callable[..., Awaitable[GatewayProcess]]
Ask = Callable[..., Awaitable[str]]


def discord_channel(fake: FakeDiscord) -> dict[str, Any]:
    return {"type": "discord", "token": DISCORD_TOKEN, "allowed_users": [ALLOWED], "api_base": fake.api_base}


@pytest.fixture(autouse=True)
def _api_base_reaches_the_channel(discord_fake: FakeDiscord) -> None:
    """Fail fast (not with a 30 s timeout) if the config layer drops the discord channel's api_base."""
    config = {
        "llm": {"provider": "openrouter", "api_key": OPENROUTER_KEY, "model": "m"},
        "channels": [discord_channel(discord_fake)],
    }
    result = validate(config)
    assert result.valid, [str(e) for e in result.errors]
    assert result.normalized is not None
    if result.normalized["channels"][0]["api_base"] is None:
        pytest.fail(
            "config_validator drops channels[].api_base for discord: the gateway would dial the real service"
        )


@pytest.fixture
def start(launch_gateway: LaunchGateway, discord_fake: FakeDiscord, openai_fake: FakeOpenAI) -> Start:
    async def start(channels: list[dict[str, Any]] | None = None) -> GatewayProcess:
        config = {"llm": openrouter_llm(openai_fake), "channels": channels or [discord_channel(discord_fake)]}
        identified = len(discord_fake.identifies)
        gateway = await launch_gateway(config)
        await gateway.wait_status("/ready", 200, wait_s=30)
        await discord_fake.wait_for_identifies(identified + 1)  # this process's session
        await discord_fake.wait_connected()
        return gateway

    return start


@pytest.fixture
def ask(discord_fake: FakeDiscord) -> Ask:
    async def ask(
        text: str, user: int = ALLOWED, channel: int | None = None, wait_s: float = 15.0, **kw: Any
    ) -> str:
        channel = user if channel is None else channel
        before = len(discord_fake.sent_to(channel))
        await discord_fake.push_message(user, text, channel_id=channel, **kw)
        sent = await discord_fake.wait_for_sent(before + 1, channel, wait_s=wait_s)
        return sent[before].content

    return ask


async def test_allowed_user_dm_is_answered_with_typing(
    start: Start, ask: Ask, discord_fake: FakeDiscord, openai_fake: FakeOpenAI
) -> None:
    gateway = await start()
    assert await ask("hello discord") == "echo: hello discord"
    assert [r.last_user_text for r in openai_fake.script.requests] == ["hello discord"]
    assert any(channel == ALLOWED for channel, _ in discord_fake.typing), "typing indicator expected"
    [sent] = discord_fake.sent_to(ALLOWED)
    assert sent.body["allowed_mentions"] == {"parse": []}, "replies must not ping anyone"
    identify = discord_fake.identifies[-1]
    assert identify["intents"] & (1 << 15) == 0, "message_content is privileged and not needed"
    assert identify["intents"] & ((1 << 1) | (1 << 8)) == 0, "no members/presence intents"
    assert DISCORD_TOKEN not in gateway.output()


async def test_mention_in_server_channel_is_answered_without_the_mention(
    start: Start, ask: Ask, discord_fake: FakeDiscord, openai_fake: FakeOpenAI
) -> None:
    await start()
    bot = discord_fake.bot_user["id"]
    answer = await ask(f"<@{bot}> what time is it", channel=GUILD_CHANNEL, guild_id=GUILD, mention_bot=True)
    assert answer == "echo: what time is it"
    # Server messages without a mention are not for us.
    await discord_fake.push_message(ALLOWED, "just chatting", channel_id=GUILD_CHANNEL, guild_id=GUILD)
    assert await ask("in dm") == "echo: in dm"
    assert [r.last_user_text for r in openai_fake.script.requests] == ["what time is it", "in dm"]


async def test_stranger_is_ignored_with_zero_llm_requests(
    start: Start, ask: Ask, discord_fake: FakeDiscord, openai_fake: FakeOpenAI
) -> None:
    gateway = await start()
    await discord_fake.push_message(STRANGER, "let me in")
    assert await ask("after stranger") == "echo: after stranger"
    assert [r.last_user_text for r in openai_fake.script.requests] == ["after stranger"]
    assert discord_fake.sent_to(STRANGER) == []
    assert discord_fake.typing and all(channel != STRANGER for channel, _ in discord_fake.typing)
    assert f"id={STRANGER}" in gateway.output()


async def test_tool_call_writes_a_file(
    start: Start, ask: Ask, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    await start()
    openai_fake.script.add(
        llm_script.tool_call("write_file", {"path": "d/notes.txt", "content": "from discord"})
    )
    openai_fake.script.add(llm_script.text("saved"))
    assert await ask("save it") == "saved"
    assert (workspace / "d" / "notes.txt").read_text() == "from discord"


async def test_long_reply_is_split_in_order_under_2000(
    start: Start, discord_fake: FakeDiscord, openai_fake: FakeOpenAI
) -> None:
    await start()
    answer = "\n".join(f"line {i:04d} " + "abcdefghij" * 5 for i in range(120))
    openai_fake.script.add(llm_script.text(answer))
    await discord_fake.push_message(ALLOWED, "long please")
    sent = await discord_fake.wait_for_sent(4, ALLOWED)
    await asyncio.sleep(0.5)
    chunks = [m.content for m in discord_fake.sent_to(ALLOWED)]
    assert len(chunks) >= len(answer) // MAX_MESSAGE_CHARS + 1
    assert all(len(c) <= MAX_MESSAGE_CHARS for c in chunks)
    assert "\n".join(chunks) == answer, "chunks cut on line boundaries, in order"
    assert [m.message_id for m in sent] == sorted(m.message_id for m in sent)


async def test_markdown_passes_through_and_stays_under_2000_after_formatting(
    start: Start, discord_fake: FakeDiscord, openai_fake: FakeOpenAI
) -> None:
    await start()
    # ~5,400 characters, bold with literal markup characters that formatting escapes (text grows).
    bold = "**" + " ".join(f"w{i:03d}_x|y" for i in range(500)) + "**"
    openai_fake.script.add(llm_script.text(f"# Title\n\n{bold}\n\n```py\nprint('hi')\n```\n\nDone."))
    await discord_fake.push_message(ALLOWED, "format please")
    while not any(m.content.endswith("Done.") for m in discord_fake.sent_to(ALLOWED)):
        await discord_fake.wait_for_sent(len(discord_fake.sent_to(ALLOWED)) + 1, ALLOWED)
    chunks = [m.content for m in discord_fake.sent_to(ALLOWED)]
    assert len(chunks) >= 3 and all(len(c) <= MAX_MESSAGE_CHARS for c in chunks)
    assert chunks[0].startswith("**Title**")
    for chunk in chunks:
        for line in chunk.split("\n"):
            if "w0" in line or "w4" in line:  # each piece of the bold span opens and closes in its message
                assert line.startswith("**w") and line.endswith("y**"), line
    assert "```py\nprint('hi')\n```" in chunks[-1]
    words = " ".join(chunks)
    assert all(f"w{i:03d}\\_x\\|y" in words for i in range(500))


async def test_rest_429_is_retried_after_retry_after(
    start: Start, ask: Ask, discord_fake: FakeDiscord
) -> None:
    await start()
    discord_fake.rate_limit_next_sends(1, retry_after=1.0)
    assert await ask("rate limited") == "echo: rate limited"
    posts = [
        at for method, path, at in discord_fake.rest_calls if method == "POST" and path.endswith("/messages")
    ]
    assert len(posts) == 2 and posts[1] - posts[0] >= 0.9


async def test_resumes_after_the_socket_drops_mid_session(
    start: Start, ask: Ask, discord_fake: FakeDiscord
) -> None:
    await start()
    assert await ask("before drop") == "echo: before drop"
    await discord_fake.drop_socket()
    # Sent while the socket is down: replayed by the fake after RESUME.
    missed = await discord_fake.push_message(ALLOWED, "while down")
    assert missed["content"] == "while down"
    sent = await discord_fake.wait_for_sent(2, ALLOWED, wait_s=30)
    assert sent[1].content == "echo: while down"
    assert discord_fake.resumes and discord_fake.resumes[-1]["session_id"] == "session-1"
    assert len(discord_fake.identifies) == 1, "the session must be resumed, not re-identified"
    assert await ask("after drop") == "echo: after drop"


async def test_history_survives_a_restart(start: Start, ask: Ask, openai_fake: FakeOpenAI) -> None:
    first = await start()
    assert await ask("remember the word walrus") == "echo: remember the word walrus"
    assert await first.stop() == 0
    await start()
    assert await ask("which word") == "echo: which word"
    contents = [m.get("content") for m in openai_fake.script.requests[-1].body["messages"]]
    assert "remember the word walrus" in contents and contents[-1] == "which word"


async def test_telegram_and_discord_in_one_gateway(
    start: Start, ask: Ask, discord_fake: FakeDiscord, telegram: FakeTelegram
) -> None:
    telegram_channel = {
        "type": "telegram",
        "token": BOT_TOKEN,
        "allowed_users": [TELEGRAM_USER],
        "api_base": telegram.base_url,
    }
    await start([telegram_channel, discord_channel(discord_fake)])
    assert await ask("from discord") == "echo: from discord"
    await telegram.push_update(TELEGRAM_USER, "from telegram")
    [reply] = await telegram.wait_for_sent(1, chat_id=TELEGRAM_USER, wait_s=15)
    assert reply.text == "echo: from telegram"


async def test_standalone_fake_round_trip_over_http_control(
    tmp_path: Path, workspace: Path, openai_fake: FakeOpenAI
) -> None:
    """The fake as its own process (how a deployed gateway is tested), driven over its HTTP control API."""
    port = free_port()
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.discord_api", "--port", str(port), "--token", DISCORD_TOKEN,
        stdout=asyncio.subprocess.PIPE, cwd=GATEWAY_SRC, env=gateway_env(),
    )  # fmt: skip
    try:
        assert fake.stdout is not None
        line = await asyncio.wait_for(fake.stdout.readline(), 20)
        assert line.decode().split() == ["listening", "discord", f"http://127.0.0.1:{port}"]
        config = {
            "llm": {"provider": "openrouter", "api_key": OPENROUTER_KEY, "model": "test/model",
                    "api_base": f"{openai_fake.base_url}/api/v1"},
            "channel": {"type": "discord", "token": DISCORD_TOKEN, "allowed_users": [ALLOWED],
                        "api_base": f"http://127.0.0.1:{port}/api/v10"},
        }  # fmt: skip
        (tmp_path / "standalone.json").write_text(json.dumps(config))
        gateway = await GatewayProcess(tmp_path / "standalone.json", workspace, tmp_path).start()
        try:
            await gateway.wait_status("/ready", 200, wait_s=30)
            control = f"http://127.0.0.1:{port}/_control"
            async with aiohttp.ClientSession() as http:
                async with http.post(
                    f"{control}/message", json={"user_id": ALLOWED, "text": "over http"}
                ) as r:
                    assert r.status == 200
                query = {"channel_id": str(ALLOWED), "count": "1", "timeout": "15"}
                async with http.get(f"{control}/sent", params=query) as r:
                    assert r.status == 200
                    assert [m["content"] for m in await r.json()] == ["echo: over http"]
        finally:
            assert await gateway.stop() == 0
    finally:
        fake.terminate()
        assert await fake.wait() == 0


async def test_rejected_token_keeps_gateway_up_but_not_ready(
    tmp_path: Path, workspace: Path, discord_fake: FakeDiscord, openai_fake: FakeOpenAI
) -> None:
    channel = {**discord_channel(discord_fake), "token": DISCORD_TOKEN[:-4] + "ZZZZ"}
    config = {
        "llm": {"provider": "openrouter", "api_key": OPENROUTER_KEY, "model": "test/model",
                "api_base": f"{openai_fake.base_url}/api/v1"},
        "channels": [channel],
    }  # fmt: skip
    (tmp_path / "bad.json").write_text(json.dumps(config))
    gateway = await GatewayProcess(tmp_path / "bad.json", workspace, tmp_path).start()
    try:
        await gateway.wait_status("/health", 200)
        for _ in range(100):
            if "discord rejected the bot token" in gateway.output():
                break
            await asyncio.sleep(0.1)
        assert "discord rejected the bot token" in gateway.output()
        assert await gateway.status("/ready") == 503
        assert discord_fake.identifies == []
        assert channel["token"] not in gateway.output()
    finally:
        assert await gateway.stop() == 0


# A forward whose snapshot has a shape newer than our discord.py (no embeds/attachments lists).
NEWER_FORWARD = {
    "message_reference": {"type": 1, "channel_id": "1", "message_id": "2"},
    "message_snapshots": [{"message": {"type": 0, "content": "snapshot-secret-83"}}],
}


async def test_unparsable_messages_never_break_the_session(
    start: Start, ask: Ask, discord_fake: FakeDiscord, openai_fake: FakeOpenAI
) -> None:
    gateway = await start()
    await discord_fake.push_message(STRANGER, "stranger-secret-41", extra=NEWER_FORWARD)
    owner = await discord_fake.push_message(ALLOWED, "owner-secret-67", extra=NEWER_FORWARD)
    assert await ask("after the poison") == "echo: after the poison"
    assert [r.last_user_text for r in openai_fake.script.requests] == ["after the poison"]
    assert len(discord_fake.identifies) == 1 and not discord_fake.resumes, "the session was never dropped"
    output = gateway.output()
    assert f"unauthorized discord user id={STRANGER}" in output
    assert f"skipped discord MESSAGE_CREATE event id={owner['id']} that discord.py cannot parse" in output
    assert output.count("cannot parse") == 1, "a stranger's message is dropped before it is parsed"
    assert "secret-" not in output


async def test_send_answered_by_a_503_or_a_502_html_page_is_delivered_once(
    start: Start, ask: Ask, discord_fake: FakeDiscord
) -> None:
    await start()
    unavailable = RawAnswer(503, b'{"message": "upstream unavailable"}', "application/json")
    discord_fake.fail_next("/messages", unavailable, HTML_502)
    assert await ask("through the proxy") == "echo: through the proxy"
    posts = [
        path for method, path, _ in discord_fake.rest_calls if method == "POST" and path.endswith("/messages")
    ]
    assert len(posts) == 3
    assert [m.content for m in discord_fake.sent_to(ALLOWED)] == ["echo: through the proxy"]


async def test_rate_limited_typing_does_not_hold_the_reply(
    start: Start, ask: Ask, discord_fake: FakeDiscord
) -> None:
    await start()
    discord_fake.flood_typing(retry_after=15)
    assert await ask("quick please", wait_s=30) == "echo: quick please"
    [reply] = discord_fake.sent_to(ALLOWED)
    assert reply.at < discord_fake.typing_flood_until, "the reply came while typing was still rate limited"
