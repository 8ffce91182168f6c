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
# The chat services' own API bases, as the channels' libraries (aiogram, discord.py, slack_sdk) use them
# when a channel sets no api_base. The doctor and the wizard's checks call them.
DEFAULT_CHANNEL_API_BASES = {
    "telegram": "https://api.telegram.org",
    "discord": "https://discord.com/api/v10",
    "slack": "https://slack.com/api",
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
    # Largest LLM response body read. A 4,096-token answer is ~20 KB of JSON, a 64k-token one
    # (the largest outputs models offer) ~0.5 MB; past the cap the body is cut and the connection
    # dropped, so a runaway answer costs ~6x the cap in memory, not its full size several times.
    "llm_max_response_bytes": 1024 * 1024,
    "max_tool_iterations": 10,
    "history_limit": 20,
    # ~8 Telegram messages: a real answer fits, a runaway one is cut with a visible note.
    "max_reply_chars": 32000,
    # History sent with each request (~4 characters per token): ~24k tokens leaves room for the
    # system prompt, tools and the answer in a 32k-token context.
    "history_max_chars": 96000,
    "history_message_max_chars": 32000,
    "exec_enabled": True,
    "exec_timeout_s": 30.0,
    "exec_max_output_chars": 10000,
    "files_max_read_chars": 100000,
    "files_max_write_bytes": 1024 * 1024,
    "files_max_edit_bytes": 1024 * 1024,
    "sandbox_socket": None,  # None: a local subprocess sandbox (not isolated)
    # Assistant features (assistant.py). Budgets are per user and UTC day; None: no limit.
    "memory_enabled": True,
    "memory_max_chars": 4000,  # one chat's notes, sent with every request of that chat
    "heartbeat_enabled": False,
    "heartbeat_interval_minutes": 30.0,
    "daily_messages": 500,
    "daily_tokens": 2000000,
    "owner_daily_messages": None,
    "owner_daily_tokens": None,
    "group_mode": "mention",
    # Photos and voice notes (media.py). vision "auto": see media.vision_rule in docs/configuration.md.
    "vision": "auto",
    # A turn with an image holds ~8 copies of it (bytes, base64, the JSON request body...): 1 MiB costs
    # ~8 MB of RSS while it runs. Telegram photos at <= 2048 px are ~0.1-0.5 MB.
    "image_max_bytes": 1024 * 1024,
    "image_max_side_px": 2048,  # the vision APIs scale larger images down to ~1.5-2k px anyway
    "media_download_timeout_s": 60.0,
    "transcription_model": "whisper-1",
    "transcription_max_bytes": 4 * 1024 * 1024,  # ~17 min of a Telegram voice note (Opus, ~32 kbit/s)
    "transcription_max_seconds": 600,
    # Documents sent in chat (media.documents): streamed to the workspace's inbox/, never held in memory.
    "documents_enabled": True,
    "documents_max_bytes": 20 * 1024 * 1024,  # the Bot API's getFile limit: Telegram hands over no more
    "discord_upload_max_bytes": 10 * 1024 * 1024,  # Discord's upload limit in servers without boosts
    # A fallback model that failed (after its retries) is skipped for this long.
    "fallback_cooldown_s": 60.0,
    "reply_format": "markdown",  # replies.format
    "reply_live": False,  # replies.live: answers shown as they arrive (edited in place)
    # Telegram allows about one edit per second in a chat; a little slower leaves room for the rest.
    "reply_live_interval_s": 1.5,
    # schedules (schedules_section.py): reminders and recurring jobs
    "schedules_enabled": True,
    "schedules_timezone": "UTC",
    "schedules_max_jobs_per_chat": 20,
    "schedules_min_interval_s": 300,
    "schedules_missed_grace_s": 6 * 3600,
    "schedules_max_text_chars": 2000,
    # Web tools (gateway side, through the SSRF guard). A page's text is nearly always in its first MB
    # of HTML, and a fetch costs ~3x this at its peak (one runs at a time). 20,000 characters (~5k
    # tokens) is a long article and leaves room in the context.
    "web_fetch_enabled": True,
    "web_timeout_s": 20.0,
    "web_fetch_max_bytes": 1024 * 1024,
    "web_fetch_max_chars": 20000,
    "web_fetch_max_redirects": 5,
    "web_search_max_results": 5,
    # The automation API (OpenAI-compatible), off unless enabled; 127.0.0.1 only unless told.
    "api_enabled": False,
    "api_listen": "127.0.0.1",
    "api_port": 18791,
    "api_model": "picoclaw",
    "api_rate_limit_per_minute": 30,
}
# (lowest, highest) accepted for the size limits above. The highs keep one turn well inside the
# container's 128 MB and every tool call inside the sandbox protocol's 8 MiB frame.
BOUNDS = {
    "llm_max_response_bytes": (64 * 1024, 8 * 1024 * 1024),
    "max_reply_chars": (100, 200000),
    "history_max_chars": (1000, 2000000),
    "history_message_max_chars": (100, 1000000),
    "files_max_read_chars": (1000, 1000000),
    "files_max_write_bytes": (1024, 4 * 1024 * 1024),
    "files_max_edit_bytes": (1024, 4 * 1024 * 1024),
    "web_fetch_max_bytes": (16 * 1024, 16 * 1024 * 1024),
    "web_fetch_max_chars": (1000, 200000),
}
# A Unix socket path is at most 107 bytes (sun_path holds 108 with the final NUL).
MAX_SOCKET_PATH_BYTES = 107

