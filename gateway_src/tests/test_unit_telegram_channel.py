"""The Telegram channel in-process against the fake Bot API: auth first, readiness, typing, splitting."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from picoclaw_gateway.channels.base import IncomingMessage
from picoclaw_gateway.channels.telegram import TelegramChannel
from picoclaw_gateway.config import ChannelConfig
from tests.conftest import BOT_TOKEN
from tests.fakes.telegram_api import FakeTelegram


def channel_for(fake: FakeTelegram, token: str = BOT_TOKEN) -> TelegramChannel:
    config = ChannelConfig("telegram", token, allowed_users=("42",), api_base=fake.base_url)
    return TelegramChannel(config, poll_timeout_s=1)


async def test_only_allowed_users_get_through_and_ready_follows_polling(
    telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    channel = channel_for(telegram)
    received: list[IncomingMessage] = []

    async def on_message(message: IncomingMessage) -> None:
        received.append(message)

    assert not channel.ready
    task = asyncio.create_task(channel.run(on_message))
    with caplog.at_level(logging.INFO):
        await telegram.push_update(666, "let me in")
        await telegram.push_update(42, "hello")
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.02)
    assert channel.ready
    assert [(m.user_id, m.chat_id, m.text) for m in received] == [("42", "42", "hello")]
    assert "unauthorized telegram user id=666" in caplog.text
    await channel.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await channel.close()


async def test_rejected_token_makes_ready_false_with_a_reason(telegram: FakeTelegram) -> None:
    channel = channel_for(telegram, token="999:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9")

    async def on_message(message: IncomingMessage) -> None:
        raise AssertionError("no message expected")

    task = asyncio.create_task(channel.run(on_message))
    for _ in range(200):
        if "401" in channel.not_ready_reason:
            break
        await asyncio.sleep(0.02)
    assert not channel.ready and "rejected the bot token (401)" in channel.not_ready_reason
    await channel.stop()
    await asyncio.wait_for(task, 5)
    await channel.close()


async def test_typing_repeats_while_working_and_long_replies_split_in_order(telegram: FakeTelegram) -> None:
    channel = channel_for(telegram)
    async with channel.typing("42"):
        await asyncio.sleep(4.5)
    actions = telegram.calls_to("sendChatAction")
    assert len(actions) == 2 and actions[1].at - actions[0].at >= 3.9
    reply = "\n".join(f"{i:05d} " + "é😀" * 40 for i in range(200))
    await channel.send("42", reply)
    sent = [m.text for m in telegram.sent_to(42)]
    assert len(sent) > 1 and "\n".join(sent) == reply
    await channel.close()


async def test_an_update_is_acknowledged_only_after_on_message_returned(telegram: FakeTelegram) -> None:
    channel = channel_for(telegram)
    taking = asyncio.Event()
    release = asyncio.Event()
    attempts: list[str] = []

    async def on_message(message: IncomingMessage) -> None:
        attempts.append(message.text)
        if len(attempts) == 1:
            raise OSError("journal disk full")  # not taken: must come again
        taking.set()
        await release.wait()

    task = asyncio.create_task(channel.run(on_message))
    update_id = await telegram.push_update(42, "keep me")
    await asyncio.wait_for(taking.wait(), 10)
    assert attempts == ["keep me", "keep me"], "a failed on_message leaves the update to be fetched again"
    assert telegram.confirmed_below() <= update_id, "not acknowledged while on_message runs"
    release.set()
    for _ in range(200):
        if telegram.confirmed_below() > update_id:
            break
        await asyncio.sleep(0.02)
    assert telegram.confirmed_below() > update_id
    assert attempts == ["keep me", "keep me"], "taken once it was acknowledged"
    await channel.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await channel.close()
