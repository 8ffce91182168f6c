"""The fakes themselves, proven with the real client libraries (aiogram, httpx, anthropic SDK)."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anthropic
import httpx
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter, TelegramUnauthorizedError

from tests.conftest import ANTHROPIC_KEY, BOT_TOKEN, OPENROUTER_KEY
from tests.fakes import llm_script
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram

GATEWAY_SRC = Path(__file__).resolve().parents[1]


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url))
    bot = Bot(BOT_TOKEN, session=session)
    yield bot
    await bot.session.close()


async def test_telegram_get_me_and_unknown_token(telegram: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.id == 123456
    stranger = Bot(
        "999:" + "x" * 35, session=AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url))
    )
    with pytest.raises(TelegramUnauthorizedError):
        await stranger.get_me()
    await stranger.session.close()


async def test_telegram_long_poll_waits_for_update_and_offset_confirms(
    telegram: FakeTelegram, bot: Bot
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.3)
    assert not poll.done(), "getUpdates must hold the request open until an update arrives"
    await telegram.push_update(111, "hello")
    updates = await poll
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["hello"]
    assert updates[0].message is not None and updates[0].message.from_user is not None
    assert updates[0].message.from_user.id == 111
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id], "unconfirmed updates are redelivered"
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == []


async def test_telegram_long_poll_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 < time.monotonic() - started < 2


async def test_telegram_allowed_updates_filters_and_persists(telegram: FakeTelegram, bot: Bot) -> None:
    await telegram.push_update(111, "hi")
    assert await bot.get_updates(timeout=0, allowed_updates=["callback_query"]) == []
    assert await bot.get_updates(timeout=0) == [], "allowed_updates persists like the real API"
    assert len(await bot.get_updates(timeout=0, allowed_updates=["message"])) == 1


async def test_telegram_send_message_records_and_answers_real_message(
    telegram: FakeTelegram, bot: Bot
) -> None:
    sent = await bot.send_message(42, "pong", reply_to_message_id=7)
    assert sent.text == "pong" and sent.chat.id == 42 and sent.from_user and sent.from_user.is_bot
    [recorded] = await telegram.wait_for_sent(1, chat_id=42)
    assert recorded.text == "pong"
    assert recorded.reply_to == 7
    assert await bot.send_chat_action(42, "typing") is True
    edited = await bot.edit_message_text("pong2", chat_id=42, message_id=sent.message_id)
    assert not isinstance(edited, bool) and edited.text == "pong2"
    assert [c.method for c in telegram.calls] == ["sendMessage", "sendChatAction", "editMessageText"]


async def test_telegram_limits_and_flood_control(telegram: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="too long"):
        await bot.send_message(42, "x" * 4097)
    await bot.send_message(42, "x" * 4096)
    telegram.flood_next_sends(1, retry_after=1)
    with pytest.raises(TelegramRetryAfter) as flood:
        await bot.send_message(42, "flooded")
    assert flood.value.retry_after == 1
    await bot.send_message(42, "after flood")
    assert [len(m.text) for m in telegram.sent_to(42)] == [4096, 11]


async def test_telegram_http_control(telegram: FakeTelegram, bot: Bot) -> None:
    async with httpx.AsyncClient(base_url=telegram.base_url) as client:
        pushed = (
            await client.post("/_control/updates", json={"user_id": 5, "chat_id": -100, "text": "/reset"})
        ).json()
        [update] = await bot.get_updates(timeout=0)
        assert update.update_id == pushed["update_id"]
        assert update.message and update.message.chat.type == "group"
        assert update.message.entities and update.message.entities[0].type == "bot_command"
        waiting = asyncio.create_task(client.get("/_control/sent", params={"count": 1, "timeout": 5}))
        await bot.send_message(-100, "done")
        assert [m["text"] for m in (await waiting).json()] == ["done"]
        assert (await client.get("/_control/sent", params={"count": 2, "timeout": 0.2})).status_code == 408
        await client.post("/_control/flood", json={"count": 1})
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(-100, "x")
        calls = (await client.get("/_control/calls", params={"method": "getUpdates"})).json()
        assert len(calls) == 1


async def test_openai_echo_records_request(openai_fake: FakeOpenAI) -> None:
    async with httpx.AsyncClient(base_url=openai_fake.base_url) as client:
        response = await client.post(
            "/api/v1/chat/completions",
            headers={"Authorization": f"Bearer {OPENROUTER_KEY}"},
            json={"model": "test/model", "messages": [{"role": "user", "content": "ping"}]},
        )
    assert response.status_code == 200
    body = response.json()
    assert body["choices"][0]["message"]["content"] == "echo: ping"
    assert body["choices"][0]["finish_reason"] == "stop"
    [recorded] = openai_fake.script.requests
    assert recorded.headers["authorization"] == f"Bearer {OPENROUTER_KEY}"
    assert recorded.body["model"] == "test/model"


async def test_openai_script_tool_calls_errors_and_delay(openai_fake: FakeOpenAI) -> None:
    script = openai_fake.script
    script.add(llm_script.tool_call("write_file", {"path": "a.txt", "content": "A"}))
    script.add(llm_script.error(429, retry_after=1))
    script.add(llm_script.text("slow", delay_s=0.5), match="please")
    request = {"model": "m", "messages": [{"role": "user", "content": "please"}]}
    async with httpx.AsyncClient(base_url=openai_fake.base_url) as client:
        first = (await client.post("/v1/chat/completions", json=request)).json()
        [call] = first["choices"][0]["message"]["tool_calls"]
        assert call["function"]["name"] == "write_file"
        assert json.loads(call["function"]["arguments"]) == {"path": "a.txt", "content": "A"}
        assert first["choices"][0]["finish_reason"] == "tool_calls"
        limited = await client.post("/v1/chat/completions", json=request)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
        started = time.monotonic()
        slow = (await client.post("/v1/chat/completions", json=request)).json()
        assert slow["choices"][0]["message"]["content"] == "slow" and time.monotonic() - started >= 0.5
        plain = (await client.post("/v1/chat/completions", json=request)).json()
        assert plain["choices"][0]["message"]["content"] == "echo: please"


async def test_openai_streaming(openai_fake: FakeOpenAI) -> None:
    request = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=openai_fake.base_url) as client:
        response = await client.post("/v1/chat/completions", json=request)
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-1])
    assert text == "echo: hi"


async def test_openai_http_control(openai_fake: FakeOpenAI) -> None:
    async with httpx.AsyncClient(base_url=openai_fake.base_url) as client:
        await client.post("/_control/script", json=[{"status": 500, "times": 2}, {"text": "ok"}])
        request = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        statuses = [(await client.post("/v1/chat/completions", json=request)).status_code for _ in range(3)]
        assert statuses == [500, 500, 200]
        assert len((await client.get("/_control/requests")).json()) == 3


@pytest.fixture
async def claude(anthropic_fake: FakeAnthropic) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(api_key=ANTHROPIC_KEY, base_url=anthropic_fake.base_url, max_retries=0)
    yield client
    await client.close()


async def test_anthropic_text_and_tool_use(
    anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic
) -> None:
    message = await claude.messages.create(
        model="claude-test", max_tokens=100, messages=[{"role": "user", "content": "hey"}]
    )
    assert message.type == "message" and message.stop_reason == "end_turn"
    assert message.content[0].type == "text" and message.content[0].text == "echo: hey"
    assert anthropic_fake.script.requests[0].headers["x-api-key"] == ANTHROPIC_KEY
    assert "anthropic-version" in anthropic_fake.script.requests[0].headers
    anthropic_fake.script.add(llm_script.tool_call("list_dir", {"path": "."}))
    tool = await claude.messages.create(
        model="claude-test", max_tokens=100, messages=[{"role": "user", "content": "ls"}]
    )
    assert tool.stop_reason == "tool_use"
    assert tool.content[0].type == "tool_use" and tool.content[0].input == {"path": "."}


async def test_anthropic_errors(anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic) -> None:
    anthropic_fake.api_key = "sk-ant-other"
    with pytest.raises(anthropic.AuthenticationError):
        await claude.messages.create(model="c", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    anthropic_fake.api_key = None
    for status, exc in (
        (429, anthropic.RateLimitError),
        (529, anthropic.APIStatusError),
        (500, anthropic.InternalServerError),
    ):
        anthropic_fake.script.add(llm_script.error(status, retry_after=0))
        with pytest.raises(exc) as raised:
            await claude.messages.create(
                model="c", max_tokens=10, messages=[{"role": "user", "content": "x"}]
            )
        assert raised.value.status_code == status


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_simulator_runs_standalone() -> None:
    ports = [_free_port() for _ in range(3)]
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "tests.fakes", "simulator", "--token", BOT_TOKEN],
        *["--telegram-port", str(ports[0]), "--openai-port", str(ports[1])],
        *["--anthropic-port", str(ports[2])],
        cwd=GATEWAY_SRC,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        for _ in range(3):
            line = await asyncio.wait_for(process.stdout.readline(), 10)
            assert line.startswith(b"listening")
        async with httpx.AsyncClient() as client:
            me = await client.get(f"http://127.0.0.1:{ports[0]}/bot{BOT_TOKEN}/getMe")
            assert me.json()["result"]["is_bot"] is True
            echo = await client.post(
                f"http://127.0.0.1:{ports[1]}/api/v1/chat/completions",
                json={"model": "m", "messages": [{"role": "user", "content": "up"}]},
            )
            assert echo.json()["choices"][0]["message"]["content"] == "echo: up"
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0


async def test_simulator_serves_discord_and_slack_when_asked() -> None:
    ports = [_free_port() for _ in range(5)]
    discord_token, slack_bot, slack_app = "discord.token.x", "xoxb-1-2-abc", "xapp-1-A1-2-def"
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "tests.fakes", "simulator", "--token", BOT_TOKEN],
        *["--telegram-port", str(ports[0]), "--openai-port", str(ports[1])],
        *["--anthropic-port", str(ports[2]), "--discord-port", str(ports[3])],
        *["--discord-token", discord_token, "--slack-port", str(ports[4])],
        *["--slack-bot-token", slack_bot, "--slack-app-token", slack_app],
        cwd=GATEWAY_SRC,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        names = [(await asyncio.wait_for(process.stdout.readline(), 10)).split()[1] for _ in range(5)]
        assert names == [b"telegram", b"openai", b"anthropic", b"discord", b"slack"]
        async with httpx.AsyncClient() as client:
            me = await client.get(
                f"http://127.0.0.1:{ports[3]}/api/v10/users/@me",
                headers={"Authorization": f"Bot {discord_token}"},
            )
            assert me.json()["bot"] is True
            auth = await client.post(
                f"http://127.0.0.1:{ports[4]}/api/auth.test", headers={"Authorization": f"Bearer {slack_bot}"}
            )
            assert auth.json()["ok"] is True
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0


async def test_simulator_refuses_a_discord_port_without_token() -> None:
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "tests.fakes", "simulator", "--token", BOT_TOKEN, "--discord-port", "1"],
        cwd=GATEWAY_SRC,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 2 and b"--discord-port needs --discord-token" in err


async def test_anthropic_checks_required_headers(anthropic_fake: FakeAnthropic) -> None:
    body = {"model": "c", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}
    async with httpx.AsyncClient(base_url=anthropic_fake.base_url) as client:
        no_key = await client.post("/v1/messages", json=body, headers={"anthropic-version": "2023-06-01"})
        assert no_key.status_code == 401 and no_key.json()["error"]["type"] == "authentication_error"
        no_version = await client.post("/v1/messages", json=body, headers={"x-api-key": ANTHROPIC_KEY})
        assert no_version.status_code == 400 and "anthropic-version" in no_version.json()["error"]["message"]


async def test_telegram_second_poller_ends_the_first_with_409(telegram: FakeTelegram) -> None:
    url = f"{telegram.base_url}/bot{BOT_TOKEN}/getUpdates"
    async with httpx.AsyncClient(timeout=10) as client:
        first = asyncio.create_task(client.post(url, data={"timeout": "5"}))
        await telegram.wait_for_calls("getUpdates", 1)
        second = asyncio.create_task(client.post(url, data={"timeout": "0"}))
        conflict = await first
        assert conflict.status_code == 409 and conflict.json()["error_code"] == 409
        assert (await second).json() == {"ok": True, "result": []}
