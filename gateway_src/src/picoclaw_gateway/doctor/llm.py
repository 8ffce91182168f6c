"""Is the LLM key valid and does the model exist? Asked without spending a token.

OpenAI-compatible servers: GET {api_base}/models (OpenAI checks the key there; OpenRouter's list is
public, so its key is checked with GET {api_base}/key). Anthropic: GET {api_base}/v1/models/{model},
which needs the key and knows the model (ids and aliases). No chat request is ever made.
"""

from __future__ import annotations

import asyncio
import difflib
from typing import Any
from urllib.parse import quote

import httpx

from picoclaw_gateway.config import LLMConfig
from picoclaw_gateway.config_validator import DEFAULT_API_BASES
from picoclaw_gateway.doctor.probe import Unreachable, fetch, json_body, unexpected_status, unreachable
from picoclaw_gateway.doctor.report import FAIL, OK, SKIP, WARN, Check
from picoclaw_gateway.http_client import CappedAsyncClient, shared_ssl_context, was_truncated

KEY, MODEL, BASE = "llm.api_key", "llm.model", "llm.api_base"
# OpenRouter's full list is ~1-3 MB of JSON; past this it is not read (a warning, not a failure).
MODEL_LIST_MAX_BYTES = 8 * 1024 * 1024
ANTHROPIC_VERSION = "2023-06-01"  # the Messages API version the SDK the provider uses sends
_KEY_PAGES = {
    "openrouter": "https://openrouter.ai/settings/keys",
    "openai": "https://platform.openai.com/api-keys",
    "anthropic": "https://console.anthropic.com/settings/keys",
}
_MODEL_PAGES = {
    "openrouter": "https://openrouter.ai/models",
    "openai": "https://platform.openai.com/docs/models",
    "anthropic": "https://docs.anthropic.com/en/docs/about-claude/models",
}


class _Target:
    """What the messages say about the provider: its name, a display-safe base, where keys come from."""

    def __init__(self, llm: LLMConfig, shown_base: str) -> None:
        self.provider = llm.provider
        self.base = llm.api_base.rstrip("/")
        self.shown_base = shown_base
        custom = self.base != DEFAULT_API_BASES[llm.provider].rstrip("/")
        self.what = "the LLM server" if custom else llm.provider
        key_page = "" if custom else f" (create one at {_KEY_PAGES[llm.provider]})"
        self.key_fix = f"put a valid key in llm.api_key{key_page}"
        self.model_page = "" if custom else f"; see {_MODEL_PAGES[llm.provider]}"
        self.models_path = "/v1/models" if llm.provider == "anthropic" else "/models"

    def rejected(self, status: int) -> Check:
        return Check(KEY, FAIL, f"{self.what} rejected the API key (HTTP {status})", self.key_fix)

    def unknown_model(self, model: str, known: list[str]) -> Check:
        close = difflib.get_close_matches(model, known, n=3, cutoff=0.5)
        hint = f" (closest: {', '.join(close)})" if close else ""
        return Check(
            MODEL,
            FAIL,
            f"{self.what} does not offer the model {model!r}",
            f"set llm.model to a model id it offers{hint}{self.model_page}",
        )


def _model_ids(body: Any) -> list[str] | None:
    """Ids of an OpenAI-style list ({"data": [{"id": ...}]}, or a bare list); None if unreadable."""
    items = body.get("data") if isinstance(body, dict) else body
    if not isinstance(items, list):
        return None
    return [str(item["id"]) for item in items if isinstance(item, dict) and item.get("id")]


def _offered(model: str, ids: list[str]) -> bool:
    # OpenRouter variants (":nitro", ":online", ...) are not listed; their base model is.
    return model in ids or (":" in model and model.rsplit(":", 1)[0] in ids)


def _openrouter_key(target: _Target, response: httpx.Response) -> Check:
    if response.status_code in (401, 403):
        return target.rejected(response.status_code)
    if response.status_code == 404:
        return Check(
            KEY, WARN, f"not checked: {target.shown_base}/key does not exist (404)", "check llm.api_base"
        )
    if response.status_code != 200:
        return unexpected_status(KEY, target.what, response, BASE)
    body = json_body(response)
    data = body.get("data") if isinstance(body, dict) else None
    remaining = data.get("limit_remaining") if isinstance(data, dict) else None
    if isinstance(remaining, int | float) and remaining <= 0:
        return Check(
            KEY,
            WARN,
            f"{target.what} accepted the key, but its credit limit is used up (only free models answer)",
            f"raise the key's limit or add credits at {_KEY_PAGES['openrouter']}",
        )
    return Check(KEY, OK, f"{target.what} accepted the API key")