LLM_KEYS = (
    "provider",
    "api_key",
    "model",
    "api_base",
    "max_tokens",
    "temperature",
    "timeout_s",
    "max_response_bytes",
    "fallbacks",
    "fallback_cooldown_s",
)
FALLBACK_KEYS = ("provider", "model", "api_key", "api_base")
MAX_FALLBACKS = 5
REPLIES_KEYS = ("format", "live", "live_interval_s")
REPLY_FORMATS = ("markdown", "plain")
CHANNEL_KEYS = (
    "type",
    "token",
    "bot_token",
    "app_token",
    "allowed_users",
    "allowed_user_ids",
    "api_base",
    "proxy",
    "group_mode",
    "allowed_groups",
)
AGENT_KEYS = (
    "system_prompt",
    "max_tool_iterations",
    "history_limit",
    "max_reply_chars",
    "history_max_chars",
    "history_message_max_chars",
)
EXEC_KEYS = ("enabled", "timeout_s", "max_output_chars")
FILES_KEYS = ("max_read_chars", "max_write_bytes", "max_edit_bytes")
SANDBOX_KEYS = ("socket",)
TOOLS_KEYS = ("exec", "files", "sandbox", "web")
WEB_KEYS = ("fetch", "search", "allow")
WEB_FETCH_KEYS = ("enabled", "timeout_s", "max_bytes", "max_chars", "max_redirects")
WEB_SEARCH_KEYS = ("provider", "api_key", "api_base", "max_results", "timeout_s")
SEARCH_PROVIDERS = ("brave", "tavily", "searxng")
API_KEYS = ("enabled", "listen", "port", "token", "model", "rate_limit_per_minute", "mirror_to")
# Upstream tools.read_file.max_read_file_size (bytes) maps to tools.files.max_read_chars;
# tools.cron.enabled to schedules.enabled.
UPSTREAM_TOOLS_USED = ("exec", "read_file", "cron", "web")
# Upstream tools.web.<provider> blocks this gateway can use (the others, e.g. duckduckgo, are ignored).
UPSTREAM_SEARCH_PROVIDERS = ("brave", "tavily")
STACK_TOP_KEYS = (
    "llm", "channel", "channels", "agent", "tools", "memory", "heartbeat", "budgets", "media",
    "replies", "schedules", "api",
)  # fmt: skip
MEMORY_KEYS = ("enabled", "max_chars")
HEARTBEAT_KEYS = ("enabled", "interval_minutes", "channel", "chat_id")
BUDGET_KEYS = ("daily_messages", "daily_tokens", "owner_daily_messages", "owner_daily_tokens")
GROUP_MODES = ("mention", "all")
SCHEDULES_KEYS = (
    "enabled",
    "timezone",
    "max_jobs_per_chat",
    "min_interval_s",
    "missed_grace_s",
    "max_text_chars",
)

UPSTREAM_PROVIDER_ALIASES = {"gpt": "openai", "claude": "anthropic"}
UPSTREAM_CHANNEL_KEYS = {
    "telegram": ("enabled", "token", "proxy", "allow_from", "api_base", "base_url", "group_trigger"),
    "discord": ("enabled", "token", "proxy", "allow_from", "group_trigger"),
    "slack": ("enabled", "bot_token", "app_token", "proxy", "allow_from", "group_trigger"),
}
UPSTREAM_DEFAULTS_USED = (
    "model",
    "model_name",
    "provider",
    "max_tokens",
    "temperature",
    "max_tool_iterations",
    "model_fallbacks",
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
UPSTREAM_V3_CHANNEL_KEYS = ("enabled", "type", "allow_from", "settings", "group_trigger")
UPSTREAM_SECTIONS = (
    "agents",
    "providers",
    "channels",
    "tools",
    "model_list",
    "channel_list",
    "version",
    "heartbeat",
)
