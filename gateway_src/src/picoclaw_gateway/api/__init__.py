"""The OpenAI-compatible automation API (POST /v1/chat/completions, GET /v1/models), off by default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from picoclaw_gateway.api.server import ApiServer
    from picoclaw_gateway.api.settings import ApiConfig
    from picoclaw_gateway.channels.base import Channel
    from picoclaw_gateway.core import ChatCore


async def start_api(config: ApiConfig, core: ChatCore, channels: Mapping[str, Channel]) -> ApiServer | None:
    """The listening API server, or None when api.enabled is false (nothing of it is imported then).
    Raises OSError when the address cannot be bound."""
    if not config.enabled:
        return None
    from picoclaw_gateway.api.server import ApiServer
    from picoclaw_gateway.api.turns import Conversations

    conversations = Conversations(core, channels, config.mirror_channel, config.mirror_chat_id)
    server = ApiServer(config, conversations)
    await server.start()
    return server
