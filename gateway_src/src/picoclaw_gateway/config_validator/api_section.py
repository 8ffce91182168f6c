"""The normalized "api" section: the OpenAI-compatible automation API (off unless enabled)."""

from __future__ import annotations

import ipaddress

from .checker import Checker, child, show
from .schema import API_KEYS, CHANNEL_TYPES, DEFAULTS
from .tokens import placeholder_reason

MIN_TOKEN_CHARS = 32
_TOKEN_FIX = "generate one with `openssl rand -hex 32` and paste it"  # noqa: S105 - advice, not a secret


def api_defaults() -> dict:
    return {
        "enabled": DEFAULTS["api_enabled"],
        "listen": DEFAULTS["api_listen"],
        "port": DEFAULTS["api_port"],
        "token": None,
        "model": DEFAULTS["api_model"],
        "rate_limit_per_minute": DEFAULTS["api_rate_limit_per_minute"],
        "mirror_to": None,
    }


def _token(ck: Checker, section: dict, path: str) -> str | None:
    token = section.get("token")
    token_path = child(path, "token")
    if token is None or token == "":
        ck.err(token_path, "the API is enabled but has no token", f'add "token": "..." ({_TOKEN_FIX})')
        return None
    if not isinstance(token, str):
        ck.err(token_path, "must be a string", "put the token in double quotes")
        return None
    reason = placeholder_reason(token)
    if reason:
        ck.err(token_path, f"token {reason}", _TOKEN_FIX)
        return None
    if len(token) < MIN_TOKEN_CHARS or len(token) > 4096:
        ck.err(token_path, f"token is {len(token)} characters, needs {MIN_TOKEN_CHARS} to 4096",
               _TOKEN_FIX)  # fmt: skip
        return None
    return token


def _listen(ck: Checker, section: dict, path: str) -> str:
    raw = ck.string(section, "listen", path, example="127.0.0.1")
    if raw is None:
        return DEFAULTS["api_listen"]
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        ck.err(child(path, "listen"), f"{show(raw)} is not an IP address",
               'write "127.0.0.1" (this machine only) or "0.0.0.0" inside a container whose port '
               "is published on 127.0.0.1 or a private Docker network")  # fmt: skip
        return DEFAULTS["api_listen"]


def _mirror(ck: Checker, section: dict, path: str, channels: list) -> dict | None:
    mirror = section.get("mirror_to")
    if mirror is None:
        return None
    mirror_path = child(path, "mirror_to")
    example = '{"channel": "telegram", "chat_id": "123456789"}'
    if not isinstance(mirror, dict):
        ck.err(mirror_path, "must be an object", f"write {example}, or leave it out")
        return None
    ck.unknown_keys(mirror, ("channel", "chat_id"), mirror_path)
    kind = mirror.get("channel")
    chat_id = mirror.get("chat_id")
    if kind not in CHANNEL_TYPES:
        ck.err(child(mirror_path, "channel"), f"unknown channel {show(kind)}",
               "use one of: {}".format(", ".join(CHANNEL_TYPES)))  # fmt: skip
        return None
    if channels and kind not in [c.get("type") for c in channels]:
        ck.err(child(mirror_path, "channel"), f"no {kind} channel is configured",
               "name a configured channel, or configure that channel")  # fmt: skip
        return None
    if isinstance(chat_id, int) and not isinstance(chat_id, bool):
        chat_id = str(chat_id)
    if not isinstance(chat_id, str) or not chat_id.strip():
        ck.err(child(mirror_path, "chat_id"), "the chat to mirror API results to is missing",
               "write your own chat id (for Telegram your numeric user id)")  # fmt: skip
        return None
    return {"channel": kind, "chat_id": chat_id.strip()}


def build_api(ck: Checker, data: dict, channels: list) -> dict:
    out = api_defaults()
    section = ck.obj(data, "api", "$")
    if section is None:
        return out
    path = "$.api"
    ck.unknown_keys(section, API_KEYS, path)
    out["enabled"] = ck.boolean(section, "enabled", path, DEFAULTS["api_enabled"])
    out["listen"] = _listen(ck, section, path)
    out["port"] = ck.integer(section, "port", path, 1, 65535, DEFAULTS["api_port"])
    model = ck.string(section, "model", path, example="picoclaw")
    if model is not None and (not model.strip() or len(model) > 200):
        ck.err(child(path, "model"), "model must be a short non-empty name", 'write "model": "picoclaw"')
    elif model is not None:
        out["model"] = model.strip()
    out["rate_limit_per_minute"] = ck.integer(
        section, "rate_limit_per_minute", path, 1, 10000, DEFAULTS["api_rate_limit_per_minute"]
    )
    out["mirror_to"] = _mirror(ck, section, path, channels)
    if out["enabled"]:
        out["token"] = _token(ck, section, path)
    elif section.get("token"):
        out["token"] = section.get("token") if isinstance(section.get("token"), str) else None
    return out
