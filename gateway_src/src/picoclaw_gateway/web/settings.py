"""The web tools' runtime settings, built from the validator's normalized tools.web section."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from picoclaw_gateway.config_validator import DEFAULTS


@dataclass(frozen=True, slots=True)
class WebFetchConfig:
    enabled: bool = DEFAULTS["web_fetch_enabled"]
    timeout_s: float = DEFAULTS["web_timeout_s"]
    max_bytes: int = DEFAULTS["web_fetch_max_bytes"]
    max_chars: int = DEFAULTS["web_fetch_max_chars"]
    max_redirects: int = DEFAULTS["web_fetch_max_redirects"]


@dataclass(frozen=True, slots=True)
class WebSearchConfig:
    provider: str | None = None  # None: no web_search tool
    api_key: str = field(default="", repr=False)
    api_base: str | None = None
    max_results: int = DEFAULTS["web_search_max_results"]
    timeout_s: float = DEFAULTS["web_timeout_s"]


@dataclass(frozen=True, slots=True)
class WebConfig:
    fetch: WebFetchConfig = WebFetchConfig()
    search: WebSearchConfig = WebSearchConfig()
    allow: tuple[str, ...] = ()  # addresses, networks or host names the guard lets through


def web_from_normalized(web: dict[str, Any]) -> WebConfig:
    fetch = web["fetch"]
    search = web["search"]
    return WebConfig(
        fetch=WebFetchConfig(
            enabled=bool(fetch["enabled"]),
            timeout_s=float(fetch["timeout_s"]),
            max_bytes=int(fetch["max_bytes"]),
            max_chars=int(fetch["max_chars"]),
            max_redirects=int(fetch["max_redirects"]),
        ),
        search=WebSearchConfig(
            provider=search["provider"],
            api_key=search["api_key"] or "",
            api_base=search["api_base"],
            max_results=int(search["max_results"]),
            timeout_s=float(search["timeout_s"]),
        ),
        allow=tuple(web["allow"]),
    )
