"""Fixtures that start the real gateway subprocess against the in-process fakes.

Two ways to get a gateway; take the shared one unless the test needs its own:

* SHARED: `gateway` (OpenRouter) and `anthropic_gateway` (Anthropic). Starting a gateway costs 1-3 s,
  so one per fixture and pytest(-xdist) worker serves every test that asks for it. Before each such
  test every chat the bot answered in gets `/reset` (empty history) and the fakes `reset()` (no
  recorded calls, requests or sent messages, no scripted rules or failures). In such a test
  `telegram`, `openai_fake`, `anthropic_fake` and `workspace` are that gateway's own. Do not stop,
  kill or reconfigure it; its workspace keeps earlier tests' files. A shared gateway that died is
  started again for the next test. Tests are grouped per shared gateway (xdist_group), so
  `make gateway-test` (`-n 2 --dist loadgroup`) starts each at most once per worker.
* OWN: `start_gateway(provider, allowed_users=, extra=, wait_polling=)` (Telegram, waits until it
  polls) and `launch_gateway(config)` (any config dict or file, waits for nothing), on fakes of the
  test's own, all stopped at teardown. For lifecycle (readiness, signals, restarts, crashes, logs
  of a whole run), other configs and other channels. A test uses one kind, never both: two
  gateways would poll one fake bot.

Every test runs in the worker's one event loop (pyproject: asyncio_default_*_loop_scope), because
the shared gateways' fakes outlive a test.
"""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import pytest_asyncio

from tests.conftest import ANTHROPIC_KEY, BOT_TOKEN, OPENAI_KEY, OPENROUTER_KEY
from tests.e2e.gateway_process import GatewayProcess, write_config
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram

AskFn = Callable[..., Awaitable[str]]
ALLOWED_USER = 111
STRANGER = 999
# Shared gateway fixture -> provider. A new one: add it here and a fixture like `anthropic_gateway`.
SHARED_GATEWAYS = {"gateway": "openrouter", "anthropic_gateway": "anthropic"}
RESET_REPLY = "History cleared"  # the start of the gateway's answer to /reset (core.py)


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


class MakeConfig(Protocol):
    def __call__(
        self,
        provider: str = "openrouter",
        *,
        allowed_users: list[int] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Path: ...


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


def openrouter_llm(openai_fake: FakeOpenAI) -> dict[str, str]:
    """The `llm` section for the fake OpenRouter endpoint."""
    return {
        "provider": "openrouter",
        "api_key": OPENROUTER_KEY,
        "model": "test/model",
        "api_base": f"{openai_fake.base_url}/api/v1",
    }


@dataclass(frozen=True)
class Fakes:
    """The Telegram and LLM fakes one gateway talks to."""

    telegram: FakeTelegram
    openai_fake: FakeOpenAI
    anthropic_fake: FakeAnthropic

    @classmethod
    async def start(cls) -> Fakes:
        return cls(
            await FakeTelegram([BOT_TOKEN]).start(), await FakeOpenAI().start(), await FakeAnthropic().start()
        )

    def reset(self) -> None:
        for fake in (self.telegram, self.openai_fake, self.anthropic_fake):
            fake.reset()

    async def close(self) -> None:
        for fake in (self.telegram, self.openai_fake, self.anthropic_fake):
            await fake.close()

    def config(
        self, path: Path, provider: str, allowed_users: list[int], extra: dict[str, Any] | None
    ) -> Path:
        """Write a gateway config pointing at these fakes."""
        return write_config(
            path,
            provider=provider,
            **provider_settings(provider, self.openai_fake, self.anthropic_fake),
            bot_token=BOT_TOKEN,
            telegram_base=self.telegram.base_url,
            allowed_users=allowed_users,
            extra=extra,
        )


async def wait_until_polling(gateway: GatewayProcess, telegram: FakeTelegram, polls_before: int) -> None:
    """Until /health answers and the gateway has sent a getUpdates of its own."""
    await gateway.wait_status("/health", 200)
    await telegram.wait_for_calls("getUpdates", polls_before + 1, wait_s=20)


class SharedGateway:
    """One gateway with its own fakes and workspace, reused by the tests of one worker."""

    def __init__(self, provider: str, root: Path, fakes: Fakes) -> None:
        self.provider, self.root, self.fakes = provider, root, fakes
        self.workspace = root / "workspace"
        self.started: list[GatewayProcess] = []  # the last one is current; earlier ones died

    async def ready(self) -> GatewayProcess:
        """The running gateway, with empty chat histories and fakes that recorded nothing."""
        if not self.started or not self.started[-1].running:
            self.workspace.mkdir(exist_ok=True)
            config = self.fakes.config(self.root / "config.json", self.provider, [ALLOWED_USER], None)
            polls_before = len(self.fakes.telegram.calls_to("getUpdates"))
            self.started.append(await GatewayProcess(config, self.workspace, self.root).start())
            await wait_until_polling(self.started[-1], self.fakes.telegram, polls_before)
        answered_chats = sorted({m.chat_id for m in self.fakes.telegram.sent})
        for llm in (self.fakes.openai_fake, self.fakes.anthropic_fake):
            llm.reset()  # no rule scripted by the last test may answer a turn still in flight
        for chat in answered_chats:
            await self._reset_chat(chat)
        self.fakes.reset()
        return self.started[-1]

    async def _reset_chat(self, chat: int) -> None:
        # A chat's messages are handled in order: once /reset is answered, nothing older is pending.
        before = len(self.fakes.telegram.sent_to(chat))
        await self.fakes.telegram.push_update(ALLOWED_USER, "/reset", chat_id=chat)
        seen = before
        while not any(m.text.startswith(RESET_REPLY) for m in self.fakes.telegram.sent_to(chat)[before:]):
            seen = len(await self.fakes.telegram.wait_for_sent(seen + 1, chat_id=chat, wait_s=15))

    async def close(self) -> None:
        for gateway in self.started:
            if gateway.running:
                with contextlib.suppress(AssertionError):
                    await gateway.stop(signal.SIGTERM, wait_s=10)
        await self.fakes.close()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist turns the marks into groups (--dist loadgroup)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for name, provider in SHARED_GATEWAYS.items():
            if name in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(f"shared-{provider}"))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _shared_gateways() -> AsyncIterator[dict[str, SharedGateway]]:
    shared: dict[str, SharedGateway] = {}
    yield shared
    for gateway in shared.values():
        await gateway.close()


