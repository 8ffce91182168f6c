"""The automation API's runtime settings, built from the validator's normalized "api" section."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from picoclaw_gateway.config_validator import DEFAULTS


@dataclass(frozen=True, slots=True)
class ApiConfig:
    enabled: bool = DEFAULTS["api_enabled"]
    listen: str = DEFAULTS["api_listen"]
    port: int = DEFAULTS["api_port"]
    token: str | None = field(default=None, repr=False)
    model: str = DEFAULTS["api_model"]
    rate_limit_per_minute: int = DEFAULTS["api_rate_limit_per_minute"]
    mirror_channel: str | None = None  # a channel type; with mirror_chat_id: where results are copied
    mirror_chat_id: str | None = None


def api_from_normalized(api: dict[str, Any]) -> ApiConfig:
    mirror = api["mirror_to"] or {}
    return ApiConfig(
        enabled=bool(api["enabled"]),
        listen=str(api["listen"]),
        port=int(api["port"]),
        token=api["token"],
        model=str(api["model"]),
        rate_limit_per_minute=int(api["rate_limit_per_minute"]),
        mirror_channel=mirror.get("channel"),
        mirror_chat_id=mirror.get("chat_id"),
    )
