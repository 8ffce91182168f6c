"""The assistant's own sections of both dialects: long-term memory, heartbeat, budgets, and each
channel's group settings (group_mode, allowed_groups).

The owner of a channel is the first id in its allowed_users: budgets spare the owner unless owner
limits are set, and the heartbeat messages the owner (on Telegram the private chat id is the user
id; on Discord and Slack the DM channel id differs, so heartbeat.chat_id is required there).
"""

from __future__ import annotations

from .checker import Checker, child, is_int, json_type, show
from .schema import BUDGET_KEYS, DEFAULTS, GROUP_MODES, HEARTBEAT_KEYS, MEMORY_KEYS

_MAX_GROUPS = 10000
_ID_EXAMPLE = {"telegram": "-1001234567890", "discord": "1234567890123456789", "slack": "C0123456789"}


def group_settings(ck: Checker, section: dict, path: str, kind: str, upstream: bool) -> dict:
    """group_mode ("mention" | "all") and allowed_groups (chat ids; [] = any group)."""
    mode = DEFAULTS["group_mode"]
    if upstream:
        trigger = ck.obj(section, "group_trigger", path) or {}
        trigger_path = child(path, "group_trigger")
        ck.ignored(trigger, ("mention_only",), trigger_path, "upstream group_trigger setting")
        if ck.boolean(trigger, "mention_only", trigger_path, True) is False:
            mode = "all"
    else:
        raw = section.get("group_mode", mode)
        if raw not in GROUP_MODES:
            ck.err(
                child(path, "group_mode"),
                f"unknown group mode {show(raw)}",
                'write "mention" (answer in groups when mentioned, replied to or given a command) or "all"',
            )
        else:
            mode = raw
    if mode == "all" and kind == "discord":
        ck.warn(
            child(path, "group_mode"),
            'group_mode "all" on Discord sees only messages that mention or reply to the bot '
            "(the bot does not ask for the privileged message content intent)",
            'keep "mention" on Discord',
        )
    # Upstream has no list of allowed groups: any group its allowed users write in.
    groups = (
        [] if upstream else _group_ids(ck, section.get("allowed_groups"), child(path, "allowed_groups"), kind)
    )
    return {"group_mode": mode, "allowed_groups": groups}


def _group_ids(ck: Checker, raw: object, path: str, kind: str) -> list:
    if raw is None:
        return []
    fix = f'write a list of group chat ids, e.g. ["{_ID_EXAMPLE[kind]}"]'
    if not isinstance(raw, list):
        ck.err(path, f"must be an array of chat ids, got {json_type(raw)}", fix)
        return []
    if len(raw) > _MAX_GROUPS:
        ck.err(path, f"lists {len(raw)} groups, limit {_MAX_GROUPS}", "list fewer groups")
        return []
    out = []
    for index, value in enumerate(raw):
        text = str(value) if is_int(value) else value
        if not isinstance(text, str) or not text.strip() or text != text.strip() or len(text) > 64:
            ck.err(child(path, index), f"is not a chat id: {show(value)}", fix)
            continue
        if text not in out:
            out.append(text)
    return out


def _limit(ck: Checker, section: dict, key: str, path: str, high: int) -> int | None:
    """A daily limit: a whole number, or null for no limit."""
    if section.get(key, DEFAULTS[key]) is None:
        return None
    return ck.integer(section, key, path, 1, high, DEFAULTS[key] or 1)


def _budgets(ck: Checker, data: dict) -> dict:
    section = ck.obj(data, "budgets", "$") or {}
    ck.unknown_keys(section, BUDGET_KEYS, "$.budgets")
    out = {}
    for key in BUDGET_KEYS:
        high = 10**6 if key.endswith("messages") else 10**12
        out[key] = _limit(ck, section, key, "$.budgets", high)
    return out


def _memory(ck: Checker, data: dict) -> dict:
    section = ck.obj(data, "memory", "$") or {}
    ck.unknown_keys(section, MEMORY_KEYS, "$.memory")
    return {
        "enabled": ck.boolean(section, "enabled", "$.memory", DEFAULTS["memory_enabled"]),
        "max_chars": ck.integer(section, "max_chars", "$.memory", 200, 50000, DEFAULTS["memory_max_chars"]),
    }


