"""Chat channels. Each channel module is imported only when the config selects it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from picoclaw_gateway.channels.base import Channel
    from picoclaw_gateway.config import ChannelConfig


def create_channel(config: ChannelConfig) -> Channel:
    if config.type == "telegram":
        from picoclaw_gateway.channels.telegram import TelegramChannel

        return TelegramChannel(config)
    if config.type == "discord":
        from picoclaw_gateway.channels.discord import DiscordChannel

        return DiscordChannel(config)
    if config.type == "slack":
        from picoclaw_gateway.channels.slack import SlackChannel

        return SlackChannel(config)
    raise ValueError(f"unknown channel type {config.type!r} (use telegram, discord or slack)")
