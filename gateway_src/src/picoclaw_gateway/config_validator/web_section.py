"""The normalized tools.web section: web_fetch caps, the web_search provider, the SSRF allow-list."""

from __future__ import annotations

import ipaddress
import re

from .checker import Checker, child, show
from .schema import (
    DEFAULTS,
    SEARCH_PROVIDERS,
    UPSTREAM_SEARCH_PROVIDERS,
    WEB_FETCH_KEYS,
    WEB_KEYS,
    WEB_SEARCH_KEYS,
)
from .sections import limit
from .tokens import placeholder_reason

_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_ALLOW_EXAMPLE = '"127.0.0.1", "192.168.1.0/24" or a host name like "searxng"'
_NEVER = (ipaddress.ip_network("169.254.169.254/32"), ipaddress.ip_network("fd00:ec2::254/128"))


def web_defaults() -> dict:
    return {
        "fetch": {
            "enabled": DEFAULTS["web_fetch_enabled"],
            "timeout_s": DEFAULTS["web_timeout_s"],
            "max_bytes": DEFAULTS["web_fetch_max_bytes"],
            "max_chars": DEFAULTS["web_fetch_max_chars"],
            "max_redirects": DEFAULTS["web_fetch_max_redirects"],
        },
        "search": {
            "provider": None,
            "api_key": None,
            "api_base": None,
            "max_results": DEFAULTS["web_search_max_results"],
            "timeout_s": DEFAULTS["web_timeout_s"],
        },
        "allow": [],
    }


def _timeout(ck: Checker, section: dict, path: str) -> float:
    return ck.number(section, "timeout_s", path, 0.0, 120.0, DEFAULTS["web_timeout_s"], low_inclusive=False)


def _fetch(ck: Checker, web: dict) -> dict:
    path = "$.tools.web.fetch"
    section = ck.obj(web, "fetch", "$.tools.web") or {}
    ck.unknown_keys(section, WEB_FETCH_KEYS, path)
    return {
        "enabled": ck.boolean(section, "enabled", path, DEFAULTS["web_fetch_enabled"]),
        "timeout_s": _timeout(ck, section, path),
        "max_bytes": limit(ck, section, "max_bytes", path, "web_fetch_max_bytes"),
        "max_chars": limit(ck, section, "max_chars", path, "web_fetch_max_chars"),
        "max_redirects": ck.integer(
            section, "max_redirects", path, 0, 20, DEFAULTS["web_fetch_max_redirects"]
        ),
    }


def _search(ck: Checker, web: dict) -> dict:
    path = "$.tools.web.search"
    out = web_defaults()["search"]
    section = ck.obj(web, "search", "$.tools.web") or {}
    ck.unknown_keys(section, WEB_SEARCH_KEYS, path)
    out["max_results"] = ck.integer(section, "max_results", path, 1, 20, DEFAULTS["web_search_max_results"])
    out["timeout_s"] = _timeout(ck, section, path)
    out["api_base"] = ck.url(section, "api_base", path, ("https", "http"))
    provider = section.get("provider")
    if provider is None:
        if section.get("api_key"):
            ck.err(child(path, "provider"), "an api_key is set but no provider",
                   'add "provider": "brave" (or "tavily", "searxng")')  # fmt: skip
        return out
    if not isinstance(provider, str) or provider.strip().lower() not in SEARCH_PROVIDERS:
        ck.err(child(path, "provider"), f"unknown search provider {show(provider)}",
               "use one of: {}".format(", ".join(SEARCH_PROVIDERS)))  # fmt: skip
        return out
    provider = provider.strip().lower()
    key = section.get("api_key")
    key_path = child(path, "api_key")
    if key is not None and not isinstance(key, str):
        ck.err(key_path, "must be a string", "put the key in double quotes")
        return out
    if provider in ("brave", "tavily") and not key:
        fix = f'add "api_key": "..." (from your {provider} account), or use "searxng" with api_base'
        ck.err(key_path, f"the {provider} search API needs an API key", fix)
        return out
    if key and placeholder_reason(key):
        ck.err(key_path, f"api_key {placeholder_reason(key)}", "paste the real key exactly")
        return out
    if provider == "searxng" and not out["api_base"]:
        ck.err(child(path, "api_base"), "searxng needs the address of your SearXNG server",
               'add "api_base": "http://searxng:8080" (its JSON output must be enabled)')  # fmt: skip
        return out
    out["provider"] = provider
    out["api_key"] = key or None
    return out


def _allow(ck: Checker, web: dict) -> list:
    path = "$.tools.web.allow"
    raw = web.get("allow", [])
    if not isinstance(raw, list):
        ck.err(path, "must be an array of addresses, networks or host names", f"write [{_ALLOW_EXAMPLE}]")
        return []
    out = []
    for index, entry in enumerate(raw):
        entry_path = child(path, index)
        if not isinstance(entry, str) or not entry.strip():
            ck.err(entry_path, "must be a non-empty string", f"write an entry like {_ALLOW_EXAMPLE}")
            continue
        value = entry.strip().lower()
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            if not _HOST_NAME.match(value.rstrip(".")):
                ck.err(entry_path, f"{show(entry)} is neither an address, a network nor a host name",
                       f"write an entry like {_ALLOW_EXAMPLE}")  # fmt: skip
                continue
            out.append(value.rstrip("."))
            continue
        if network.prefixlen == 0:
            ck.err(entry_path, f"{show(entry)} allows every address, which turns the SSRF guard off",
                   "list only the addresses or networks the web tools really need")  # fmt: skip
            continue
        if any(network.version == never.version and network.overlaps(never) for never in _NEVER):
            fix = "nothing to do if that is intended; the web tools never reach metadata services"
            ck.warn(entry_path, "covers a cloud metadata address, which stays refused", fix)
        out.append(str(network))
    return out


def build_web(ck: Checker, tools: dict) -> dict:
    web = ck.obj(tools, "web", "$.tools")
    if web is None:
        return web_defaults()
    ck.unknown_keys(web, WEB_KEYS, "$.tools.web")
    return {"fetch": _fetch(ck, web), "search": _search(ck, web), "allow": _allow(ck, web)}


def upstream_web(ck: Checker, tools: dict) -> dict:
    """Upstream tools.web.brave / tools.web.tavily ({"enabled", "api_key", "max_results"}): the first
    enabled one with a key becomes the search provider; fetch keeps its defaults."""
    out = web_defaults()
    web = ck.obj(tools, "web", "$.tools") or {}
    ck.ignored(web, UPSTREAM_SEARCH_PROVIDERS, "$.tools.web", "upstream web setting")
    for name in UPSTREAM_SEARCH_PROVIDERS:
        path = child("$.tools.web", name)
        block = ck.obj(web, name, "$.tools.web") or {}
        if not ck.boolean(block, "enabled", path, False):
            continue
        key = block.get("api_key")
        if not isinstance(key, str) or not key or placeholder_reason(key):
            message = f"{name} search is enabled without a usable api_key: no web_search"
            ck.warn(child(path, "api_key"), message, "paste the real key, or set enabled to false")
            continue
        out["search"]["provider"] = name
        out["search"]["api_key"] = key
        out["search"]["max_results"] = ck.integer(
            block, "max_results", path, 1, 20, DEFAULTS["web_search_max_results"]
        )
        break
    return out
