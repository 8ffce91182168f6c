# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The config wizard's questions, hints and flow, independent of how the terminal is reached.

`Wizard(ask, say, ...).run()` asks the old installer's questions through two callables (ask(prompt,
secret) -> answer line, say(text)), checks every answer at once with the gateway's own validator, then
(given `check`, see answer_checks.py) asks the provider and the chat service whether they accept the
key, the model and the token, asks again only what they refused, and returns the config after a review
with the secrets masked. Used by plugins/action/picoclaw_wizard.py.
"""

from __future__ import annotations

import copy

from ansible_collections.picoclaw.stack.plugins.module_utils.config_validator import redact, validate
from ansible_collections.picoclaw.stack.plugins.plugin_utils.answer_checks import FAIL, KEY_PAGES, MODEL_PAGES

PROVIDERS = (("openrouter", "OpenRouter"), ("anthropic", "Anthropic"), ("openai", "OpenAI"))
CHANNELS = (("telegram", "Telegram"), ("discord", "Discord"), ("slack", "Slack"))

# Where each secret comes from: the old installer's hints, one block before the question.
KEY_HINTS = {
    "openrouter": "Create an OpenRouter key at %s (it starts with sk-or-)." % KEY_PAGES["openrouter"],
    "anthropic": "Create an Anthropic key at %s (it starts with sk-ant-)." % KEY_PAGES["anthropic"],
    "openai": "Create an OpenAI key at %s (it starts with sk-)." % KEY_PAGES["openai"],
}
MODEL_HINTS = {
    "openrouter": "Model ids: %s (vendor/model)." % MODEL_PAGES["openrouter"],
    "anthropic": "Model ids: %s" % MODEL_PAGES["anthropic"],
    "openai": "Model ids: %s" % MODEL_PAGES["openai"],
}
TOKEN_HINTS = {
    "telegram": (
        "Telegram bot token: in Telegram, message @BotFather, send /newbot, choose a name and a username\n"
        "ending in 'bot'; BotFather answers with the token (123456789:AA...). Lost it? /mybots > your bot > API Token."
    ),
    "discord": (
        "Discord bot token: https://discord.com/developers/applications > New Application > Bot > Reset Token.\n"
        "On the same Bot page turn on MESSAGE CONTENT INTENT (without it the bot cannot read messages).\n"
        "Invite it: OAuth2 > URL Generator > scope 'bot', permissions Send Messages + Read Message History."
    ),
    "slack": (
        "Slack needs two tokens. https://api.slack.com/apps > Create New App > From scratch, then:\n"
        "  Socket Mode: enable it; this creates the app-level token (xapp-..., scope connections:write).\n"
        "  OAuth & Permissions: bot scopes chat:write, app_mentions:read, im:history, files:read,\n"
        "  files:write (files users send, files the bot sends back); Install to Workspace\n"
        "  gives the Bot User OAuth Token (xoxb-...).\n"
        "  Event Subscriptions: enable, subscribe to bot events message.im and app_mention."
    ),
}
TOKEN_PROMPTS = {
    "telegram": "Telegram bot token",
    "discord": "Discord bot token",
    "slack": "Slack bot token (xoxb-...)",
}
USER_PROMPTS = {
    "telegram": "Your Telegram user id (digits; @userinfobot tells you)",
    "discord": "Your Discord user id (digits; Settings > Advanced > Developer Mode, then your name > Copy User ID)",
    "slack": "Your Slack member id (U...; your profile > ... > Copy member ID)",
}


class WizardStop(Exception):
    """The wizard ends without a config: the message says why and what to do."""


def answer_problems(answers: dict, path: str) -> list:
    """The validator's problems at `path` (or below it) for the answers so far; later questions are
    not answered yet, so their problems do not count."""
    result = validate(answers)
    return [p for p in result.errors if p.path == path or p.path.startswith((path + ".", path + "["))]


def _choice(text: str, choices: tuple) -> str:
    """'2', 'Anthropic' or 'anthropic' -> 'anthropic'; anything else is kept for the validator to refuse."""
    lowered = text.lower()
    for number, (value, title) in enumerate(choices, start=1):
        if lowered in (str(number), value, title.lower()):
            return value
    return lowered


def _menu(label: str, choices: tuple) -> str:
    return "%s: %s" % (label, "  ".join("%d) %s" % (n, title) for n, (_value, title) in enumerate(choices, 1)))


class Wizard:
    """One run of the questions. ask(prompt, secret) returns the typed line; say(text) shows text;
    check(normalized config) -> [answer_checks.Check], or None not to ask the services; `extra` holds
    settings not asked (e.g. llm.api_base), the answers go on top of them."""

    def __init__(self, ask, say, default_models: dict, max_attempts: int, host: str, dest: str, check=None,
                 extra=None) -> None:
        self.ask = ask
        self.say = say
        self.default_models = default_models
        self.max_attempts = max(1, int(max_attempts))
        self.host = host
        self.dest = dest
        self.check = check
        self.answers: dict = copy.deepcopy(extra) if extra else {}
        self.asked: dict = {}  # "llm.api_key" -> the question's arguments, to ask it again

    def question(self, label: str, prompt: str, section: str, key: str, default: str = "", secret: bool = False,
                 convert=None) -> None:
        """Ask until the validator accepts the answer at $.section.key (Enter = the default)."""
        self.asked["%s.%s" % (section, key)] = (label, prompt, section, key, default, secret, convert)
        path = "$.%s.%s" % (section, key)
        shown = "%s [%s]: " % (prompt, default) if default else "%s: " % prompt
        for attempt in range(1, self.max_attempts + 1):
            text = self.ask(shown, secret).strip() or default
            value = convert(text) if convert else text
            self.answers.setdefault(section, {})[key] = value
            problems = answer_problems(self.answers, path)
            if not problems:
                return
            reasons = "; ".join("%s (fix: %s)" % (p.message, p.fix) for p in problems)
            if attempt == self.max_attempts:
                raise WizardStop("Invalid %s after %d attempts: %s. Nothing was written on %s."
                                 % (label, attempt, "; ".join(str(p) for p in problems), self.host))
            self.say("Invalid %s: %s" % (label, reasons))

    def run(self) -> dict:
        self.say("No config.json on %s yet: a few questions (Enter takes the [suggested] answer)." % self.host)
        self.question("LLM provider", _menu("LLM provider", PROVIDERS), "llm", "provider", "1",
                      convert=lambda t: _choice(t, PROVIDERS))
        provider = self.answers["llm"]["provider"]
        title = dict(PROVIDERS)[provider]
        self.say(KEY_HINTS[provider])
        self.question("API key", "%s API key (hidden)" % title, "llm", "api_key", secret=True)
        self.say(MODEL_HINTS[provider])
        self.question("model", "Model", "llm", "model", str(self.default_models.get(provider, "")))
        self.question("chat channel", _menu("Chat channel", CHANNELS), "channel", "type", "1",
                      convert=lambda t: _choice(t, CHANNELS))
        channel = self.answers["channel"]["type"]
        self.say(TOKEN_HINTS[channel])
        self.question("bot token", "%s (hidden)" % TOKEN_PROMPTS[channel], "channel", "token", secret=True)
        if channel == "slack":
            self.question("Slack app token", "Slack app-level token for Socket Mode (xapp-...) (hidden)",
                          "channel", "app_token", secret=True)
        self.question("user id", USER_PROMPTS[channel], "channel", "allowed_users", convert=lambda t: [t])
        self.verify()
        return self.review()

    def verify(self) -> None:
        """The doctor on the answers: the provider and the chat service say whether they accept the key,
        the model and the token (read-only calls, no token spent). What they refuse is asked again, the
        other answers are kept; what could not be checked from here is left to the role's doctor."""
        if self.check is None:
            return
        for attempt in range(1, self.max_attempts + 1):
            result = validate(self.answers)
            if not result.valid:
                return  # review() says why
            self.say("Checking the answers with %s and %s (no tokens spent)..."
                     % (self.answers["llm"]["provider"], self.answers["channel"]["type"]))
            checks = self.check(result.normalized)
            for check in checks:
                self.say("  " + self.masked(check.line()))
            refused = [check for check in checks if check.status == FAIL and check.name in self.asked]
            if not refused:
                return
            if attempt == self.max_attempts:
                raise WizardStop("Still refused after %d round%s of checks: %s. Nothing was written on %s."
                                 % (attempt, "" if attempt == 1 else "s",
                                    "; ".join(self.masked(check.line()) for check in refused), self.host))
            self.say("Enter the refused answers again (the others are kept).")
            for name in dict.fromkeys(check.name for check in refused):
                self.question(*self.asked[name])

    def masked(self, text: str) -> str:
        """The text with every secret answer replaced: a service that echoes a token shows nothing."""
        llm, channel = self.answers.get("llm", {}), self.answers.get("channel", {})
        for secret in (llm.get("api_key"), channel.get("token"), channel.get("app_token")):
            if isinstance(secret, str) and secret:
                text = text.replace(secret, "***")
        return text

    def review(self) -> dict:
        result = validate(self.answers)
        if not result.valid:
            raise WizardStop("The answers do not make a valid config.json; nothing was written on %s: %s"
                             % (self.host, "; ".join(str(p) for p in result.errors)))
        self.say(review_text(redact(result.normalized), result.warnings, self.host))
        while True:
            reply = self.ask("Write it to %s? [Y/n]: " % self.dest, False).strip().lower()
            if reply in ("", "y", "yes"):
                return self.answers
            if reply in ("n", "no"):
                raise WizardStop("Not confirmed: nothing was written on %s. Run the play again to start over."
                                 % self.host)
            self.say("Please answer y or n (Enter = yes).")


def review_text(shown: dict, warnings: list, host: str) -> str:
    """The review, built from the validator's redacted copy: no secret can be in it."""
    llm, channel = shown["llm"], shown["channels"][0]
    lines = [
        "",
        "Review of config.json for %s (secrets hidden):" % host,
        "  provider:      %s" % llm["provider"],
        "  API key:       %s" % llm["api_key"],
        "  model:         %s" % llm["model"],
        "  channel:       %s" % channel["type"],
        "  bot token:     %s" % channel["token"],
    ]
    if channel["type"] == "slack":
        lines.append("  app token:     %s" % channel["app_token"])
    lines.append("  allowed users: %s" % ", ".join(channel["allowed_users"]))
    lines.extend("  warning: %s" % w for w in warnings)
    return "\n".join(lines)
