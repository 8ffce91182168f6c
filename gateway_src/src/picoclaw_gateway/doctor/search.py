"""Is the web_search provider usable? One request, as cheap as each provider allows.

Tavily: GET /usage (the key's credits; no search spent). SearXNG: one search with format=json (it is
the user's own server; a 403 there means JSON output is switched off, the most common setup slip).
Brave has no call that checks a key without searching: one search with count=1, one query of the
key's monthly quota, and the line says so.
"""

from __future__ import annotations

from typing import Any

import httpx

from picoclaw_gateway.doctor.probe import (
    SMALL_BODY_BYTES,
    Unreachable,
    fetch,
    json_body,
    unexpected_status,
    unreachable,
)
from picoclaw_gateway.doctor.report import FAIL, OK, Check
from picoclaw_gateway.http_client import CappedAsyncClient, shared_ssl_context
from picoclaw_gateway.web.search import DEFAULT_BASES
from picoclaw_gateway.web.settings import WebSearchConfig

KEY = "tools.web.search.api_key"
BASE = "tools.web.search.api_base"
_KEY_PAGES = {
    "brave": "https://api-dashboard.search.brave.com/app/keys",
    "tavily": "https://app.tavily.com",
    "searxng": "your SearXNG's settings",
}
_PROBE_QUERY = "picoclaw"


def _request(search: WebSearchConfig, base: str) -> tuple[str, str, dict[str, str], dict[str, Any]]:
    """(method, url, headers, params) of the provider's cheapest call that needs the key."""
    headers = {"Accept": "application/json", "User-Agent": "PicoClaw-doctor/1"}
    if search.provider == "brave":
        headers["X-Subscription-Token"] = search.api_key
        return "GET", f"{base}/res/v1/web/search", headers, {"q": _PROBE_QUERY, "count": 1}
    if search.api_key:
        headers["Authorization"] = f"Bearer {search.api_key}"
    if search.provider == "tavily":
        return "GET", f"{base}/usage", headers, {}
    return "GET", f"{base}/search", headers, {"q": _PROBE_QUERY, "format": "json"}


def _judge(provider: str, response: httpx.Response) -> Check:
    status = response.status_code
    what = f"the {provider} search API"
    if status == 403 and provider == "searxng":
        return Check(
            BASE,
            FAIL,
            "SearXNG refuses JSON output (HTTP 403)",
            "add json to search.formats in its settings.yml (formats: [html, json]) and restart it",
        )
    if status in (401, 403) or (provider == "brave" and status == 422):
        fix = f"put a valid key from {_KEY_PAGES[provider]} in {KEY}"
        return Check(KEY, FAIL, f"{provider} rejected the key (HTTP {status})", fix)
    if status != 200:
        return unexpected_status(BASE, what, response, BASE)
    body = json_body(response)
    if not isinstance(body, dict):
        return Check(BASE, FAIL, f"{what} answered 200 but not with JSON", f"check {BASE}")
    if provider == "tavily":
        key = body.get("key")
        used, limit = (key.get("usage"), key.get("limit")) if isinstance(key, dict) else (None, None)
        counted = isinstance(used, int) and isinstance(limit, int)
        credits = f"{used} of {limit} credits used" if counted else "no search spent"
        return Check(KEY, OK, f"tavily accepted the key ({credits})")
    results = (body.get("web") or {}).get("results") if provider == "brave" else body.get("results")
    if not isinstance(results, list):
        return Check(BASE, FAIL, f"{what} answered 200 but not with search results", f"check {BASE}")
    if provider == "brave":
        return Check(KEY, OK, "brave accepted the key (this check used one query of its quota)")
    return Check(BASE, OK, "searxng answers searches in JSON")


async def check_search(search: WebSearchConfig, shown_base: str | None, deadline_s: float) -> list[Check]:
    """[] when no search provider is set; else one line about its key (or its server)."""
    if search.provider is None:
        return []
    base = (search.api_base or DEFAULT_BASES.get(search.provider, "")).rstrip("/")
    shown = (shown_base or base).rstrip("/")
    method, url, headers, params = _request(search, base)
    async with CappedAsyncClient(
        max_response_bytes=SMALL_BODY_BYTES,
        timeout=httpx.Timeout(deadline_s),
        headers=headers,
        trust_env=True,
        verify=shared_ssl_context(),
    ) as client:
        answer = await fetch(client, method, url, deadline_s, params=params)
    if isinstance(answer, Unreachable):
        return [unreachable(BASE, f"the {search.provider} search API", shown, answer, BASE)]
    return [_judge(search.provider, answer)]
