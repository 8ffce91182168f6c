"""Shared fixtures: the protocol-level fakes, started in-process on ephemeral 127.0.0.1 ports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram

# Shaped like real secrets so the config validator accepts them; they only ever reach the fakes.
BOT_TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
OPENROUTER_KEY = "sk-or-v1-" + "0123456789abcdef" * 4
OPENAI_KEY = "sk-proj-" + "Tq3xV9bN2mK7pL4rW8sY1zA6cD5fG0hJ" * 2
ANTHROPIC_KEY = "sk-ant-api03-" + "Zx8Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz" * 3 + "-AbCdEfAA"


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram([BOT_TOKEN]).start()
    yield fake
    await fake.close()


@pytest.fixture
async def openai_fake() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI().start()
    yield fake
    await fake.close()


@pytest.fixture
async def anthropic_fake() -> AsyncIterator[FakeAnthropic]:
    fake = await FakeAnthropic().start()
    yield fake
    await fake.close()
