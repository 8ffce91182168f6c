"""Telegram: updates the pinned aiogram cannot decode never deafen the bot; sends survive 5xx and floods."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ALLOWED_USER, STRANGER, AskFn
from tests.e2e.gateway_process import GatewayProcess
from tests.fakes._server import EMPTY_504, HTML_502, RawAnswer
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram

# A forward from a source type newer than our aiogram: its MessageOrigin union cannot decode it.
NEWER_FORWARD = {"forward_origin": {"type": "paid_broadcast", "date": 1700000000, "note": "origin-detail-77"}}
SECRET_TEXT = "poison-text-4f2a"


async def test_poison_update_from_a_stranger_does_not_deafen_the_bot(
    gateway: GatewayProcess, ask: AskFn, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    poison = await telegram.push_update(STRANGER, SECRET_TEXT, extra=NEWER_FORWARD)
    assert await ask("after the poison") == "echo: after the poison"
    assert telegram.confirmed_below() > poison, "the poison update was acknowledged"
    assert [r.last_user_text for r in openai_fake.script.requests] == ["after the poison"]
    assert telegram.sent_to(STRANGER) == []
    assert await gateway.status("/ready") == 200
    output = gateway.output()
    assert f"unauthorized telegram user id={STRANGER}" in output
    assert "cannot decode" not in output, "a stranger's update is dropped before it is decoded"


async def test_poison_update_from_the_owner_is_skipped_and_logged_without_content(
    gateway: GatewayProcess, ask: AskFn, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    poison = await telegram.push_update(ALLOWED_USER, SECRET_TEXT, extra=NEWER_FORWARD)
    assert await ask("next message") == "echo: next message"
    assert telegram.confirmed_below() > poison
    assert [r.last_user_text for r in openai_fake.script.requests] == ["next message"]
    output = gateway.output()
    assert f"skipped telegram update {poison} (message) that this aiogram cannot decode" in output
    assert SECRET_TEXT not in output and "origin-detail-77" not in output and "paid_broadcast" not in output


@pytest.mark.parametrize(
    "answers", [(HTML_502,), (EMPTY_504, EMPTY_504)], ids=["502-html-page", "empty-504-twice"]
)
async def test_send_answered_by_a_5xx_without_api_body_is_retried_and_delivered_once(
    gateway: GatewayProcess, ask: AskFn, telegram: FakeTelegram, answers: tuple[RawAnswer, ...]
) -> None:
    telegram.fail_next("sendMessage", *answers)
    assert await ask("through the proxy") == "echo: through the proxy"
    assert len(telegram.calls_to("sendMessage")) == len(answers) + 1
    assert [m.text for m in telegram.sent_to(ALLOWED_USER)] == ["echo: through the proxy"]


async def test_flood_control_on_typing_does_not_hold_the_reply(
    gateway: GatewayProcess, ask: AskFn, telegram: FakeTelegram
) -> None:
    telegram.flood_method("sendChatAction", retry_after=15)
    assert await ask("quick please", wait_s=30) == "echo: quick please"
    [reply] = telegram.sent_to(ALLOWED_USER)
    assert reply.at < telegram.flood_until["sendChatAction"], (
        "the reply came while typing was still flood-limited"
    )
    assert len(telegram.calls_to("sendChatAction")) == 1, "no typing call inside the retry_after window"
