"""Fixtures that start the real gateway subprocess against the in-process fakes."""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.conftest import ANTHROPIC_KEY, BOT_TOKEN, OPENAI_KEY, OPENROUTER_KEY
from tests.e2e.gateway_process import GatewayProcess, write_config
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram

AskFn = Callable[..., Awaitable[str]]
ALLOWED_USER = 111
STRANGER = 999


class LaunchGateway(Protocol):
    def __call__(self, config: dict[str, Any] | Path) -> Awaitable[GatewayProcess]: ...


class StartGateway(Protocol):
    def __call__(
        self,
        provider: str = "openrouter",
        *,
        allowed_users: list[int] | None = None,
        extra: dict[str, Any] | None = None,
        wait_polling: bool = True,
    ) -> Awaitable[GatewayProcess]: ...


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


def provider_settings(
    provider: str, openai_fake: FakeOpenAI, anthropic_fake: FakeAnthropic
) -> dict[str, str]:
    if provider == "openrouter":
        return {
            "api_key": OPENROUTER_KEY,
            "model": "test/model",
            "llm_base": f"{openai_fake.base_url}/api/v1",
        }
    if provider == "openai":
        return {"api_key": OPENAI_KEY, "model": "gpt-test", "llm_base": f"{openai_fake.base_url}/v1"}
    return {"api_key": ANTHROPIC_KEY, "model": "claude-test", "llm_base": anthropic_fake.base_url}


class MakeConfig(Protocol):
    def __call__(
        self,
        provider: str = "openrouter",
        *,
        allowed_users: list[int] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Path: ...


@pytest.fixture
def make_config(
    tmp_path: Path, telegram: FakeTelegram, openai_fake: FakeOpenAI, anthropic_fake: FakeAnthropic
) -> MakeConfig:
    """Write a gateway config pointing at this test's fakes; returns its path."""
    written: list[Path] = []

    def make(
        provider: str = "openrouter",
        *,
        allowed_users: list[int] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Path:
        path = write_config(
            tmp_path / f"config-{len(written)}.json",
            provider=provider,
            **provider_settings(provider, openai_fake, anthropic_fake),
            bot_token=BOT_TOKEN,
            telegram_base=telegram.base_url,
            allowed_users=[ALLOWED_USER] if allowed_users is None else allowed_users,
            extra=extra,
        )
        written.append(path)
        return path

    return make


def openrouter_llm(openai_fake: FakeOpenAI) -> dict[str, str]:
    """The `llm` section for the fake OpenRouter endpoint."""
    return {
        "provider": "openrouter",
        "api_key": OPENROUTER_KEY,
        "model": "test/model",
        "api_base": f"{openai_fake.base_url}/api/v1",
    }


@pytest.fixture
async def launch_gateway(tmp_path: Path, workspace: Path) -> AsyncIterator[LaunchGateway]:
    """Start a gateway on a config (a dict is written to a file first); all are stopped at teardown."""
    started: list[GatewayProcess] = []

    async def launch(config: dict[str, Any] | Path) -> GatewayProcess:
        if isinstance(config, dict):
            path = tmp_path / f"launch-config-{len(started)}.json"
            path.write_text(json.dumps(config))
            config = path
        gateway = await GatewayProcess(config, workspace, tmp_path).start()
        started.append(gateway)
        return gateway

    yield launch
    for gateway in started:
        if gateway.process is not None and gateway.process.returncode is None:
            with contextlib.suppress(AssertionError):  # killed; the test itself reports shutdown problems
                await gateway.stop(signal.SIGTERM, wait_s=10)


@pytest.fixture
def start_gateway(
    telegram: FakeTelegram, make_config: MakeConfig, launch_gateway: LaunchGateway
) -> StartGateway:
    """Start a gateway; by default wait until /health answers and it has begun long polling."""

    async def start(
        provider: str = "openrouter",
        *,
        allowed_users: list[int] | None = None,
        extra: dict[str, Any] | None = None,
        wait_polling: bool = True,
    ) -> GatewayProcess:
        config = make_config(provider, allowed_users=allowed_users, extra=extra)
        polls_before = len(telegram.calls_to("getUpdates"))
        gateway = await launch_gateway(config)
        if wait_polling:
            await gateway.wait_status("/health", 200)
            await telegram.wait_for_calls("getUpdates", polls_before + 1, wait_s=20)
        return gateway

    return start


@pytest.fixture
async def gateway(start_gateway: StartGateway) -> GatewayProcess:
    return await start_gateway()


@pytest.fixture
async def gateway_with_traffic(gateway: GatewayProcess, ask: AskFn) -> tuple[GatewayProcess, AskFn]:
    """A gateway that has answered one message (so its chat worker and session exist)."""
    assert await ask("warm up") == "echo: warm up"
    return gateway, ask


@pytest.fixture
def ask(telegram: FakeTelegram) -> AskFn:
    """Send `text` from `user` in `chat` and return the next bot message in that chat."""

    async def ask(text: str, user: int = ALLOWED_USER, chat: int | None = None, wait_s: float = 15.0) -> str:
        chat = user if chat is None else chat
        before = len(telegram.sent_to(chat))
        await telegram.push_update(user, text, chat_id=chat)
        sent = await telegram.wait_for_sent(before + 1, chat_id=chat, wait_s=wait_s)
        return sent[before].text

    return ask
