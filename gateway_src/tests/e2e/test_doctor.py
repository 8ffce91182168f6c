"""`python -m picoclaw_gateway doctor` as a subprocess against the protocol fakes.

Every run asserts: no traceback, no secret in the output, and (through the LLM fakes' counters)
that no chat request was made, so no LLM token was spent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ANTHROPIC_KEY, BOT_TOKEN, OPENAI_KEY, OPENROUTER_KEY
from tests.e2e.conftest import DISCORD_TOKEN, SLACK_APP_TOKEN, SLACK_BOT_TOKEN
from tests.e2e.gateway_process import free_port, gateway_env
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web_api import FakeSearch

# Well-formed (the validator accepts them) but not the ones the fakes expect.
WRONG_KEYS = {
    "openrouter": "sk-or-v1-" + "fedcba9876543210" * 4,
    "openai": "sk-proj-" + "Zz9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gF" * 2,
    "anthropic": "sk-ant-api03-" + "Qq1Ww2Ee3Rr4Tt5Yy6Uu7Ii8Oo9Pp0Aa" * 3 + "-ZyXwVuAA",
}
WRONG_BOT_TOKEN = "654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsZZZ"
WRONG_DISCORD_TOKEN = "MTk4NzY1NDMyMTA5ODc2NTQzMg.XyZaBc.zyxwvutsrqponmlkjihgfedcba9876543210ZY"
WRONG_SLACK_BOT_TOKEN = "xoxb-9999999999999-9999999999999-ZyXwVuTsRqPoNmLkJiHgFeDc"
SEARCH_KEY = "BSA-doctor-search-key-0123456789abcdef"
WRONG_SEARCH_KEY = "BSA-wrong-search-key-fedcba9876543210"
SECRETS = [
    BOT_TOKEN, BOT_TOKEN.split(":")[1], OPENROUTER_KEY, OPENAI_KEY, ANTHROPIC_KEY, DISCORD_TOKEN,
    SLACK_BOT_TOKEN, SLACK_APP_TOKEN, WRONG_BOT_TOKEN, WRONG_BOT_TOKEN.split(":")[1], WRONG_DISCORD_TOKEN,
    WRONG_SLACK_BOT_TOKEN, *WRONG_KEYS.values(), SEARCH_KEY, WRONG_SEARCH_KEY,
]  # fmt: skip
GOOD_KEYS = {"openrouter": OPENROUTER_KEY, "openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}
MODELS = {"openrouter": "test/model", "openai": "gpt-test", "anthropic": "claude-test"}
PROVIDERS = list(MODELS)


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def line(self, name: str) -> str:
        """The one line about `name` (e.g. llm.api_key)."""
        found = [line for line in self.stdout.splitlines() if line[5:].startswith(f"{name}: ")]
        assert len(found) == 1, f"{name!r} in:\n{self.stdout}"
        return found[0]

    def status(self, name: str) -> str:
        return self.line(name)[:4].strip()


@pytest.fixture
async def llm_fakes() -> AsyncIterator[tuple[FakeOpenAI, FakeAnthropic]]:
    """LLM fakes that accept only the good keys: OpenRouter/OpenAI share one, Anthropic has its own."""
    openai = await FakeOpenAI(api_key=OPENROUTER_KEY).start()
    anthropic = await FakeAnthropic(api_key=ANTHROPIC_KEY).start()
    yield openai, anthropic
    await openai.close()
    await anthropic.close()


@pytest.fixture
async def openai_only() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(api_key=OPENAI_KEY).start()
    yield fake
    await fake.close()


def llm_section(
    provider: str, llm_fakes: tuple[FakeOpenAI, FakeAnthropic], openai_only: FakeOpenAI, **changes: str
) -> dict[str, Any]:
    openrouter, anthropic = llm_fakes
    base = {
        "openrouter": f"{openrouter.base_url}/api/v1",
        "openai": f"{openai_only.base_url}/v1",
        "anthropic": anthropic.base_url,
    }[provider]
    section = {
        "provider": provider,
        "api_key": GOOD_KEYS[provider],
        "model": MODELS[provider],
        "api_base": base,
    }
    return section | changes


def telegram_channel(telegram: FakeTelegram, token: str = BOT_TOKEN) -> dict[str, Any]:
    return {"type": "telegram", "token": token, "allowed_users": [111], "api_base": telegram.base_url}


def chat_requests(*fakes: FakeOpenAI | FakeAnthropic) -> int:
    return sum(fake.script.counts["chat"] for fake in fakes)


async def doctor(tmp_path: Path, config: dict[str, Any] | str, *options: str) -> Run:
    path = tmp_path / "config.json"
    path.write_text(config if isinstance(config, str) else json.dumps(config))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "picoclaw_gateway", "doctor", "--config", str(path), *options,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=gateway_env(),
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    stdout, stderr = out.decode(), err.decode()
    assert proc.returncode is not None
    assert "Traceback" not in stdout + stderr, stdout + stderr
    for secret in SECRETS:
        assert secret not in stdout + stderr
    return Run(proc.returncode, stdout, stderr)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_good_key_model_and_token_pass_without_a_chat_request(
    provider: str,
    tmp_path: Path,
    telegram: FakeTelegram,
    llm_fakes: tuple[FakeOpenAI, FakeAnthropic],
    openai_only: FakeOpenAI,
) -> None:
    config = {"llm": llm_section(provider, llm_fakes, openai_only), "channel": telegram_channel(telegram)}
    run = await doctor(tmp_path, config)
    assert run.code == 0, run
    for name in ("config", "llm.api_key", "llm.model", "channel.token"):
        assert run.status(name) == "ok", run
    assert f"offers {MODELS[provider]}" in run.line("llm.model")
    assert "bot @picoclaw_test_123456_bot" in run.line("channel.token")
    assert run.stdout.splitlines()[-1] == "doctor: ok (4 checks)"
    assert chat_requests(*llm_fakes, openai_only) == 0  # no LLM token spent
    assert sum(f.script.counts["models"] for f in (*llm_fakes, openai_only)) == 1
    assert llm_fakes[0].script.counts["key"] == (1 if provider == "openrouter" else 0)
    assert [c.method for c in telegram.calls] == ["getMe"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_rejected_key_fails_naming_llm_api_key(
    provider: str,
    tmp_path: Path,
    telegram: FakeTelegram,
    llm_fakes: tuple[FakeOpenAI, FakeAnthropic],
    openai_only: FakeOpenAI,
) -> None:
    llm = llm_section(provider, llm_fakes, openai_only, api_key=WRONG_KEYS[provider])
    run = await doctor(tmp_path, {"llm": llm, "channel": telegram_channel(telegram)})
    assert run.code == 1, run
    line = run.line("llm.api_key")
    assert line.startswith("FAIL llm.api_key: ") and "rejected the API key (HTTP 401)" in line
    assert "— fix: put a valid key in llm.api_key" in line
    assert run.status("llm.model") == "skip"
    assert run.status("channel.token") == "ok"
    assert run.stdout.splitlines()[-1] == "doctor: FAIL (1 of 4 checks failed)"
    assert chat_requests(*llm_fakes, openai_only) == 0


@pytest.mark.parametrize(("provider", "typo"), [("openrouter", "test/modle"), ("openai", "gpt-tset"),
                                                ("anthropic", "claude-tset")])  # fmt: skip
async def test_unknown_model_fails_naming_llm_model_with_the_closest_ids(
    provider: str,
    typo: str,
    tmp_path: Path,
    telegram: FakeTelegram,
    llm_fakes: tuple[FakeOpenAI, FakeAnthropic],
    openai_only: FakeOpenAI,
) -> None:
    llm = llm_section(provider, llm_fakes, openai_only, model=typo)
    run = await doctor(tmp_path, {"llm": llm, "channel": telegram_channel(telegram)})
    assert run.code == 1, run
    assert run.status("llm.api_key") == "ok"
    line = run.line("llm.model")
    assert line.startswith(f"FAIL llm.model: the LLM server does not offer the model '{typo}'"), line
    assert f"— fix: set llm.model to a model id it offers (closest: {MODELS[provider]}" in line
    assert chat_requests(*llm_fakes, openai_only) == 0


async def test_openrouter_variant_suffix_is_found_by_its_base_model(
    tmp_path: Path,
    telegram: FakeTelegram,
    llm_fakes: tuple[FakeOpenAI, FakeAnthropic],
    openai_only: FakeOpenAI,
) -> None:
    llm = llm_section("openrouter", llm_fakes, openai_only, model="test/model:nitro")
    run = await doctor(tmp_path, {"llm": llm, "channel": telegram_channel(telegram)})
    assert run.code == 0, run
    assert run.status("llm.model") == "ok"


@pytest.mark.parametrize("platform", ["telegram", "discord", "slack"])
async def test_rejected_bot_token_fails_naming_the_channel_token(
    platform: str,
    tmp_path: Path,
    telegram: FakeTelegram,
    discord_fake: FakeDiscord,
    slack_fake: FakeSlack,
    llm_fakes: tuple[FakeOpenAI, FakeAnthropic],
    openai_only: FakeOpenAI,
) -> None:
    channel = {
        "telegram": telegram_channel(telegram, token=WRONG_BOT_TOKEN),
        "discord": {"type": "discord", "token": WRONG_DISCORD_TOKEN, "api_base": discord_fake.api_base},
        "slack": {"type": "slack", "bot_token": WRONG_SLACK_BOT_TOKEN, "app_token": SLACK_APP_TOKEN,
                  "api_base": slack_fake.api_base},
    }[platform]  # fmt: skip
    run = await doctor(
        tmp_path, {"llm": llm_section("openrouter", llm_fakes, openai_only), "channel": channel}
    )
    assert run.code == 1, run
    name = "channel.bot_token" if platform == "slack" else "channel.token"
    line = run.line(name)
    detail = {"telegram": "401 Unauthorized", "discord": "401 Unauthorized", "slack": "invalid_auth"}[
        platform
    ]
    assert line.startswith(f"FAIL {name}: {platform} rejected the bot token ({detail}) — fix: "), line
    assert name in line.split("— fix: ")[1]
    assert run.status("llm.api_key") == "ok"
    if platform == "slack":
        assert run.status("channel.app_token") == "skip"
        assert [method for method, _ in slack_fake.calls] == ["auth.test"]  # never apps.connections.open
    assert chat_requests(*llm_fakes, openai_only) == 0


async def test_every_channel_of_a_multi_channel_config_is_checked_under_its_own_name(
    tmp_path: Path,
    telegram: FakeTelegram,
    discord_fake: FakeDiscord,
    slack_fake: FakeSlack,
    llm_fakes: tuple[FakeOpenAI, FakeAnthropic],
    openai_only: FakeOpenAI,
) -> None:
    channels = [
        telegram_channel(telegram),
        {"type": "discord", "token": DISCORD_TOKEN, "api_base": discord_fake.api_base},
        {"type": "slack", "bot_token": SLACK_BOT_TOKEN, "app_token": SLACK_APP_TOKEN,
         "api_base": slack_fake.api_base},
    ]  # fmt: skip
    run = await doctor(
        tmp_path, {"llm": llm_section("anthropic", llm_fakes, openai_only), "channels": channels}
    )
    assert run.code == 0, run
    assert "bot @picoclaw_test_123456_bot" in run.line("channels[0].token")
    assert "discord accepted the bot token (bot picoclaw-test)" in run.line("channels[1].token")
    assert "slack accepted the bot token (team Fake, bot user UBOT0PICO1)" in run.line(
        "channels[2].bot_token"
    )
    assert run.status("channels[2].app_token") == "skip"
    assert [method for method, _path, _at in discord_fake.rest_calls] == ["GET"]
    assert [method for method, _ in slack_fake.calls] == ["auth.test"]
    assert chat_requests(*llm_fakes, openai_only) == 0


async def test_unreachable_bases_are_reported_as_network_failures_without_credentials(
    tmp_path: Path,
) -> None:
    closed = free_port()  # nothing listens there
    llm = {"provider": "openrouter", "api_key": OPENROUTER_KEY, "model": "test/model",
           "api_base": f"http://doctor:s3cret-pass@127.0.0.1:{closed}/api/v1"}  # fmt: skip
    channel = {"type": "telegram", "token": BOT_TOKEN, "allowed_users": [111],
               "api_base": f"http://127.0.0.1:{closed}"}  # fmt: skip
    run = await doctor(tmp_path, {"llm": llm, "channel": channel})
    assert run.code == 1, run
    assert "s3cret-pass" not in run.stdout
    llm_line = run.line("llm.api_base")
    assert llm_line.startswith(
        f"FAIL llm.api_base: could not reach the LLM provider (openrouter) at http://***@127.0.0.1:{closed}/api/v1"
        " (connection failed"
    ), llm_line
    assert llm_line.endswith("— fix: check the host's outbound network (DNS, firewall, proxy) / llm.api_base")
    channel_line = run.line("channel.api_base")
    assert (
        f"FAIL channel.api_base: could not reach the telegram API at http://127.0.0.1:{closed}"
        in channel_line
    )
    assert channel_line.endswith("/ channel.api_base")


async def test_a_silent_server_is_a_bounded_timeout(tmp_path: Path, telegram: FakeTelegram) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # read nothing, answer nothing

    silent = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        llm = {"provider": "openai", "api_key": OPENAI_KEY, "model": "gpt-test",
               "api_base": f"http://127.0.0.1:{port}/v1"}  # fmt: skip
        run = await doctor(tmp_path, {"llm": llm, "channel": telegram_channel(telegram)}, "--timeout", "1")
    finally:
        for writer in accepted:
            writer.close()
        silent.close()
        with contextlib.suppress(Exception):
            await silent.wait_closed()
    assert run.code == 1, run
    assert "(no answer within 1 s)" in run.line("llm.api_base")
    assert run.status("channel.token") == "ok"


async def test_invalid_config_exits_2_before_any_request(
    tmp_path: Path,
    telegram: FakeTelegram,
    llm_fakes: tuple[FakeOpenAI, FakeAnthropic],
    openai_only: FakeOpenAI,
) -> None:
    llm = llm_section("openrouter", llm_fakes, openai_only) | {"provider": "groq"}
    channel = telegram_channel(telegram, token="123456789:short-secret-part")
    run = await doctor(tmp_path, {"llm": llm, "channel": channel})
    assert run.code == 2, run
    assert run.line("$.llm.provider").startswith("FAIL $.llm.provider: unknown provider")
    assert "— fix: " in run.line("$.channel.token")
    assert "short-secret-part" not in run.stdout
    assert run.stdout.splitlines()[-1] == "doctor: INVALID config (2 errors); nothing else checked"
    assert telegram.calls == []
    assert sum(sum(f.script.counts.values()) for f in (*llm_fakes, openai_only)) == 0
    broken = await doctor(tmp_path, "{not json")
    assert broken.code == 2 and broken.stdout.startswith("FAIL $: ")


async def test_json_report_and_warnings_keep_exit_0(
    tmp_path: Path,
    telegram: FakeTelegram,
    llm_fakes: tuple[FakeOpenAI, FakeAnthropic],
    openai_only: FakeOpenAI,
) -> None:
    """A server without a model list (404) and a key whose credit limit is used up are warnings."""
    openai_only.models = None
    llm_fakes[0].key_limit_remaining = 0.0
    for provider in ("openai", "openrouter"):
        config = {"llm": llm_section(provider, llm_fakes, openai_only), "channel": telegram_channel(telegram)}
        run = await doctor(tmp_path, config, "--json")
        assert run.code == 0, run
        report = json.loads(run.stdout)
        assert report["exit_code"] == 0
        checks = {c["name"]: c for c in report["checks"]}
        assert set(checks) == {"config", "llm.api_key", "llm.model", "channel.token"}
        assert all(set(c) == {"name", "status", "message", "fix"} for c in report["checks"])
        assert checks["channel.token"]["status"] == "ok"
        assert checks["llm.api_key"]["status"] == "warn"
        if provider == "openai":
            assert checks["llm.model"]["status"] == "warn"
            assert "has no model list" in checks["llm.model"]["message"]
        else:
            assert "credit limit is used up" in checks["llm.api_key"]["message"]
            assert checks["llm.model"]["status"] == "ok"
        warnings = {"openai": "2 warnings", "openrouter": "1 warning"}[provider]
        assert report["summary"] == f"doctor: ok (4 checks, {warnings})"
    assert chat_requests(*llm_fakes, openai_only) == 0


@pytest.fixture
async def search_fake() -> AsyncIterator[FakeSearch]:
    fake = await FakeSearch(api_key=SEARCH_KEY).start()
    yield fake
    await fake.close()


@pytest.mark.parametrize("provider", ["brave", "tavily", "searxng"])
async def test_web_search_provider_key_and_server_are_checked(
    provider: str,
    tmp_path: Path,
    telegram: FakeTelegram,
    llm_fakes: tuple[FakeOpenAI, FakeAnthropic],
    openai_only: FakeOpenAI,
    search_fake: FakeSearch,
) -> None:
    """Tavily's key is checked on /usage (no search spent), Brave's with one count=1 search (it has no
    other way, and the line says so), SearXNG by one JSON search; a wrong key and SearXNG with JSON
    output switched off fail naming the setting to fix."""
    search = {"provider": provider, "api_key": SEARCH_KEY, "api_base": search_fake.base_url}
    config = {
        "llm": llm_section("openrouter", llm_fakes, openai_only),
        "channel": telegram_channel(telegram),
        "tools": {"web": {"search": search, "allow": ["127.0.0.1"]}},
    }
    good = await doctor(tmp_path, config)
    assert good.code == 0, good
    setting = "tools.web.search.api_base" if provider == "searxng" else "tools.web.search.api_key"
    expected = {
        "brave": "brave accepted the key (this check used one query of its quota)",
        "tavily": "tavily accepted the key (7 of 1000 credits used)",
        "searxng": "searxng answers searches in JSON",
    }[provider]
    assert good.line(setting) == f"ok   {setting}: {expected}"
    seen = [(r.method, r.path) for r in search_fake.requests]
    assert seen == {"brave": [("GET", "/res/v1/web/search")], "tavily": [("GET", "/usage")],
                    "searxng": [("GET", "/search")]}[provider]  # fmt: skip
    if provider == "brave":
        assert search_fake.requests[0].query["count"] == "1"

    if provider != "searxng":  # SearXNG itself has no keys (a proxy in front of it may)
        search["api_key"] = WRONG_SEARCH_KEY
        wrong = await doctor(tmp_path, config)
        assert wrong.code == 1, wrong
        line = wrong.line("tools.web.search.api_key")
        assert line.startswith(f"FAIL tools.web.search.api_key: {provider} rejected the key (HTTP 401)"), line
        assert "— fix: put a valid key from " in line
    else:
        search_fake.searxng_json = False
        off = await doctor(tmp_path, config)
        assert off.code == 1, off
        line = off.line("tools.web.search.api_base")
        assert line.startswith("FAIL tools.web.search.api_base: SearXNG refuses JSON output (HTTP 403)"), line
        assert "add json to search.formats in its settings.yml" in line
    assert chat_requests(*llm_fakes, openai_only) == 0