def _owner_chat(ck: Checker, channels: list, kind: str | None, chat_id: object, path: str) -> dict | None:
    """The heartbeat's chat: a channel index and chat id, or None after reporting."""
    index = next((i for i, c in enumerate(channels) if kind is None or c["type"] == kind), None)
    if index is None:
        ck.err(
            child(path, "channel"),
            f"no {show(kind)} channel is configured",
            "set heartbeat.channel to the type of a configured channel",
        )
        return None
    channel = channels[index]
    if chat_id is not None:
        if is_int(chat_id):
            chat_id = str(chat_id)
        if not isinstance(chat_id, str) or not chat_id.strip():
            ck.err(
                child(path, "chat_id"),
                f"must be a chat id string, got {json_type(chat_id)}",
                'write "chat_id": "123456789"',
            )
            return None
        return {"channel": index, "chat_id": chat_id}
    if channel["type"] == "telegram" and channel["allowed_users"]:
        return {"channel": index, "chat_id": channel["allowed_users"][0]}  # private chat id == user id
    ck.err(
        child(path, "chat_id"),
        "the heartbeat does not know which chat to message (the owner's chat)",
        "set heartbeat.chat_id to the owner's direct-message chat id on {} (the first allowed user "
        "is used only on Telegram)".format(channel["type"]),
    )
    return None


def _heartbeat(ck: Checker, data: dict, channels: list, upstream: bool) -> dict:
    section = ck.obj(data, "heartbeat", "$") or {}
    off = {
        "enabled": False,
        "interval_minutes": DEFAULTS["heartbeat_interval_minutes"],
        "channel": 0,
        "chat_id": None,
    }
    interval_key = "interval" if upstream else "interval_minutes"
    if upstream:
        ck.ignored(section, ("enabled", "interval"), "$.heartbeat", "upstream heartbeat setting")
    else:
        ck.unknown_keys(section, HEARTBEAT_KEYS, "$.heartbeat")
    enabled = ck.boolean(section, "enabled", "$.heartbeat", DEFAULTS["heartbeat_enabled"])
    interval = ck.number(
        section, interval_key, "$.heartbeat", 0.02, 1440.0, DEFAULTS["heartbeat_interval_minutes"]
    )
    if not enabled or not channels:
        return off
    if interval is not None and interval < 5:
        ck.warn(
            child("$.heartbeat", interval_key),
            f"a heartbeat every {interval:g} minutes is an LLM call each time",
            "use 5 minutes or more (shorter is for tests)",
        )
    if upstream:
        # Upstream sends to the last active chat; here the owner's Telegram chat, when there is one.
        target = next(
            (i for i, c in enumerate(channels) if c["type"] == "telegram" and c["allowed_users"]), None
        )
        if target is None:
            ck.warn(
                "$.heartbeat.enabled",
                "the heartbeat is off: no Telegram channel with allow_from names the owner",
                "add your Telegram id to allow_from, or set enabled to false",
            )
            return off
        owner = {"channel": target, "chat_id": channels[target]["allowed_users"][0]}
    else:
        kind = ck.string(section, "channel", "$.heartbeat", example="telegram")
        owner = _owner_chat(ck, channels, kind, section.get("chat_id"), "$.heartbeat")
        if owner is None:
            return off
    return {"enabled": True, "interval_minutes": interval, **owner}


def build_assistant(ck: Checker, data: dict, channels: list, upstream: bool) -> dict:
    """The normalized memory, heartbeat and budgets sections (upstream has only heartbeat)."""
    if upstream:
        memory = {"enabled": DEFAULTS["memory_enabled"], "max_chars": DEFAULTS["memory_max_chars"]}
        budgets = {key: DEFAULTS[key] for key in BUDGET_KEYS}
    else:
        memory = _memory(ck, data)
        budgets = _budgets(ck, data)
    return {"memory": memory, "heartbeat": _heartbeat(ck, data, channels, upstream), "budgets": budgets}
