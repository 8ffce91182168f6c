"""LLM providers. A provider's module (and SDK) is imported only when the config selects it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from picoclaw_gateway.config import LLMConfig
    from picoclaw_gateway.providers.base import Provider


def create_provider(config: LLMConfig) -> Provider:
    if config.provider == "anthropic":
        from picoclaw_gateway.providers.anthropic import AnthropicProvider

        return AnthropicProvider(config)
    from picoclaw_gateway.providers.openai_compat import OpenAICompatProvider

    return OpenAICompatProvider(config)
