"""redact(): a copy of a normalized config that is safe to show (secrets and URL credentials removed)."""

from __future__ import annotations

import copy
from urllib.parse import urlsplit, urlunsplit


def _redact_url(value: object) -> object:
    if not isinstance(value, str) or not value:
        return value
    try:
        parts = urlsplit(value)
        if parts.username is None and parts.password is None:
            return value
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, "***@" + host, parts.path, parts.query, parts.fragment))
    except ValueError:
        return "***"


def _copy(value: object) -> object:
    """Deep copy of JSON-shaped data; a few times faster than copy.deepcopy on 100k entries."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if value is None or isinstance(value, (str, int, float)):
        return value  # immutable
    return copy.deepcopy(value)


def redact(normalized: dict) -> dict:
    """Deep copy with api_key/token/app_token (llm, channels, web search, api) replaced by "***" and
    URL credentials removed."""
    if not isinstance(normalized, dict):
        return normalized
    out = _copy(normalized)
    llm = out.get("llm")
    if isinstance(llm, dict):
        fallbacks = llm.get("fallbacks")
        for model in [llm, *(fallbacks if isinstance(fallbacks, list) else [])]:
            if not isinstance(model, dict):
                continue
            if model.get("api_key"):
                model["api_key"] = "***"
            model["api_base"] = _redact_url(model.get("api_base"))
    transcription = (out.get("media") or {}).get("transcription")
    if isinstance(transcription, dict):
        if transcription.get("api_key"):
            transcription["api_key"] = "***"
        transcription["api_base"] = _redact_url(transcription.get("api_base"))
    search = ((out.get("tools") or {}).get("web") or {}).get("search")
    if isinstance(search, dict):
        if search.get("api_key"):
            search["api_key"] = "***"
        search["api_base"] = _redact_url(search.get("api_base"))
    api = out.get("api")
    if isinstance(api, dict) and api.get("token"):
        api["token"] = "***"  # noqa: S105 - the mask
    for channel in out.get("channels") or []:
        if not isinstance(channel, dict):
            continue
        for key in ("token", "app_token"):
            if channel.get(key):
                channel[key] = "***"
        for key in ("proxy", "api_base"):
            if key in channel:
                channel[key] = _redact_url(channel[key])
    return out