@pytest.fixture
async def _shared(
    request: pytest.FixtureRequest,
    _shared_gateways: dict[str, SharedGateway],
    tmp_path_factory: pytest.TempPathFactory,
) -> SharedGateway | None:
    """The shared gateway this test asked for (None: the test gets its own fakes)."""
    wanted = [name for name in SHARED_GATEWAYS if name in request.fixturenames]
    if len(wanted) > 1:
        pytest.fail(f"a test can use one shared gateway, not {wanted} — fix: split the test")
    if not wanted:
        return None
    provider = SHARED_GATEWAYS[wanted[0]]
    if provider not in _shared_gateways:
        root = tmp_path_factory.mktemp(f"shared-{provider}")
        _shared_gateways[provider] = SharedGateway(provider, root, await Fakes.start())
    return _shared_gateways[provider]


@pytest.fixture
async def fakes(_shared: SharedGateway | None) -> AsyncIterator[Fakes]:
    """The shared gateway's fakes, or fresh ones for this test."""
    if _shared is not None:
        yield _shared.fakes
        return
    own = await Fakes.start()
    yield own
    await own.close()


@pytest.fixture
def telegram(fakes: Fakes) -> FakeTelegram:
    return fakes.telegram


@pytest.fixture
def openai_fake(fakes: Fakes) -> FakeOpenAI:
    return fakes.openai_fake


@pytest.fixture
def anthropic_fake(fakes: Fakes) -> FakeAnthropic:
    return fakes.anthropic_fake


@pytest.fixture
def workspace(tmp_path: Path, _shared: SharedGateway | None) -> Path:
    if _shared is not None:
        return _shared.workspace
    path = tmp_path / "workspace"
    path.mkdir()
    return path


@pytest.fixture
async def gateway(_shared: SharedGateway | None) -> GatewayProcess:
    """The shared OpenRouter gateway (see the module doc)."""
    assert _shared is not None
    return await _shared.ready()


@pytest.fixture
async def anthropic_gateway(_shared: SharedGateway | None) -> GatewayProcess:
    """The shared Anthropic gateway (see the module doc)."""
    assert _shared is not None
    return await _shared.ready()


def _refuse_with_shared(shared: SharedGateway | None) -> None:
    if shared is not None:
        pytest.fail(
            "this test uses a shared gateway and starts its own: both would poll one fake bot "
            "— fix: use start_gateway()/launch_gateway() only"
        )


@pytest.fixture
def make_config(tmp_path: Path, fakes: Fakes, _shared: SharedGateway | None) -> MakeConfig:
    """Write a gateway config pointing at this test's fakes; returns its path."""
    written: list[Path] = []

    def make(
        provider: str = "openrouter",
        *,
        allowed_users: list[int] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Path:
        _refuse_with_shared(_shared)
        users = [ALLOWED_USER] if allowed_users is None else allowed_users
        path = fakes.config(tmp_path / f"config-{len(written)}.json", provider, users, extra)
        written.append(path)
        return path

    return make


@pytest.fixture
async def launch_gateway(
    tmp_path: Path, workspace: Path, _shared: SharedGateway | None
) -> AsyncIterator[LaunchGateway]:
    """Start a gateway on a config (a dict is written to a file first); all are stopped at teardown."""
    started: list[GatewayProcess] = []

    async def launch(config: dict[str, Any] | Path) -> GatewayProcess:
        _refuse_with_shared(_shared)
        if isinstance(config, dict):
            path = tmp_path / f"launch-config-{len(started)}.json"
            path.write_text(json.dumps(config))
            config = path
        gateway = await GatewayProcess(config, workspace, tmp_path).start()
        started.append(gateway)
        return gateway

    yield launch
    for gateway in started:
        if gateway.running:
            with contextlib.suppress(AssertionError):  # killed; the test itself reports shutdown problems
                await gateway.stop(signal.SIGTERM, wait_s=10)


@pytest.fixture
def start_gateway(
    telegram: FakeTelegram, make_config: MakeConfig, launch_gateway: LaunchGateway
) -> StartGateway:
    """Start a gateway of this test's own; by default wait until /health answers and it polls."""

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
            await wait_until_polling(gateway, telegram, polls_before)
        return gateway

    return start


@pytest.fixture
async def gateway_with_traffic(start_gateway: StartGateway, ask: AskFn) -> tuple[GatewayProcess, AskFn]:
    """A gateway of the test's own that has answered one message (its chat worker and session exist)."""
    gateway = await start_gateway()
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


# The Discord and Slack fakes with the tokens every Discord/Slack e2e test uses.
DISCORD_TOKEN = "MTEyMzQ1Njc4OTAxMjM0NTY3OA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
SLACK_BOT_TOKEN = "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP_TOKEN = "xapp-1-A0APP00001-1234567890123-" + "0123456789abcdef" * 4


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    fake = await FakeDiscord(DISCORD_TOKEN).start()
    yield fake
    await fake.close()


@pytest.fixture
async def slack_fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack(SLACK_BOT_TOKEN, SLACK_APP_TOKEN).start()
    yield fake
    await fake.close()
