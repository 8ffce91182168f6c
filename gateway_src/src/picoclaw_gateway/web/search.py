"""The web_search tool: a search provider chosen in config, results as title / url / snippet.

Providers: Brave Search API, Tavily, SearXNG (self-hosted; its host is allowed through the guard
because the user named it). There is no key-less default: the only key-less "APIs" are scraped
result pages, which change and rate-limit without notice. The key is sent in a header, never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from picoclaw_gateway.agent.tools.base import Tool, ToolError, require_str
from picoclaw_gateway.web.guard import BlockedAddress, Guard, guarded_client
from picoclaw_gateway.web.settings import WebSearchConfig
from picoclaw_gateway.web.untrusted import wrap

log = logging.getLogger(__name__)

DEFAULT_BASES = {"brave": "https://api.search.brave.com", "tavily": "https://api.tavily.com"}
MAX_ANSWER_BYTES = 1024 * 1024
MAX_SNIPPET_CHARS = 500


@dataclass(frozen=True, slots=True)
class Result:
    title: str
    url: str
    snippet: str


def _text(value: object, limit: int = MAX_SNIPPET_CHARS) -> str:
    return " ".join(str(value).split())[:limit] if isinstance(value, str) else ""


def parse_results(provider: str, data: object, max_results: int) -> list[Result]:
    """The provider's answer as results; a shape it does not have raises ToolError."""
    if not isinstance(data, dict):
        raise ToolError(f"the {provider} answer is not a JSON object")
    items = (data.get("web") or {}).get("results") if provider == "brave" else data.get("results")
    if items is None and provider == "brave":
        return []  # Brave leaves "web" out when nothing matched
    if not isinstance(items, list):
        raise ToolError(f"the {provider} answer has no result list")
    snippet_key = "description" if provider == "brave" else "content"
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            out.append(
                Result(_text(item.get("title"), 300), item["url"][:2000], _text(item.get(snippet_key)))
            )
        if len(out) >= max_results:
            break
    return out


class Searcher:
    def __init__(self, guard: Guard, config: WebSearchConfig) -> None:
        if config.provider is None:
            raise ValueError("no search provider configured")
        self.config = config
        self.provider = config.provider
        self.base = (config.api_base or DEFAULT_BASES[config.provider]).rstrip("/")
        host = urlsplit(self.base).hostname or ""
        # The user named this server (often a SearXNG on the host or a compose network): let it through.
        self._client = guarded_client(Guard(guard.allow.with_host(host), guard.resolve), config.timeout_s)

    async def close(self) -> None:
        await self._client.aclose()

    def _request(self, query: str) -> httpx.Request:
        key = self.config.api_key
        count = self.config.max_results
        headers = {"Accept": "application/json", "User-Agent": "PicoClaw-web_search/1"}
        if self.provider == "brave":
            headers["X-Subscription-Token"] = key
            params = {"q": query, "count": str(count)}
            return self._client.build_request(
                "GET", f"{self.base}/res/v1/web/search", params=params, headers=headers
            )
        if self.provider == "tavily":
            headers["Authorization"] = f"Bearer {key}"
            body = {"query": query, "max_results": count}
            return self._client.build_request("POST", f"{self.base}/search", json=body, headers=headers)
        if key:  # a SearXNG behind a reverse proxy with a token
            headers["Authorization"] = f"Bearer {key}"
        params = {"q": query, "format": "json"}
        return self._client.build_request("GET", f"{self.base}/search", params=params, headers=headers)

    async def search(self, query: str) -> list[Result]:
        name = self.provider
        try:
            async with asyncio.timeout(self.config.timeout_s):
                response = await self._client.send(self._request(query), stream=True)
                try:
                    from picoclaw_gateway.web.fetch import read_capped

                    body, cut = await read_capped(response, MAX_ANSWER_BYTES)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise ToolError(f"{name} did not answer within {self.config.timeout_s:g} s") from None
        except BlockedAddress as exc:
            raise ToolError(f"refused: {exc}") from None
        except httpx.HTTPError as exc:
            raise ToolError(f"{name} is not reachable ({type(exc).__name__})") from None
        status = response.status_code
        if status in (401, 403):
            log.error("web_search: %s refused the API key (HTTP %d)", name, status)
            raise ToolError(
                f"{name} refused the API key (HTTP {status}); the owner must fix tools.web.search"
            )
        if status == 429:
            raise ToolError(f"{name} says too many searches (HTTP 429); try again later")
        if status != 200:
            raise ToolError(f"{name} answered HTTP {status}")
        if cut:
            raise ToolError(f"the {name} answer is larger than {MAX_ANSWER_BYTES:,} bytes")
        try:
            data = json.loads(body)
        except ValueError:
            raise ToolError(f"the {name} answer is not JSON") from None
        return parse_results(name, data, self.config.max_results)


def format_results(query: str, results: list[Result]) -> str:
    if not results:
        return f"No results for {query!r}."
    lines = [f"Results for {query!r}:"]
    for number, result in enumerate(results, 1):
        lines.append(f"{number}. {result.title}\n   {result.url}\n   {result.snippet}")
    return "\n".join(lines)


class WebSearchTool(Tool):
    name = "web_search"
    description = (
        "Search the web. Returns a numbered list of results (title, URL, snippet); read a result "
        "with web_fetch when the snippet is not enough."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"query": {"type": "string", "description": "what to search for"}},
        "required": ["query"],
    }

    def __init__(self, searcher: Searcher) -> None:
        self._searcher = searcher

    async def run(self, args: dict[str, Any]) -> str:
        query = require_str(args, "query").strip()
        if not query:
            raise ToolError("the query is empty")
        results = await self._searcher.search(query[:400])
        log.info("web_search: %s, %d results", self._searcher.provider, len(results))
        return wrap(f"{self._searcher.provider} search results", format_results(query, results))
