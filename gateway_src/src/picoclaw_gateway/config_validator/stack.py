"""The stack dialect: {"llm": {...}, "channel": {...}} or "channels": [...], plus agent and tools."""

from __future__ import annotations

from .api_section import build_api
from .assistant import build_assistant, group_settings
from .checker import Checker, child, json_type, show
from .fallbacks import build_replies, stack_fallbacks
from .media import build_media
from .schedules_section import build_schedules
from .schema import CHANNEL_KEYS, CHANNEL_TYPES, DEFAULTS, LLM_KEYS, PROVIDERS, STACK_TOP_KEYS
from .sections import (
    build_agent,
    build_llm,
    channel_entry,
    channel_tail,
    check_model,
    dedupe_tokens,
    limit,
)
from .tokens import check_api_key, check_channel_tokens
from .tools_section import build_tools
from .users import check_allowed_users


def _stack_channel(ck: Checker, section: dict, path: str) -> dict | None:
    kind = section.get("type")
    type_path = child(path, "type")
    if "type" not in section:
        if "app_token" in section:
            ck.err(type_path, "channel type is missing", 'add "type": "slack"')
        else:
            ck.err(type_path, "channel type is missing", 'add "type": "telegram" (or "discord" or "slack")')
        return None
    if not isinstance(kind, str) or kind not in CHANNEL_TYPES:
        if isinstance(kind, str) and kind.strip().lower() in CHANNEL_TYPES:
            ck.err(
                type_path,
                f"channel type {show(kind)} must be written in lowercase without spaces",
                f'write "{kind.strip().lower()}"',
            )
        else:
            ck.err(
                type_path,
                f"unknown channel type {show(kind)}",
                "use one of: {}".format(", ".join(CHANNEL_TYPES)),
            )
        return None
    ck.unknown_keys(section, CHANNEL_KEYS, path)

    token_key = "token"  # noqa: S105 - a key name, not a secret
    if "token" in section and "bot_token" in section:
        ck.err(
            child(path, "bot_token"),
            'both "token" and "bot_token" are set (they are the same setting)',
            "keep only one of them",
        )
    elif "bot_token" in section:
        token_key = "bot_token"  # noqa: S105 - a key name, not a secret
    field = "bot_token" if kind == "slack" else "token"
    token, app_token = check_channel_tokens(ck, kind, section, path, token_key, field)
    if kind != "slack" and "app_token" in section:
        ck.warn(child(path, "app_token"), "app_token is only used by slack channels", "remove it")

    users_key = "allowed_users"
    if "allowed_users" in section and "allowed_user_ids" in section:
        ck.err(
            child(path, "allowed_user_ids"),
            'both "allowed_users" and "allowed_user_ids" are set (they are the same setting)',
            "merge them into one list",
        )
    elif "allowed_user_ids" in section:
        users_key = "allowed_user_ids"
    users_path = child(path, users_key)
    if users_key not in section:
        users = []  # type: list | None
        if kind == "telegram":
            hint = ck.missing_hint(section, "allowed_users", CHANNEL_KEYS)
            ck.err(
                users_path,
                f"a telegram channel needs a non-empty allowed_users list{hint}",
                'add "allowed_users": [your numeric Telegram id] (ask @userinfobot for it)',
            )
    else:
        users = check_allowed_users(ck, kind, section[users_key], users_path, upstream=False)
        if section[users_key] == [] and kind == "telegram":
            ck.err(
                users_path,
                "a telegram channel needs at least one allowed user",
                "add your numeric Telegram id (ask @userinfobot for it)",
            )

    # Telegram: a Bot API server; Discord/Slack: the REST/Web API base (advanced, e.g. test doubles).
    api_base = ck.url(section, "api_base", path, ("https", "http"))
    proxy = ck.url(section, "proxy", path, ("http", "https", "socks5", "socks5h"), secret=True)
    groups = group_settings(ck, section, path, kind, upstream=False)
    entry = channel_entry(kind, token, app_token, users, api_base, proxy)
    return None if entry is None else {**entry, **groups}


