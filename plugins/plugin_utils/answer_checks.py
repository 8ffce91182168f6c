# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wizard's doctor: do the provider and the chat service accept the answers? Stdlib only.

`picoclaw doctor` (gateway_src/src/picoclaw_gateway/doctor/) needs the gateway's packages (httpx) and
runs in the container after start; the wizard runs on the controller, which may not have them. So this
asks the same read-only endpoints with urllib, never a chat request (no token is spent): OpenRouter
GET /key and /models, OpenAI GET /models, Anthropic GET /v1/models/{model}, Telegram getMe, Discord
GET /users/@me, Slack auth.test. Lines read like the doctor's. FAIL means the service refused an
answer (the wizard asks that one again); WARN means it could not be checked from here (the role's
doctor checks again from the host after start).
"""

from __future__ import annotations

import difflib
import json
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any, Optional
from urllib.error import HTTPError, URLError
from urllib.parse import quote
from urllib.request import ProxyHandler, Request, build_opener

from ansible_collections.picoclaw.stack.plugins.module_utils.config_validator import (
    DEFAULT_API_BASES,
    DEFAULT_CHANNEL_API_BASES,
    redact,
)

OK, WARN, SKIP, FAIL = "ok", "warn", "skip", "FAIL"
KEY, MODEL, TOKEN = "llm.api_key", "llm.model", "channel.token"
DEADLINE_S = 10.0
# OpenRouter's model list is 1-3 MB of JSON; platform answers are small.
MODEL_LIST_MAX_BYTES = 8 * 1024 * 1024
SMALL_BODY_BYTES = 256 * 1024
ANTHROPIC_VERSION = "2023-06-01"
KEY_PAGES = {
    "openrouter": "https://openrouter.ai/settings/keys",
    "anthropic": "https://console.anthropic.com/settings/keys",
    "openai": "https://platform.openai.com/api-keys",
}
MODEL_PAGES = {
    "openrouter": "https://openrouter.ai/models",
    "anthropic": "https://docs.anthropic.com/en/docs/about-claude/models",
    "openai": "https://platform.openai.com/docs/models",
}
_TOKEN_FIX = {
    "telegram": "enter the token @BotFather gave (/mybots > your bot > API Token)",
    "discord": "reset the token in the Discord Developer Portal (your app > Bot > Reset Token) and enter it",
    "slack": "enter the Bot User OAuth Token (xoxb-, your app > OAuth & Permissions); reinstall the app if it was revoked",
}
_SLACK_BAD_TOKEN = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
_RECHECK = "none now: the role runs picoclaw doctor on the host after start"


@dataclass(frozen=True)
class Check:
    """One verdict about one answer (`name` as the config names it), with what to do."""

    name: str
    status: str
    message: str
    fix: str = ""

    def line(self) -> str:
        text = "%-4s %s: %s" % (self.status, self.name, self.message)
        return "%s — fix: %s" % (text, self.fix) if self.fix else text


@dataclass(frozen=True)
class _Answer:
    status: int
    body: Any  # parsed JSON, None when the body is not JSON
    truncated: bool


class _Unreachable(Exception):
    """No HTTP answer; the message names no URL (a Telegram URL holds the token)."""


def _request(url: str, headers: dict, limit: int, method: str = "GET", proxy: Optional[str] = None) -> _Answer:
    if not url.startswith(("https://", "http://")):  # the validator allows no other scheme; never file:
        raise _Unreachable("not an http(s) URL")
    opener = build_opener(ProxyHandler({"http": proxy, "https": proxy})) if proxy else build_opener()
    request = Request(url, headers=headers, method=method, data=b"" if method == "POST" else None)  # noqa: S310
    try:
        try:
            with opener.open(request, timeout=DEADLINE_S) as response:
                status, raw = response.status, response.read(limit + 1)
        except HTTPError as error:  # a 4xx/5xx is an answer too
            status, raw = error.code, error.read(limit + 1)
            error.close()
    except TimeoutError:
        raise _Unreachable("no answer within %g s" % DEADLINE_S) from None
    except URLError as error:
        raise _Unreachable("connection failed: %s" % str(error.reason)[:160]) from None
    except (OSError, HTTPException, ValueError) as error:
        raise _Unreachable(type(error).__name__) from None
    try:
        body = json.loads(raw[:limit])
    except ValueError:
        body = None
    return _Answer(status, body, len(raw) > limit)


def _model_ids(body: Any) -> Optional[list]:
    items = body.get("data") if isinstance(body, dict) else body
    if not isinstance(items, list):
        return None
    return [str(item["id"]) for item in items if isinstance(item, dict) and item.get("id")]


class _Llm:
    def __init__(self, llm: dict, shown_base: str) -> None:
        self.provider, self.key, self.model = llm["provider"], llm["api_key"], llm["model"]
        self.base = llm["api_base"].rstrip("/")
        custom = self.base != DEFAULT_API_BASES[self.provider].rstrip("/")
        self.shown_base = shown_base.rstrip("/")
        self.what = "the LLM server at %s" % self.shown_base if custom else self.provider
        self.model_page = "" if custom else "; see %s" % MODEL_PAGES[self.provider]
        self.key_fix = "enter a key this server accepts" if custom else "create a key at %s and enter it" % KEY_PAGES[self.provider]

    def get(self, path: str, limit: int = SMALL_BODY_BYTES) -> _Answer:
        if self.provider == "anthropic":
            headers = {"x-api-key": self.key, "anthropic-version": ANTHROPIC_VERSION}
        else:
            headers = {"Authorization": "Bearer %s" % self.key}
        return _request(self.base + path, headers, limit)

    def key_ok(self) -> Check:
        return Check(KEY, OK, "%s accepted the API key" % self.what)

    def key_refused(self, status: int, listing: bool = True) -> list:
        if status == 403 and listing:  # a key without the right to list models: chats may still work
            why = "the key may not list models (403)"
            return [Check(KEY, WARN, "%s: %s" % (self.what, why), _RECHECK), Check(MODEL, SKIP, "not checked: " + why)]
        return [
            Check(KEY, FAIL, "%s rejected the API key (HTTP %d)" % (self.what, status), self.key_fix),
            Check(MODEL, SKIP, "not checked: the API key was rejected"),
        ]

    def model_verdict(self, answer: _Answer) -> Check:
        if answer.status == 404:
            return Check(MODEL, WARN, "not checked: %s has no model list" % self.what, _RECHECK)
        if answer.status != 200:
            return unexpected(MODEL, self.what, answer.status)
        ids = _model_ids(answer.body)
        if answer.truncated or ids is None:
            return Check(MODEL, WARN, "not checked: the model list could not be read", _RECHECK)
        # OpenRouter variants (":nitro", ":free", ...) are not listed; their base model is.
        if self.model in ids or (":" in self.model and self.model.rsplit(":", 1)[0] in ids):
            return Check(MODEL, OK, "%s offers %s" % (self.what, self.model))
        return self.unknown_model(ids)

    def unknown_model(self, ids: list) -> Check:
        close = difflib.get_close_matches(self.model, ids, n=3, cutoff=0.5)
        hint = " (closest: %s)" % ", ".join(close) if close else ""
        fix = "enter a model id it offers%s%s" % (hint, self.model_page)
        return Check(MODEL, FAIL, "%s does not offer the model %r" % (self.what, self.model), fix)


def unexpected(name: str, what: str, status: int) -> Check:
    return Check(name, WARN, "not checked: %s answered HTTP %d" % (what, status), _RECHECK)


def _openrouter(llm: _Llm) -> list:
    key = llm.get("/key")  # the model list is public: the key needs its own check
    if key.status in (401, 403):
        return llm.key_refused(key.status, listing=False)
    if key.status != 200:
        return [unexpected(KEY, llm.what, key.status), llm.model_verdict(llm.get("/models", MODEL_LIST_MAX_BYTES))]
    data = key.body.get("data") if isinstance(key.body, dict) else None
    remaining = data.get("limit_remaining") if isinstance(data, dict) else None
    if isinstance(remaining, (int, float)) and remaining <= 0:
        verdict = Check(
            KEY, WARN, "%s accepted the key, but its credit limit is used up" % llm.what, "raise the key's limit or add credits at %s" % KEY_PAGES["openrouter"]
        )
    else:
        verdict = llm.key_ok()
    return [verdict, llm.model_verdict(llm.get("/models", MODEL_LIST_MAX_BYTES))]


def _openai(llm: _Llm) -> list:
    models = llm.get("/models", MODEL_LIST_MAX_BYTES)
    if models.status in (401, 403):
        return llm.key_refused(models.status)
    if models.status == 404:
        return [Check(KEY, WARN, "not checked: %s has no model list" % llm.what, _RECHECK), llm.model_verdict(models)]
    return [llm.key_ok() if models.status == 200 else unexpected(KEY, llm.what, models.status), llm.model_verdict(models)]


def _anthropic(llm: _Llm) -> list:
    answer = llm.get("/v1/models/" + quote(llm.model, safe=""))
    if answer.status == 200:
        return [llm.key_ok(), Check(MODEL, OK, "%s offers %s" % (llm.what, llm.model))]
    if answer.status in (401, 403):
        return llm.key_refused(answer.status)
    error = answer.body.get("error") if isinstance(answer.body, dict) else None
    if answer.status == 404 and isinstance(error, dict) and error.get("type") == "not_found_error":
        # The key passed (a bad key is refused before the model is looked up); the list gives a hint.
        listing = llm.get("/v1/models?limit=1000", MODEL_LIST_MAX_BYTES)
        return [llm.key_ok(), llm.unknown_model(_model_ids(listing.body) or [])]
    return [unexpected(KEY, llm.what, answer.status), Check(MODEL, SKIP, "not checked")]


def _token_verdict(kind: str, answer: _Answer, what: str) -> Check:
    body = answer.body if isinstance(answer.body, dict) else {}
    said = str(body.get("error") or body.get("description") or "")[:80]
    if kind == "telegram":  # 401 for an unknown token, 404 for one that is not a token at all
        refused = answer.status in (401, 404) and body.get("ok") is False
        accepted = answer.status == 200 and isinstance(body.get("result"), dict)
        who = "bot @%s" % (body.get("result") or {}).get("username", "?") if accepted else ""
    elif kind == "discord":
        refused, accepted = answer.status == 401, answer.status == 200 and bool(body)
        who = "bot %s" % body.get("username", "?")
    else:  # slack answers 200 with ok: false
        refused = answer.status == 200 and said in _SLACK_BAD_TOKEN
        accepted = answer.status == 200 and body.get("ok") is True
        who = "team %s" % body.get("team", "?")
    if refused:
        return Check(TOKEN, FAIL, "%s rejected the bot token (HTTP %d %s)" % (kind, answer.status, said), _TOKEN_FIX[kind])
    if accepted:
        return Check(TOKEN, OK, "%s accepted the bot token (%s)" % (kind, who))
    return unexpected(TOKEN, what, answer.status)


def _channel(channel: dict, shown_base: str) -> list:
    kind, token, proxy = channel["type"], channel["token"], channel.get("proxy")
    base = (channel.get("api_base") or DEFAULT_CHANNEL_API_BASES[kind]).rstrip("/")
    if proxy and not proxy.startswith(("http://", "https://")):
        scheme = proxy.split(":", 1)[0]
        return [Check(TOKEN, WARN, "not checked from the controller (urllib cannot use a %s proxy)" % scheme, _RECHECK)]
    if kind == "telegram":
        answer = _request("%s/bot%s/getMe" % (base, token), {}, SMALL_BODY_BYTES, proxy=proxy)
    elif kind == "discord":
        answer = _request(base + "/users/@me", {"Authorization": "Bot " + token}, SMALL_BODY_BYTES, proxy=proxy)
    else:
        headers = {"Authorization": "Bearer " + token}
        answer = _request(base + "/auth.test", headers, SMALL_BODY_BYTES, method="POST", proxy=proxy)
    checks = [_token_verdict(kind, answer, "the %s API at %s" % (kind, shown_base))]
    if kind == "slack":  # its one API call (apps.connections.open) would open a Socket Mode connection
        checks.append(Check("channel.app_token", SKIP, "shape checked only"))
    return checks


def _guarded(job, name: str, what: str, shown_base: str) -> list:
    try:
        return job()
    except _Unreachable as why:
        return [Check(name, WARN, "not checked: could not reach %s at %s from this machine (%s)" % (what, shown_base, why), _RECHECK)]
    except Exception as error:  # an answer nobody foresaw must give a line, not a traceback
        return [Check(name, WARN, "not checked: the check failed (%s)" % type(error).__name__, _RECHECK)]


def check_answers(normalized: dict) -> list:
    """Checks of the validator's normalized config (stack dialect, one channel), at most ~DEADLINE_S * 3."""
    shown = redact(normalized)
    llm = _Llm(normalized["llm"], shown["llm"]["api_base"])
    channel, shown_channel = normalized["channels"][0], shown["channels"][0]
    channel_base = (shown_channel.get("api_base") or DEFAULT_CHANNEL_API_BASES[channel["type"]]).rstrip("/")
    llm_job = {"openrouter": _openrouter, "openai": _openai, "anthropic": _anthropic}[llm.provider]
    pool = ThreadPoolExecutor(max_workers=2)
    jobs = [
        pool.submit(_guarded, lambda: llm_job(llm), KEY, "the LLM provider (%s)" % llm.provider, llm.shown_base),
        pool.submit(_guarded, lambda: _channel(channel, channel_base), TOKEN, "the %s API" % channel["type"], channel_base),
    ]
    wait(jobs, timeout=DEADLINE_S * 3 + 5)
    pool.shutdown(wait=False, cancel_futures=True)  # a stuck request must not hold the questions up
    checks = []
    for job, name in zip(jobs, (KEY, TOKEN)):
        if job.done():
            checks.extend(job.result())
        else:
            checks.append(Check(name, WARN, "not checked: no answer in time", _RECHECK))
    return checks
