"""Fallback models (llm.fallbacks, upstream agents.defaults.model_fallbacks) and the replies section.

A fallback is tried after the model before it failed all its retries with 429, 5xx or a timeout;
each entry is a whole provider/model/key, normalized like llm itself. Keys are secrets: messages
describe them, redaction.py replaces them.
"""

from __future__ import annotations

from .checker import Checker, child, json_type, show
from .schema import (
    DEFAULTS,
    FALLBACK_KEYS,
    MAX_FALLBACKS,
    PROVIDERS,
    REPLIES_KEYS,
    REPLY_FORMATS,
)
from .sections import build_llm, check_model
from .tokens import check_api_key
from .upstream_llm import _model_list_entry

_ENTRY_EXAMPLE = '{"provider": "openrouter", "model": "openai/gpt-4o-mini", "api_key": "sk-or-..."}'


def _fallback_entry(ck: Checker, entry: object, path: str, primary: dict) -> dict | None:
    if not isinstance(entry, dict):
        ck.err(path, f"must be a JSON object, got {json_type(entry)}", f"write {_ENTRY_EXAMPLE}")
        return None
    ck.unknown_keys(entry, FALLBACK_KEYS, path)
    provider = entry.get("provider", primary["provider"])
    if not isinstance(provider, str) or provider not in PROVIDERS:
        ck.err(
            child(path, "provider"),
            f"unknown provider {show(provider)}",
            "use one of: " + ", ".join(PROVIDERS),
        )
        return None
    model = check_model(ck, entry, path)
    api_base = ck.url(entry, "api_base", path, ("https", "http"))
    key = entry.get("api_key")
    same_endpoint = provider == primary["provider"] and api_base in (None, primary["api_base"])
    if key is None and same_endpoint:
        key = primary["api_key"]  # another model of the same account: the primary key serves it
    elif key is None:
        ck.err(
            child(path, "api_key"),
            f"a fallback on another provider or api_base needs its own api_key (provider {provider})",
            'add "api_key": "..." to this entry',
        )
        return None
    else:
        key = check_api_key(ck, provider, key, child(path, "api_key"), api_base is not None)
    if not model:
        return None
    if same_endpoint and api_base is None:
        api_base = primary["api_base"]
    llm = build_llm(provider, key, model, api_base, 1, None, None, ck, child(path, "api_base"))
    if (llm["provider"], llm["model"], llm["api_base"]) == (
        primary["provider"],
        primary["model"],
        primary["api_base"],
    ):
        ck.warn(
            child(path, "model"), "is the model of llm itself", "name another model, or remove this entry"
        )
    return {name: llm[name] for name in ("provider", "api_key", "model", "api_base")}


def _cooldown(ck: Checker, section: dict, path: str) -> float:
    value = ck.number(section, "fallback_cooldown_s", path, 0.0, 86400.0, DEFAULTS["fallback_cooldown_s"])
    return float(value if value is not None else DEFAULTS["fallback_cooldown_s"])


def _too_many(ck: Checker, count: int, path: str) -> bool:
    if count > MAX_FALLBACKS:
        ck.err(
            path, f"has {count} entries, at most {MAX_FALLBACKS}", f"keep the {MAX_FALLBACKS} you trust most"
        )
        return True
    return False


def stack_fallbacks(ck: Checker, section: dict, llm: dict) -> dict:
    """llm.fallbacks and llm.fallback_cooldown_s of the stack dialect, normalized."""
    path = "$.llm.fallbacks"
    raw = section.get("fallbacks", [])
    out = []
    if not isinstance(raw, list):
        ck.err(path, f"must be an array of model entries, got {json_type(raw)}", f"write [{_ENTRY_EXAMPLE}]")
    elif not _too_many(ck, len(raw), path):
        for index, entry in enumerate(raw):
            normalized = _fallback_entry(ck, entry, child(path, index), llm)
            if normalized is not None:
                out.append(normalized)
    return {"fallbacks": out, "fallback_cooldown_s": _cooldown(ck, section, "$.llm")}


def upstream_fallbacks(ck: Checker, data: dict, llm: dict) -> dict:
    """Upstream agents.defaults.model_fallbacks: model_name entries of model_list, or (classic
    providers layout) model ids served by the primary's provider and key."""
    agents = data.get("agents")
    defaults = agents.get("defaults") if isinstance(agents, dict) else None
    names = defaults.get("model_fallbacks", []) if isinstance(defaults, dict) else []
    path = "$.agents.defaults.model_fallbacks"
    out: list = []
    if not isinstance(names, list):
        ck.err(
            path, f"must be an array of model names, got {json_type(names)}", 'write ["<model_name>", ...]'
        )
        names = []
    if _too_many(ck, len(names), path):
        names = []
    entries = data.get("model_list")
    for index, name in enumerate(names):
        name_path = child(path, index)
        if not isinstance(name, str) or not name.strip():
            ck.err(name_path, f"must be a model name, got {show(name)}", 'write "<model_name>"')
            continue
        if not isinstance(entries, list):  # classic layout: another model of the same provider
            entry = {"model": name}
            normalized = _fallback_entry(ck, entry, name_path, llm)
        elif not any(isinstance(e, dict) and e.get("model_name") == name for e in entries):
            known = ", ".join(show(e.get("model_name")) for e in entries if isinstance(e, dict))[:300]
            ck.err(name_path, f"no model_list entry has model_name {show(name)}", f"use one of: {known}")
            continue
        else:
            picked = _model_list_entry(ck, data, {"model_name": name})
            if picked is None:
                continue
            provider, model, api_key, api_base, entry_path, key_path = picked
            api_key = check_api_key(ck, provider, api_key, key_path, api_base is not None)
            built = build_llm(
                provider, api_key, model, api_base, 1, None, None, ck, child(entry_path, "api_base")
            )
            normalized = {key: built[key] for key in ("provider", "api_key", "model", "api_base")}
        if normalized is not None:
            out.append(normalized)
    return {"fallbacks": out, "fallback_cooldown_s": DEFAULTS["fallback_cooldown_s"]}


def build_replies(ck: Checker, data: dict) -> dict:
    """The replies section: how answers are written on the platform."""
    section = ck.obj(data, "replies", "$") or {}
    ck.unknown_keys(section, REPLIES_KEYS, "$.replies")
    reply_format = ck.string(section, "format", "$.replies", example="markdown")
    if reply_format is not None and reply_format not in REPLY_FORMATS:
        ck.err(
            "$.replies.format",
            f"unknown format {show(reply_format)}",
            'use "markdown" (each platform\'s own formatting) or "plain" (text as the model wrote it)',
        )
        reply_format = None
    interval = ck.number(
        section, "live_interval_s", "$.replies", 0.5, 60.0, DEFAULTS["reply_live_interval_s"]
    )
    return {
        "format": reply_format or DEFAULTS["reply_format"],
        "live": ck.boolean(section, "live", "$.replies", DEFAULTS["reply_live"]),
        "live_interval_s": float(interval if interval is not None else DEFAULTS["reply_live_interval_s"]),
    }
