"""Whether photos may go to the configured model (media.vision)."""

from __future__ import annotations

# Model name parts of families that read images (OpenRouter ids carry the vendor: "openai/gpt-4o").
# A model not listed gets vision with media.vision: true; one listed that cannot, with false.
VISION_HINTS = (
    "gpt-4o", "gpt-4.1", "gpt-4-turbo", "gpt-5", "o3", "o4-", "claude", "gemini", "gemma-3", "llama-4",
    "vision", "-vl", "vl-", "pixtral", "mistral-medium", "mistral-small-3", "llava", "grok-4", "minicpm-v",
    "moondream", "qwen2.5-vl", "qwen3-vl", "glm-4.5v", "kimi-vl",
)  # fmt: skip


def vision_enabled(setting: str | bool, provider: str, model: str) -> bool:
    """true/false as configured; "auto": every Anthropic model (all current Claude models read
    images), otherwise a model whose name contains one of VISION_HINTS."""
    if isinstance(setting, bool):
        return setting
    if provider == "anthropic":
        return True
    name = model.lower()
    return any(hint in name for hint in VISION_HINTS)
