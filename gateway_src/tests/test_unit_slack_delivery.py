"""The Slack channel in-process against the fake: an envelope is acked only after on_message took it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from picoclaw_gateway.channels.base import IncomingMessage
from picoclaw_gateway.channels.slack import SlackChannel
from picoclaw_gateway.config import ChannelConfig
from tests.fakes.slack_api import FakeSlack

BOT_TOKEN = "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
APP_TOKEN = "xapp-1-A0APP00001-1234567890123-" + "0123456789abcdef" * 4
OWNER = "U0ALLOWED01"


@pytest.fixture
async def slack_fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack(BOT_TOKEN, APP_TOKEN).start()
    yield fake
    await fake.close()


async def test_ack_follows_on_message_and_a_failed_take_is_delivered_again(slack_fake: FakeSlack) -> None:
    config = ChannelConfig("slack", BOT_TOKEN, (OWNER,), app_token=APP_TOKEN, api_base=slack_fake.api_base)
    channel = SlackChannel(config)
    attempts: list[str] = []
    taking, release = asyncio.Event(), asyncio.Event()

    async def on_message(message: IncomingMessage) -> None:
        attempts.append(message.text)
        if len(attempts) == 1:
            raise OSError("journal disk full")
        taking.set()
        await release.wait()

    task = asyncio.create_task(channel.run(on_message))
    await slack_fake.wait_connected()
    await slack_fake.push_dm(OWNER, "keep me")
    first = slack_fake.sent_envelopes[-1]
    for _ in range(100):
        if attempts:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    assert attempts == ["keep me"] and first["envelope_id"] not in slack_fake.acks, "failed take: no ack"
    await slack_fake.redeliver(first)  # what Slack does with an unacknowledged envelope
    await asyncio.wait_for(taking.wait(), 10)
    second = slack_fake.sent_envelopes[-1]
    assert attempts == ["keep me", "keep me"], "the redelivery is not dropped as a duplicate"
    await asyncio.sleep(0.2)
    assert second["envelope_id"] not in slack_fake.acks, "no ack while on_message runs"
    release.set()
    assert second["envelope_id"] in await slack_fake.wait_for_acks(1)
    await channel.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    await channel.close()
