# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wizard's flow with scripted answers: defaults, hints, validation as typed, masked review, [Y/n].

The real terminal (Ansible's prompt, hidden input, no terminal) is covered by tests/wizard (pty)."""

from __future__ import annotations

import pytest

from ansible_collections.picoclaw.stack.plugins.action.picoclaw_wizard import NO_TERMINAL
from ansible_collections.picoclaw.stack.plugins.plugin_utils.wizard_flow import Wizard, WizardStop, answer_problems

MODELS = {"openrouter": "openai/gpt-4.1-mini", "anthropic": "claude-haiku-4-5", "openai": "gpt-4.1-mini"}
OPENROUTER_KEY = "sk-or-v1-" + "0123456789abcdef" * 4
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
SLACK_BOT = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef"


class Script:
    """Answers in order; records what was asked (and whether hidden) and what was shown."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list = []
        self.shown: list = []

    def ask(self, prompt: str, secret: bool) -> str:
        self.asked.append((prompt, secret))
        return self.answers.pop(0)

    def say(self, text: str) -> None:
        self.shown.append(text)

    def wizard(self, attempts: int = 3) -> Wizard:
        return Wizard(self.ask, self.say, MODELS, attempts, "vps1", "/opt/stacks/picoclaw/config/config.json")


def test_enter_everywhere_takes_the_defaults_and_confirms():
    script = Script("", OPENROUTER_KEY, "", "", TELEGRAM_TOKEN, "987654321", "")
    config = script.wizard().run()
    assert config == {
        "llm": {"provider": "openrouter", "api_key": OPENROUTER_KEY, "model": "openai/gpt-4.1-mini"},
        "channel": {"type": "telegram", "token": TELEGRAM_TOKEN, "allowed_users": ["987654321"]},
    }
    prompts = [prompt for prompt, _secret in script.asked]
    assert prompts[0] == "LLM provider: 1) OpenRouter  2) Anthropic  3) OpenAI [1]: "
    assert prompts[2] == "Model [openai/gpt-4.1-mini]: "
    assert prompts[-1] == "Write it to /opt/stacks/picoclaw/config/config.json? [Y/n]: "
    assert [p for p, secret in script.asked if secret] == ["OpenRouter API key (hidden): ", "Telegram bot token (hidden): "]
    shown = "\n".join(script.shown)
    assert "https://openrouter.ai/settings/keys" in shown and "/newbot" in shown
    assert OPENROUTER_KEY not in shown and TELEGRAM_TOKEN not in shown
    assert "API key:       ***" in shown and "bot token:     ***" in shown


def test_slack_asks_both_tokens_with_the_socket_mode_hint():
    script = Script("openai", "sk-" + "A1b2C3d4" * 6, "gpt-4o", "slack", SLACK_BOT, SLACK_APP, "U0123ABCD", "yes")
    config = script.wizard().run()
    assert config["channel"] == {"type": "slack", "token": SLACK_BOT, "app_token": SLACK_APP, "allowed_users": ["U0123ABCD"]}
    shown = "\n".join(script.shown)
    assert "Socket Mode" in shown and "connections:write" in shown and "xoxb-" in shown
    assert "app token:     ***" in shown and SLACK_APP not in shown


def test_discord_hint_names_the_message_content_intent():
    script = Script("2", "sk-ant-" + "x1Y2z3W4" * 6, "", "2",
                    "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789AB", "123456789012345678", "n")
    with pytest.raises(WizardStop, match="Not confirmed: nothing was written on vps1"):
        script.wizard().run()
    assert any("MESSAGE CONTENT INTENT" in text for text in script.shown)
    assert ("Model [claude-haiku-4-5]: ", False) in script.asked


def test_a_bad_answer_is_explained_and_asked_again():
    script = Script("", OPENROUTER_KEY, "", "", "not-a-token", TELEGRAM_TOKEN, "1", "maybe", "")
    config = script.wizard().run()
    assert config["channel"]["token"] == TELEGRAM_TOKEN
    assert any(text.startswith("Invalid bot token: ") and "fix: " in text for text in script.shown)
    assert "Please answer y or n (Enter = yes)." in script.shown


def test_gives_up_after_the_last_attempt_naming_the_path():
    script = Script("nonsense", "still-nonsense")
    with pytest.raises(WizardStop, match=r"Invalid LLM provider after 2 attempts: \$\.llm\.provider"):
        script.wizard(attempts=2).run()


def test_only_problems_at_the_answered_path_count():
    answers = {"llm": {"provider": "openrouter"}}
    assert answer_problems(answers, "$.llm.provider") == []
    assert [p.path for p in answer_problems(answers, "$.llm.api_key")] == ["$.llm.api_key"]


def test_no_terminal_message_points_to_the_unattended_mode():
    text = NO_TERMINAL.format(host="vps1", dest="/opt/stacks/picoclaw/config/config.json")
    assert "host_vars/vps1/vault.yml" in text and "-e picoclaw_assume_yes=true" in text
