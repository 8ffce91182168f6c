"""The upstream (PicoClaw Go) dialect: a sipeed/picoclaw config.json; channels.<name> or
channel_list.<name> (version 3, secrets under "settings"); only telegram, discord, slack are used."""

from __future__ import annotations

from .api_section import api_defaults
from .assistant import build_assistant, group_settings
from .checker import Checker, child, json_type, show
from .fallbacks import upstream_fallbacks
from .media import build_media
from .schedules_section import upstream_schedules
from .schema import (
    DEFAULT_SYSTEM_PROMPT,
    DEFAULTS,
    UPSTREAM_CHANNEL_KEYS,
    UPSTREAM_SECTIONS,
    UPSTREAM_V3_CHANNEL_KEYS,
)
from .sections import channel_entry, channel_tail, dedupe_tokens
from .tokens import check_channel_tokens
from .tools_section import build_tools
from .upstream_llm import upstream_llm
from .users import check_allowed_users


def upstream_channels(ck: Checker, data: dict) -> list:
    """Classic/v2 `channels.<name>` or v3 `channel_list.<name>` (secrets under `settings`)."""
    top = "channel_list" if "channel_list" in data else "channels"
    section = ck.obj(data, top, "$", required=True)
    if section is None:
        return []
    top_path = child("$", top)
    found = []
    any_enabled = False
    for name, raw in section.items():
        path = child(top_path, name)
        if not isinstance(raw, dict):
            ck.err(
                path,
                f"must be a JSON object, got {json_type(raw)}",
                f'write {show(name)}: {{"enabled": ...}}',
            )
            continue
        if "enabled" in raw and not isinstance(raw["enabled"], bool):
            ck.boolean(raw, "enabled", path, False)  # reports the error
            any_enabled = True  # the user meant something: no extra "nothing enabled" error
            continue
        enabled = raw.get("enabled") is True
        kind = raw.get("type", name) if top == "channel_list" else name
        if not isinstance(kind, str):
            ck.err(
                child(path, "type"),
                f"must be a string, got {json_type(kind)}",
                f'write "type": {show(name)}',
            )
            any_enabled = True
            continue
        if kind not in UPSTREAM_CHANNEL_KEYS:
            if enabled:
                ck.warn(
                    child(path, "enabled"),
                    f"channel {show(kind)} is not supported by this gateway and is ignored",
                    "use telegram, discord or slack",
                )
            continue
        secrets, secrets_path = raw, path
        if top == "channel_list":
            secrets = raw.get("settings", {})
            secrets_path = child(path, "settings")
            if not isinstance(secrets, dict):
                if enabled:
                    ck.err(
                        secrets_path,
                        f"must be a JSON object, got {json_type(secrets)}",
                        'write "settings": {...}',
                    )
                    any_enabled = True
                continue
        if not enabled:
            if "enabled" not in raw and secrets.get("token" if kind != "slack" else "bot_token"):
                ck.warn(
                    path, 'has a token but no "enabled": true, so it is off', 'add "enabled": true to use it'
                )
            continue
        any_enabled = True
        channel = _upstream_channel(ck, kind, raw, path, secrets, secrets_path)
        if channel:
            channel_tail(ck, channel, path, child(path, "allow_from"), "")
            found.append((path, channel))
    if not any_enabled:
        ck.err(
            top_path,
            "no supported channel is enabled",
            f'set "enabled": true in {top}.telegram, {top}.discord or {top}.slack',
        )
    return dedupe_tokens(ck, found)


def _upstream_channel(
    ck: Checker, kind: str, raw: dict, path: str, secrets: dict, secrets_path: str
) -> dict | None:
    if secrets is raw:
        known = UPSTREAM_CHANNEL_KEYS[kind]
        pairs = [(raw, path, known)]
    else:
        pairs = [(raw, path, UPSTREAM_V3_CHANNEL_KEYS), (secrets, secrets_path, UPSTREAM_CHANNEL_KEYS[kind])]
    for section, section_path, known in pairs:
        ck.ignored(section, known, section_path, "upstream channel setting")
    field = "bot_token" if kind == "slack" else "token"
    token, app_token = check_channel_tokens(ck, kind, secrets, secrets_path, field, field)
    users_path = child(path, "allow_from")
    raw_users = raw.get("allow_from")
    users = [] if raw_users is None else check_allowed_users(ck, kind, raw_users, users_path, upstream=True)
    if users == [] and kind == "telegram" and (raw_users is None or raw_users == []):
        ck.err(
            users_path,
            "a telegram channel needs a non-empty allow_from list"
            + ck.missing_hint(raw, "allow_from", UPSTREAM_V3_CHANNEL_KEYS + UPSTREAM_CHANNEL_KEYS[kind]),
            'add your numeric Telegram id, e.g. "allow_from": ["123456789"] (ask @userinfobot)',
        )
        users = None
    base_key = "api_base" if "api_base" in secrets else "base_url"
    api_base = ck.url(secrets, base_key, secrets_path, ("https", "http")) if kind == "telegram" else None
    proxy = ck.url(secrets, "proxy", secrets_path, ("http", "https", "socks5", "socks5h"), secret=True)
    groups = group_settings(ck, raw, path, kind, upstream=True)
    entry = channel_entry(kind, token, app_token, users, api_base, proxy)
    return None if entry is None else {**entry, **groups}


def validate_upstream(ck: Checker, data: dict) -> dict | None:
    ck.ignored(data, UPSTREAM_SECTIONS, "$", "upstream section")
    if "channels" in data and "channel_list" in data:
        ck.warn("$.channels", "ignored: channel_list is used instead", "remove the old channels section")
    llm, max_iter = upstream_llm(ck, data)
    channels = upstream_channels(ck, data)
    agent = {
        "system_prompt": DEFAULT_SYSTEM_PROMPT,
        "max_tool_iterations": max_iter,
        "history_limit": DEFAULTS["history_limit"],
        "max_reply_chars": DEFAULTS["max_reply_chars"],
        "history_max_chars": DEFAULTS["history_max_chars"],
        "history_message_max_chars": DEFAULTS["history_message_max_chars"],
    }
    tools = build_tools(ck, data, upstream=True)
    assistant = build_assistant(ck, data, channels, upstream=True)
    if llm is not None:
        llm.update(upstream_fallbacks(ck, data, llm))
    schedules = upstream_schedules(ck, data)
    if ck.errors or llm is None:
        return None
    media = build_media(ck, data, upstream=True)  # defaults: upstream has no media section
    replies = {  # upstream formats Telegram replies too
        "format": DEFAULTS["reply_format"],
        "live": DEFAULTS["reply_live"],
        "live_interval_s": DEFAULTS["reply_live_interval_s"],
    }
    return {
        "llm": llm,
        "channels": channels,
        "agent": agent,
        "tools": tools,
        **assistant,
        "media": media,
        "replies": replies,
        "schedules": schedules,
        "api": api_defaults(),
    }
