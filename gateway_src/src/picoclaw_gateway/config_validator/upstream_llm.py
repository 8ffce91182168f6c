"""The upstream (PicoClaw Go) dialect's model and provider: agents.defaults with providers.<name>
(classic) or model_list (2026+)."""

from __future__ import annotations

import re

from .checker import Checker, child, json_type, show
from .schema import (
    DEFAULT_API_BASES,
    DEFAULTS,
    MODEL_LIST_ENTRY_KEYS,
    MODEL_LIST_PROTOCOLS,
    PROVIDERS,
    UPSTREAM_DEFAULTS_IGNORED,
    UPSTREAM_DEFAULTS_USED,
    UPSTREAM_PROVIDER_ALIASES,
)
from .sections import build_llm, check_model
from .tokens import check_api_key


def _upstream_provider(ck: Checker, providers: dict, defaults: dict, model: str) -> tuple:
    """Pick the one provider to use; returns (name, section) or (None, None) after reporting."""
    for name, section in providers.items():
        p = child("$.providers", name)
        if not isinstance(section, dict):
            ck.err(
                p,
                f"must be a JSON object, got {json_type(section)}",
                f'write {show(name)}: {{"api_key": "..."}}',
            )
            continue
        if name not in PROVIDERS and section.get("api_key") not in (None, ""):
            ck.warn(
                p,
                f"provider {show(name)} is not supported by this gateway and is ignored",
                "use openrouter, openai or anthropic (OpenAI-compatible servers: openai + api_base)",
            )
    candidates = []
    for name in PROVIDERS:
        section = providers.get(name)
        if isinstance(section, dict) and (
            section.get("api_key") not in (None, "")
            or (name == "openai" and section.get("api_base") not in (None, ""))
        ):
            candidates.append(name)
    wanted = defaults.get("provider")
    if wanted not in (None, ""):
        if not isinstance(wanted, str):
            ck.err(
                "$.agents.defaults.provider",
                f"must be a string, got {json_type(wanted)}",
                'write "provider": "openrouter"',
            )
            return None, None
        name = UPSTREAM_PROVIDER_ALIASES.get(wanted.lower(), wanted.lower())
        if name not in PROVIDERS:
            ck.err(
                "$.agents.defaults.provider",
                f"provider {show(wanted)} is not supported by this gateway",
                "use openrouter, openai or anthropic",
            )
            return None, None
        if name not in candidates:
            ck.err(
                child("$.providers", name),
                f'agents.defaults.provider is "{name}" but providers.{name} has no api_key',
                f"set providers.{name}.api_key",
            )
            return None, None
        return name, providers[name]
    if not candidates:
        ck.err(
            "$.providers",
            "no supported provider has an api_key",
            "set providers.openrouter.api_key (or openai / anthropic)",
        )
        return None, None
    if len(candidates) == 1:
        return candidates[0], providers[candidates[0]]
    chosen = _provider_for_model(model, candidates)
    if chosen is None:
        ck.err(
            "$.providers",
            "several providers have an api_key ({}) and the model {} does not tell which to use".format(
                ", ".join(candidates), show(model)
            ),
            "set agents.defaults.provider to one of them, or empty the other api_key values",
        )
        return None, None
    ck.warn(
        child("$.providers", chosen),
        "several providers have an api_key ({}); using {} for model {}".format(
            ", ".join(candidates), chosen, show(model)
        ),
        "set agents.defaults.provider to make the choice explicit",
    )
    return chosen, providers[chosen]


def _provider_for_model(model: str, candidates: list) -> str | None:
    """Documented rule: vendor/model ids -> openrouter; claude -> anthropic; gpt/o1/o3/o4 -> openai."""
    lowered = model.lower()
    if "/" in lowered and "openrouter" in candidates:
        return "openrouter"
    if "claude" in lowered and "anthropic" in candidates:
        return "anthropic"
    if re.match(r"^(gpt|o\d|chatgpt)", lowered) and "openai" in candidates:
        return "openai"
    return None


def _upstream_defaults(ck: Checker, data: dict) -> tuple:
    """agents.defaults: (section, model name or "", max_tokens, temperature, max_tool_iterations)."""
    agents = ck.obj(data, "agents", "$")
    defaults = ck.obj(agents, "defaults", "$.agents") if agents is not None else None
    ck.ignored(agents or {}, ("defaults",), "$.agents", "upstream agent setting")
    path = "$.agents.defaults"
    if defaults is None:
        if agents is None or "defaults" not in agents:
            ck.err(
                path,
                "missing: upstream configs name the model in agents.defaults",
                'add "agents": {"defaults": {"model": "..."}}',
            )
        defaults = {}
    if defaults.get("restrict_to_workspace") is False:
        ck.warn(
            child(path, "restrict_to_workspace"),
            "ignored: tools are always confined to the workspace",
            "remove it",
        )
    ck.ignored(defaults, UPSTREAM_DEFAULTS_USED + UPSTREAM_DEFAULTS_IGNORED, path, "upstream agent default")
    model = ""
    if "model_list" not in data and defaults:
        model = check_model(ck, defaults, path)
    max_tokens = ck.integer(defaults, "max_tokens", path, 1, 1000000, DEFAULTS["max_tokens"])
    temperature = ck.number(defaults, "temperature", path, 0.0, 2.0, DEFAULTS["temperature"], nullable=True)
    max_iter = ck.integer(defaults, "max_tool_iterations", path, 1, 50, DEFAULTS["max_tool_iterations"])
    return defaults, model, max_tokens, temperature, max_iter