def _model_list(target: _Target, model: str, response: httpx.Response, key_checked: bool) -> list[Check]:
    """Verdicts from GET /models: the key (unless checked elsewhere) and the model."""
    status = response.status_code
    key: list[Check] = []
    if status in (401, 403) and not key_checked:
        if status == 401:
            return [target.rejected(status), Check(MODEL, SKIP, "not checked: the API key was rejected")]
        why = "the key may not list models (403)"
        return [
            Check(KEY, WARN, f"{target.what} accepted the key, but {why}", "none if chats work"),
            Check(MODEL, SKIP, f"not checked: {why}"),
        ]
    if status == 404:
        endpoint = f"{target.shown_base}{target.models_path}"
        missing = f"not checked: {target.what} has no model list (GET {endpoint}: 404)"
        fix = "none if llm.api_base is right (some OpenAI-compatible servers have no model list)"
        if not key_checked:
            key = [Check(KEY, WARN, missing, fix)]
        return [*key, Check(MODEL, WARN, missing, fix)]
    if status != 200:
        return [unexpected_status(BASE, target.what, response, BASE)]
    if not key_checked:
        key = [Check(KEY, OK, f"{target.what} accepted the API key")]
    if was_truncated(response):
        size = f"{MODEL_LIST_MAX_BYTES // 2**20} MiB"
        return [*key, Check(MODEL, WARN, f"not checked: the model list is larger than {size}")]
    ids = _model_ids(json_body(response))
    if ids is None:
        return [*key, Check(MODEL, WARN, "not checked: the model list is not in the OpenAI format")]
    if not _offered(model, ids):
        return [*key, target.unknown_model(model, ids)]
    return [*key, Check(MODEL, OK, f"{target.what} offers {model}")]


async def _openai_compat(llm: LLMConfig, target: _Target, deadline_s: float) -> list[Check]:
    from picoclaw_gateway.providers.openai_compat import api_client

    timeout = httpx.Timeout(deadline_s)
    async with api_client(llm, timeout=timeout, max_response_bytes=MODEL_LIST_MAX_BYTES) as client:
        listing = fetch(client, "GET", f"{target.base}/models", deadline_s)
        if llm.provider == "openrouter":  # its model list is public: the key needs its own check
            key_info = fetch(client, "GET", f"{target.base}/key", deadline_s)
            models, key = await asyncio.gather(listing, key_info)
        else:
            models, key = await listing, None
    for answer in (models, key):
        if isinstance(answer, Unreachable):
            return [unreachable(BASE, f"the LLM provider ({llm.provider})", target.shown_base, answer, BASE)]
    assert not isinstance(models, Unreachable) and not isinstance(key, Unreachable)
    if key is None:
        return _model_list(target, llm.model, models, key_checked=False)
    key_check = _openrouter_key(target, key)
    if key_check.status == FAIL:
        return [key_check, Check(MODEL, SKIP, "not checked: the API key check failed")]
    return [key_check, *_model_list(target, llm.model, models, key_checked=True)]


async def _anthropic(llm: LLMConfig, target: _Target, deadline_s: float) -> list[Check]:
    async with CappedAsyncClient(
        max_response_bytes=MODEL_LIST_MAX_BYTES,
        timeout=httpx.Timeout(deadline_s),
        headers={"x-api-key": llm.api_key, "anthropic-version": ANTHROPIC_VERSION},
        trust_env=True,
        follow_redirects=True,
        verify=shared_ssl_context(),
    ) as client:
        url = f"{target.base}/v1/models/{quote(llm.model, safe='')}"
        answer = await fetch(client, "GET", url, deadline_s)
        if isinstance(answer, Unreachable):
            return [unreachable(BASE, "the LLM provider (anthropic)", target.shown_base, answer, BASE)]
        status = answer.status_code
        if status == 200:
            return [
                Check(KEY, OK, f"{target.what} accepted the API key"),
                Check(MODEL, OK, f"{target.what} offers {llm.model}"),
            ]
        if status in (401, 403):
            return _model_list(target, llm.model, answer, key_checked=False)
        body = json_body(answer)
        error = body.get("error") if isinstance(body, dict) else None
        if status != 404 or not isinstance(error, dict) or error.get("type") != "not_found_error":
            # A 404 that is not the API's own (a proxy, a wrong base): no model endpoint there.
            return _model_list(target, llm.model, answer, key_checked=False)
        # The key passed (a bad key is refused before the model is looked up): list for a hint.
        listing = await fetch(client, "GET", f"{target.base}/v1/models?limit=1000", deadline_s)
    known = _model_ids(json_body(listing)) if isinstance(listing, httpx.Response) else None
    accepted = Check(KEY, OK, f"{target.what} accepted the API key")
    return [accepted, target.unknown_model(llm.model, known or [])]


async def check_llm(llm: LLMConfig, shown_base: str, deadline_s: float) -> list[Check]:
    target = _Target(llm, shown_base)
    if llm.provider == "anthropic":
        return await _anthropic(llm, target, deadline_s)
    return await _openai_compat(llm, target, deadline_s)
