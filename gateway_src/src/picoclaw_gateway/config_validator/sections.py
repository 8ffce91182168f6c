"""The normalized sections both dialects build: channel entries, llm and agent, and the warnings
that need a whole channel (tools are in tools_section.py)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from .checker import Checker, child, show
from .schema import AGENT_KEYS, BOUNDS, DEFAULT_API_BASES, DEFAULT_SYSTEM_PROMPT, DEFAULTS
from .tokens import placeholder_reason

_MODEL_OK = re.compile(r"^[^\s]+$")


def channel_tail(ck: Checker, channel: dict, path: str, users_path: str, index_note: str) -> None:
    """Warnings that depend on the whole channel (open bots)."""
    if channel["type"] != "telegram" and not channel["allowed_users"]:
        ck.warn(
            users_path,
            "{} channel{} has no allowed users: the bot answers EVERYONE who can message it".format(
                channel["type"], index_note
            ),
            "list the user ids that may use the bot (strongly recommended; it spends your LLM credit)",
        )


def channel_entry(
    kind: str,
    token: str | None,
    app_token: str | None,
    users: list | None,
    api_base: str | None,
    proxy: str | None,
) -> dict | None:
    """The normalized channel, or None when a required part failed (its error is already reported)."""
    if not token or (kind == "slack" and not app_token) or users is None:
        return None
    return {
        "type": kind,
        "token": token,
        "app_token": app_token,
        "allowed_users": users,
        "api_base": api_base,
        "proxy": proxy,
    }


def dedupe_tokens(ck: Checker, items: list) -> list:
    """Two channels polling with one bot token fight each other (Telegram answers 409)."""
    seen = {}  # type: dict
    out = []
    for path, channel in items:
        if channel["token"] in seen:
            ck.err(
                path,
                "uses the same bot token as {}".format(seen[channel["token"]]),
                "give each channel its own bot, or remove the duplicate channel",
            )
            continue
        seen[channel["token"]] = path
        out.append(channel)
        ck.channel_paths.append(path)
    return out


def check_model(ck: Checker, section: dict, path: str) -> str:
    model = ck.string(section, "model", path, required=True, example="openai/gpt-4o-mini")
    if model is None:
        return ""
    if not model.strip():
        ck.err(child(path, "model"), "model is empty", 'write the model id, e.g. "openai/gpt-4o-mini"')
        return ""
    if not _MODEL_OK.match(model):
        ck.err(child(path, "model"), "model id contains whitespace", "remove the spaces")
        return ""
    if placeholder_reason(model):
        ck.err(
            child(path, "model"),
            f"model {show(model)} looks like a placeholder",
            'write a real model id, e.g. "openai/gpt-4o-mini"',
        )
        return ""
    return model


def _is_local_host(host: str) -> bool:
    """Loopback, private addresses and single-label names (compose services) stay off the internet."""
    if "." not in host or host.endswith((".local", ".internal", ".lan")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def build_llm(
    provider: str,
    api_key: str,
    model: str,
    api_base: str | None,
    max_tokens: int,
    temperature: float | None,
    timeout_s: float | None,
    ck: Checker,
    base_path: str,
    max_response_bytes: int | None = None,
) -> dict:
    base = api_base or DEFAULT_API_BASES[provider]
    if provider == "anthropic" and base.endswith("/v1"):
        base = base[:-3]  # the Anthropic client appends /v1 itself
    parts = urlsplit(base)
    if parts.scheme == "http" and not _is_local_host(parts.hostname or "") and api_key:
        ck.warn(
            base_path,
            "api_base uses plain http: the API key travels unencrypted",
            "use https, or a local address",
        )
    return {
        "provider": provider,
        "api_key": api_key,
        "model": model,
        "api_base": base,
        "max_tokens": max_tokens,
        "temperature": temperature,
        "timeout_s": timeout_s if timeout_s is not None else DEFAULTS["llm_timeout_s"],
        "max_response_bytes": (
            max_response_bytes if max_response_bytes is not None else DEFAULTS["llm_max_response_bytes"]
        ),
    }


def limit(ck: Checker, section: dict, key: str, path: str, name: str) -> int:
    """A size limit of DEFAULTS/BOUNDS `name`, read from section[key]."""
    low, high = BOUNDS[name]
    return ck.integer(section, key, path, low, high, DEFAULTS[name])


def build_agent(ck: Checker, data: dict, path: str, max_iter_default: int) -> dict:
    section = ck.obj(data, "agent", path) if isinstance(data, dict) else None
    section = section or {}
    ck.unknown_keys(section, AGENT_KEYS, child(path, "agent"))
    prompt = ck.string(section, "system_prompt", child(path, "agent"), example="You are ...")
    if prompt is not None and len(prompt) > 100000:
        ck.err(
            child(child(path, "agent"), "system_prompt"),
            f"system_prompt is {len(prompt)} characters, limit 100000",
            "shorten it (it is sent with every message)",
        )
        prompt = None
    agent_path = child(path, "agent")
    history_max = limit(ck, section, "history_max_chars", agent_path, "history_max_chars")
    message_max = limit(ck, section, "history_message_max_chars", agent_path, "history_message_max_chars")
    if message_max > history_max and "history_message_max_chars" not in section:
        message_max = history_max  # the default per-message cap follows a smaller total
    elif message_max > history_max:
        ck.warn(
            child(agent_path, "history_message_max_chars"),
            f"is larger than history_max_chars ({message_max} > {history_max}): one long message "
            "leaves the history empty",
            f"set it to at most {history_max}",
        )
    return {
        "system_prompt": prompt if prompt and prompt.strip() else DEFAULT_SYSTEM_PROMPT,
        "max_tool_iterations": ck.integer(
            section, "max_tool_iterations", agent_path, 1, 50, max_iter_default
        ),
        "history_limit": ck.integer(section, "history_limit", agent_path, 0, 1000, DEFAULTS["history_limit"]),
        "max_reply_chars": limit(ck, section, "max_reply_chars", agent_path, "max_reply_chars"),
        "history_max_chars": history_max,
        "history_message_max_chars": message_max,
    }
