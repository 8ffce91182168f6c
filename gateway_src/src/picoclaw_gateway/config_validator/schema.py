"""What a config may hold: providers, channel types, known keys of both dialects, defaults.

DEFAULTS and DEFAULT_SYSTEM_PROMPT are the runtime defaults of the gateway too (config.py takes its
dataclass defaults from here): one place to change them.
"""

from __future__ import annotations

MAX_CONFIG_BYTES = 1024 * 1024

PROVIDERS = ("openrouter", "openai", "anthropic")
CHANNEL_TYPES = ("telegram", "discord", "slack")
DEFAULT_API_BASES = {
    "openrouter": "https://openrouter.ai/api/v1",
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
}
# Usual key prefixes; a mismatch is only a warning (compatible endpoints take other keys).
KEY_PREFIXES = {"openrouter": "sk-or-", "openai": "sk-", "anthropic": "sk-ant-"}

DEFAULT_SYSTEM_PROMPT = (
    "You are PicoClaw, a concise personal assistant reached through a chat app. "
    "Use the tools when they help; files you create live in the workspace."
)
DEFAULTS = {
    "max_tokens": 4096,
    "temperature": None,
    "llm_timeout_s": 120.0,
    "max_tool_iterations": 10,
    "history_limit": 20,
    "exec_enabled": True,
    "exec_timeout_s": 30.0,
    "exec_max_output_chars": 10000,
}

LLM_KEYS = ("provider", "api_key", "model", "api_base", "max_tokens", "temperature", "timeout_s")
CHANNEL_KEYS = (
    "type",
    "token",
    "bot_token",
    "app_token",
    "allowed_users",
    "allowed_user_ids",
    "api_base",
    "proxy",
)
AGENT_KEYS = ("system_prompt", "max_tool_iterations", "history_limit")
EXEC_KEYS = ("enabled", "timeout_s", "max_output_chars")
STACK_TOP_KEYS = ("llm", "channel", "channels", "agent", "tools")

UPSTREAM_PROVIDER_ALIASES = {"gpt": "openai", "claude": "anthropic"}
UPSTREAM_CHANNEL_KEYS = {
    "telegram": ("enabled", "token", "proxy", "allow_from", "api_base", "base_url"),
    "discord": ("enabled", "token", "proxy", "allow_from"),
    "slack": ("enabled", "bot_token", "app_token", "proxy", "allow_from"),
}
UPSTREAM_DEFAULTS_USED = (
    "model",
    "model_name",
    "provider",
    "max_tokens",
    "temperature",
    "max_tool_iterations",
)
# Upstream settings that make no sense here: the deployment fixes them.
UPSTREAM_DEFAULTS_IGNORED = ("workspace", "restrict_to_workspace")

# model_list "protocol/" prefixes this gateway can serve, and the provider each maps to
MODEL_LIST_PROTOCOLS = {
    "openai": "openai",
    "openrouter": "openrouter",
    "anthropic": "anthropic",
    "anthropic-messages": "anthropic",
}
MODEL_LIST_ENTRY_KEYS = ("model_name", "model", "api_key", "api_keys", "api_base", "_comment")


# v3 channel_list entries: these live next to "settings"
UPSTREAM_V3_CHANNEL_KEYS = ("enabled", "type", "allow_from", "settings")
UPSTREAM_SECTIONS = ("agents", "providers", "channels", "tools", "model_list", "channel_list", "version")
