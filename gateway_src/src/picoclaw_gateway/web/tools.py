"""Builds the gateway-side web tools the config enables (imported only when one is)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from picoclaw_gateway.agent.tools.base import Tool
from picoclaw_gateway.web.guard import AllowList, Guard, Resolver, system_resolve
from picoclaw_gateway.web.settings import WebConfig


@dataclass(slots=True)
class WebTools:
    tools: list[Tool] = field(default_factory=list)
    _owners: list = field(default_factory=list)  # Fetcher / Searcher: each holds a client to close

    async def close(self) -> None:
        for owner in self._owners:
            with contextlib.suppress(Exception):
                await owner.close()


def enabled(config: WebConfig) -> bool:
    return config.fetch.enabled or config.search.provider is not None


def open_web_tools(config: WebConfig, resolve: Resolver = system_resolve) -> WebTools:
    guard = Guard(AllowList.parse(config.allow), resolve)
    out = WebTools()
    if config.search.provider is not None:
        from picoclaw_gateway.web.search import Searcher, WebSearchTool

        searcher = Searcher(guard, config.search)
        out.tools.append(WebSearchTool(searcher))
        out._owners.append(searcher)
    if config.fetch.enabled:
        from picoclaw_gateway.web.fetch import Fetcher, WebFetchTool

        fetcher = Fetcher(guard, config.fetch)
        out.tools.append(WebFetchTool(fetcher))
        out._owners.append(fetcher)
    return out
