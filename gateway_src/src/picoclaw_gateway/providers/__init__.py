"""LLM providers. A provider's module (and SDK) is imported only when the config selects it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from picoclaw_gateway.config import LLMConfig
    from picoclaw_gateway.providers.base import Provider


def create_provider(config: LLMConfig) -> Provider:
    """The configured model's provider; with llm.fallbacks, a chain of it and its fallbacks."""
    if not config.fallbacks:
        return _single(config)
    from picoclaw_gateway.providers.fallback import FallbackChain

    models = [(model.model, _single(model)) for model in (config, *config.fallbacks)]
    return FallbackChain(models, config.fallback_cooldown_s)


def _single(config: LLMConfig) -> Provider:
    if config.provider == "anthropic":
        from picoclaw_gateway.providers.anthropic import AnthropicProvider

        return AnthropicProvider(config)
    from picoclaw_gateway.providers.openai_compat import OpenAICompatProvider

    return OpenAICompatProvider(config)
