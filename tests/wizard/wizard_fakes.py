"""The gateway's protocol fakes (gateway_src/tests/fakes) for the wizard's checks, served on 127.0.0.1.

They run in a thread of the test process with their own event loop, so a test can read how many chat
requests (the only ones that cost LLM tokens) and model/key requests they received.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "gateway_src"))  # its `tests` package

from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram

# Shaped like real credentials (the validator checks shapes); they are not real.
OPENROUTER_KEY = "sk-or-v1-" + "0123456789abcdef" * 4
OPENAI_KEY = "sk-" + "A1b2C3d4" * 6
ANTHROPIC_KEY = "sk-ant-" + "x1Y2z3W4" * 6
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789AB"
SLACK_BOT = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef"
# The role's default models (roles/gateway/defaults/main.yml) and one more each.
OPENROUTER_MODELS = ("openai/gpt-4.1-mini", "openai/gpt-4.1", "anthropic/claude-haiku-4.5")
OPENAI_MODELS = ("gpt-4.1-mini", "gpt-4o")
ANTHROPIC_MODELS = ("claude-haiku-4-5", "claude-sonnet-4-5")


class Fakes:
    """Every LLM and chat fake, each accepting only its good key or token."""

    def __init__(self) -> None:
        self.openrouter = FakeOpenAI(OPENROUTER_KEY, OPENROUTER_MODELS)
        self.openai = FakeOpenAI(OPENAI_KEY, OPENAI_MODELS)
        self.anthropic = FakeAnthropic(ANTHROPIC_KEY, ANTHROPIC_MODELS)
        self.telegram = FakeTelegram([TELEGRAM_TOKEN])
        self.discord = FakeDiscord(DISCORD_TOKEN)
        self.slack = FakeSlack(SLACK_BOT, SLACK_APP)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="wizard-fakes", daemon=True)

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def all(self) -> tuple[Any, ...]:
        return (self.openrouter, self.openai, self.anthropic, self.telegram, self.discord, self.slack)

    def start(self) -> Fakes:
        self._thread.start()
        for fake in self.all():
            self._call(fake.start())
        return self

    def close(self) -> None:
        for fake in self.all():
            self._call(fake.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def llm_counts(self, kind: str) -> int:
        """Requests of `kind` ("chat", "models", "key") the LLM fakes received."""
        return sum(fake.script.counts[kind] for fake in (self.openrouter, self.openai, self.anthropic))

    def extra_config(self, provider: str, channel: str) -> str:
        """-e picoclaw_wizard_extra_config=... pointing the answers (and their checks) at the fakes."""
        llm_base = {
            "openrouter": f"{self.openrouter.base_url}/api/v1",
            "openai": f"{self.openai.base_url}/v1",
            "anthropic": self.anthropic.base_url,
        }[provider]
        channel_base = {
            "telegram": self.telegram.base_url,
            "discord": self.discord.api_base,
            "slack": self.slack.api_base,
        }[channel]
        extra = {"llm": {"api_base": llm_base}, "channel": {"api_base": channel_base}}
        return json.dumps({"picoclaw_wizard_extra_config": extra})