def _stack_channels(ck: Checker, data: dict) -> list:
    if "channel" in data and "channels" in data:
        ck.err(
            "$.channels",
            'both "channel" and "channels" are set',
            'use "channel": {...} for one channel or "channels": [{...}, ...] for several, not both',
        )
        return []
    if "channel" in data:
        section = ck.obj(data, "channel", "$")
        if section is None:
            return []
        channel = _stack_channel(ck, section, "$.channel")
        if not channel:
            return []
        channel_tail(ck, channel, "$.channel", _users_path(section, "$.channel"), "")
        return dedupe_tokens(ck, [("$.channel", channel)])
    if "channels" not in data:
        hint = ck.missing_hint(data, "channel", STACK_TOP_KEYS)
        ck.err(
            "$.channel",
            f"no channel configured{hint}",
            'add "channel": {"type": "telegram", "token": "...", "allowed_users": [...]}',
        )
        return []
    raw = data["channels"]
    if not isinstance(raw, list):
        ck.err(
            "$.channels",
            f"must be an array of channel objects, got {json_type(raw)}",
            'write "channels": [{"type": ...}, ...] or use "channel": {...}',
        )
        return []
    if not raw:
        ck.err("$.channels", "the channel list is empty", "add at least one channel object")
        return []
    out = []
    for index, section in enumerate(raw):
        path = child("$.channels", index)
        if not isinstance(section, dict):
            ck.err(
                path,
                f"must be a channel object, got {json_type(section)}",
                'write {"type": "telegram", "token": "...", "allowed_users": [...]}',
            )
            continue
        channel = _stack_channel(ck, section, path)
        if channel:
            channel_tail(ck, channel, path, _users_path(section, path), f" #{index}")
            out.append((path, channel))
    return dedupe_tokens(ck, out)


def _users_path(section: dict, path: str) -> str:
    key = (
        "allowed_user_ids"
        if "allowed_user_ids" in section and "allowed_users" not in section
        else "allowed_users"
    )
    return child(path, key)


def _stack_llm(ck: Checker, data: dict) -> dict | None:
    if "llm" not in data:
        hint = ck.missing_hint(data, "llm", STACK_TOP_KEYS)
        ck.err(
            "$.llm",
            f"required section is missing{hint}",
            'add "llm": {"provider": "openrouter", "api_key": "...", "model": "..."}',
        )
        return None
    section = ck.obj(data, "llm", "$")
    if section is None:
        return None
    ck.unknown_keys(section, LLM_KEYS, "$.llm")
    provider = section.get("provider")
    if "provider" not in section:
        hint = ck.missing_hint(section, "provider", LLM_KEYS)
        ck.err(
            "$.llm.provider",
            f"provider is missing{hint}",
            'add "provider": "openrouter" (or "openai", "anthropic")',
        )
        provider = None
    elif not isinstance(provider, str) or provider not in PROVIDERS:
        if isinstance(provider, str) and provider.strip().lower() in PROVIDERS:
            fix = f'write "{provider.strip().lower()}" (lowercase)'
        else:
            fix = 'use one of: {} (OpenAI-compatible servers: "openai" plus api_base)'.format(
                ", ".join(PROVIDERS)
            )
        ck.err("$.llm.provider", f"unknown provider {show(provider)}", fix)
        provider = None
    model = check_model(ck, section, "$.llm")
    api_base = ck.url(section, "api_base", "$.llm", ("https", "http"))
    max_tokens = ck.integer(section, "max_tokens", "$.llm", 1, 1000000, DEFAULTS["max_tokens"])
    temperature = ck.number(section, "temperature", "$.llm", 0.0, 2.0, DEFAULTS["temperature"], nullable=True)
    timeout_s = ck.number(
        section, "timeout_s", "$.llm", 0.0, 600.0, DEFAULTS["llm_timeout_s"], low_inclusive=False
    )
    max_response_bytes = limit(ck, section, "max_response_bytes", "$.llm", "llm_max_response_bytes")
    if provider is None:
        return None
    api_key = check_api_key(ck, provider, section.get("api_key"), "$.llm.api_key", api_base is not None)
    return build_llm(
        provider,
        api_key,
        model,
        api_base,
        max_tokens,
        temperature,
        timeout_s,
        ck,
        "$.llm.api_base",
        max_response_bytes,
    )


def validate_stack(ck: Checker, data: dict) -> dict | None:
    ck.unknown_keys(data, STACK_TOP_KEYS, "$", what="section")
    llm = _stack_llm(ck, data)
    channels = _stack_channels(ck, data)
    agent = build_agent(ck, data, "$", DEFAULTS["max_tool_iterations"])
    tools = build_tools(ck, data, upstream=False)
    assistant = build_assistant(ck, data, channels, upstream=False)
    media = build_media(ck, data, upstream=False)
    replies = build_replies(ck, data)
    if llm is not None:
        llm.update(stack_fallbacks(ck, data["llm"], llm))
    schedules = build_schedules(ck, data)
    api = build_api(ck, data, channels)
    if ck.errors or llm is None:
        return None
    return {
        "llm": llm,
        "channels": channels,
        "agent": agent,
        "tools": tools,
        **assistant,
        "media": media,
        "replies": replies,
        "schedules": schedules,
        "api": api,
    }