def upstream_llm(ck: Checker, data: dict) -> tuple:
    """(normalized llm or None, max_tool_iterations) from the classic or the model_list layout."""
    defaults, model, max_tokens, temperature, max_iter = _upstream_defaults(ck, data)
    if "model_list" in data:
        if "providers" in data:
            ck.warn("$.providers", "ignored: model_list is used instead", "remove the old providers section")
        picked = _model_list_entry(ck, data, defaults)
        if picked is None:
            return None, max_iter
        name, model, api_key, api_base, path, key_path = picked
        base_path = child(path, "api_base")
    else:
        providers = ck.obj(data, "providers", "$", required=True)
        if providers is None:
            return None, max_iter
        name, section = _upstream_provider(ck, providers, defaults, model)
        if name is None:
            return None, max_iter
        ppath = child("$.providers", name)
        ck.ignored(section, ("api_key", "api_base"), ppath, "provider setting")
        api_base = ck.url(section, "api_base", ppath, ("https", "http"))
        api_key = section.get("api_key")
        key_path = child(ppath, "api_key")
        base_path = child(ppath, "api_base")
    api_key = check_api_key(ck, name, api_key, key_path, api_base is not None)
    return build_llm(name, api_key, model, api_base, max_tokens, temperature, None, ck, base_path), max_iter


def _model_list_entry(ck: Checker, data: dict, defaults: dict) -> tuple | None:
    """Newer upstream layout: pick the model_list entry named by agents.defaults.model_name."""
    entries = data["model_list"]
    if not isinstance(entries, list) or not entries:
        ck.err("$.model_list", "must be a non-empty array of model entries", "add the model you use")
        return None
    name_key = "model_name" if "model_name" in defaults else "model"
    wanted = defaults.get(name_key)
    name_path = child("$.agents.defaults", name_key)
    if wanted is None and len(entries) == 1:
        index = 0
    elif not isinstance(wanted, str) or not wanted:
        ck.err(
            name_path,
            "must name the model_list entry to use",
            'add "model_name": "<a model_name of model_list>"',
        )
        return None
    else:
        matches = [i for i, e in enumerate(entries) if isinstance(e, dict) and e.get("model_name") == wanted]
        if not matches:
            known = [e.get("model_name") for e in entries if isinstance(e, dict)]
            names = ", ".join(show(k) for k in known if isinstance(k, str))[:300]
            ck.err(name_path, f"no model_list entry has model_name {show(wanted)}", f"use one of: {names}")
            return None
        if len(matches) > 1:
            ck.warn(
                child("$.model_list", matches[1]),
                "several entries share this model_name (load balancing); only the first is used",
                "keep one entry per model_name",
            )
        index = matches[0]
    path = child("$.model_list", index)
    entry = entries[index]
    if not isinstance(entry, dict):
        ck.err(
            path, f"must be a JSON object, got {json_type(entry)}", 'write {"model_name": ..., "model": ...}'
        )
        return None
    ck.ignored(entry, MODEL_LIST_ENTRY_KEYS, path, "model setting")
    full = check_model(ck, entry, path)
    if not full:
        return None
    protocol, _sep, model = full.partition("/") if "/" in full else ("openai", "", full)
    provider = MODEL_LIST_PROTOCOLS.get(protocol.lower())
    if provider is None or not model:
        ck.err(
            child(path, "model"),
            f"protocol {show(protocol)} is not supported by this gateway",
            'use "openai/<model>" (also for OpenAI-compatible servers, with api_base), '
            '"anthropic/<model>" or "openrouter/<vendor>/<model>"',
        )
        return None
    api_key = entry.get("api_key")
    key_path = child(path, "api_key")
    if "api_keys" in entry:
        keys = entry["api_keys"]
        if not isinstance(keys, list) or not keys:
            ck.err(child(path, "api_keys"), "must be a non-empty array of keys", 'write "api_keys": ["..."]')
            return None
        if len(keys) > 1:
            ck.warn(
                child(path, "api_keys"), "only the first key is used (no key rotation here)", "keep one key"
            )
        api_key = keys[0]
        key_path = child(child(path, "api_keys"), 0)
    api_base = ck.url(entry, "api_base", path, ("https", "http"))
    if api_base is not None and api_base.rstrip("/") in (
        DEFAULT_API_BASES[provider],
        "https://api.anthropic.com/v1",
    ):
        api_base = None  # the provider's own endpoint: keep the key-shape checks of the default
    return provider, model, api_key, api_base, path, key_path
