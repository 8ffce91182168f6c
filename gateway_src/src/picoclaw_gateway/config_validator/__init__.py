"""Config validation for PicoClaw: the single source of truth.

STDLIB ONLY, Python >= 3.8 syntax. This package is imported by the gateway
(`picoclaw_gateway.config_validator`) and by the Ansible collection
(`plugins/module_utils/config_validator/` holds one symlink per file of this package), so
no file may import anything outside the standard library or this package (relative
imports only), print or exit.

Layout: schema (keys, defaults), result (Problem, ValidationResult), checker (paths and
typed field readers), tokens (secrets and their shapes), users (allowed user ids),
sections (normalized llm/channel/agent), tools_section (normalized tools), assistant (memory,
heartbeat, budgets, channel group settings), media (photos and voice), fallbacks (llm.fallbacks,
upstream model_fallbacks, the replies section), web_section (tools.web), api_section (the
automation API), stack /
upstream_llm / upstream (the two dialects), dispatch (validate), json_reading (validate_text,
validate_file), redaction.

CONTRACT:

    validate(data: object) -> ValidationResult              # already-parsed JSON, never raises
    validate_text(text: str | bytes) -> ValidationResult    # JSON parse, size cap, never raises
    validate_file(path: str) -> ValidationResult            # read errors reported, never raises
    redact(normalized: dict) -> dict                        # deep copy, secrets replaced by "***"
    MAX_CONFIG_BYTES = 1 MiB                                # bigger files/texts are rejected

    ValidationResult: valid: bool, dialect: str | None ("stack" | "upstream"),
                      errors: list[Problem], warnings: list[Problem],
                      normalized: dict | None (None when invalid);
                      as_dict() -> plain dict (problems as dicts, normalized REDACTED).
    Problem: path (JSON path like "$.channel.allowed_users[0]"), message, fix;
             str(problem) == f"{path}: {message} (fix: {fix})" on one line;
             as_dict() -> {"path", "message", "fix"}.
    Messages never contain secret values (api keys, tokens, proxy URLs): only their shape.

Accepted input (see gateway_src/docs/configuration.md for the user documentation):
    dialect "stack":    {"llm": {...}, "channel": {...}} or {"llm": {...}, "channels": [{...}, ...]},
                        optional "agent", "tools" and "replies"; channel spellings token|bot_token and
                        allowed_users|allowed_user_ids are synonyms.
    dialect "upstream": a sipeed/picoclaw config.json: agents.defaults + providers.<name> (classic)
                        or model_list (2026+); channels.<name> or channel_list.<name> (version 3,
                        secrets under "settings"); only telegram, discord, slack are used.
    Duplicate keys in one JSON object are an ERROR (JSON keeps only the last one silently).
    NaN/Infinity are errors (not JSON).

Normalized shape (every key always present, defaults filled in):
    {
      "llm": {"provider": "openrouter"|"openai"|"anthropic", "model": str,
              "api_key": str,             # "" only for openai with a custom api_base
              "api_base": str,            # provider default filled in, no trailing "/"
              "max_tokens": int, "temperature": float | None, "timeout_s": float,
              "max_response_bytes": int},
      "channels": [ {"type": "telegram"|"discord"|"slack", "token": str,
                     "app_token": str | None,          # slack only
                     "allowed_users": [str, ...],      # [] means open to everyone (warning)
                     "api_base": str | None, "proxy": str | None,
                     "group_mode": "mention"|"all", "allowed_groups": [str, ...]} ],
      "agent": {"system_prompt": str, "max_tool_iterations": int, "history_limit": int,
                "max_reply_chars": int, "history_max_chars": int, "history_message_max_chars": int},
      "tools": {"exec": {"enabled": bool, "timeout_s": float, "max_output_chars": int},
                "files": {"max_read_chars": int, "max_write_bytes": int, "max_edit_bytes": int},
                "sandbox": {"socket": str | None},       # None: a local subprocess sandbox
                "web": {"fetch": {"enabled": bool, "timeout_s": float, "max_bytes": int, "max_chars": int,
                                  "max_redirects": int},
                        "search": {"provider": "brave"|"tavily"|"searxng"|None, "api_key": str | None,
                                   "api_base": str | None, "max_results": int, "timeout_s": float},
                        "allow": [str, ...]}},           # addresses, networks (str(ip_network)), host names
      "api": {"enabled": bool, "listen": str, "port": int, "token": str | None, "model": str,
              "rate_limit_per_minute": int,
              "mirror_to": {"channel": str, "chat_id": str} | None},
      "memory": {"enabled": bool, "max_chars": int},
      "heartbeat": {"enabled": bool, "interval_minutes": float,
                    "channel": int, "chat_id": str | None},  # index into channels; the owner's chat
      "budgets": {"daily_messages": int | None, "daily_tokens": int | None,   # None: no limit
                  "owner_daily_messages": int | None, "owner_daily_tokens": int | None},
    }
"""

from __future__ import annotations

from .dispatch import validate
from .json_reading import validate_file, validate_text
from .redaction import redact
from .result import Problem, ValidationResult
from .schema import (
    AGENT_KEYS,
    BOUNDS,
    CHANNEL_KEYS,
    CHANNEL_TYPES,
    DEFAULT_API_BASES,
    DEFAULT_CHANNEL_API_BASES,
    DEFAULT_SYSTEM_PROMPT,
    DEFAULTS,
    EXEC_KEYS,
    FILES_KEYS,
    KEY_PREFIXES,
    LLM_KEYS,
    MAX_CONFIG_BYTES,
    MODEL_LIST_ENTRY_KEYS,
    MODEL_LIST_PROTOCOLS,
    PROVIDERS,
    SANDBOX_KEYS,
    STACK_TOP_KEYS,
    TOOLS_KEYS,
    UPSTREAM_CHANNEL_KEYS,
    UPSTREAM_DEFAULTS_IGNORED,
    UPSTREAM_DEFAULTS_USED,
    UPSTREAM_PROVIDER_ALIASES,
    UPSTREAM_SECTIONS,
    UPSTREAM_V3_CHANNEL_KEYS,
)

__all__ = [
    "AGENT_KEYS",
    "BOUNDS",
    "CHANNEL_KEYS",
    "CHANNEL_TYPES",
    "DEFAULTS",
    "DEFAULT_API_BASES",
    "DEFAULT_CHANNEL_API_BASES",
    "DEFAULT_SYSTEM_PROMPT",
    "EXEC_KEYS",
    "FILES_KEYS",
    "KEY_PREFIXES",
    "LLM_KEYS",
    "MAX_CONFIG_BYTES",
    "MODEL_LIST_ENTRY_KEYS",
    "MODEL_LIST_PROTOCOLS",
    "PROVIDERS",
    "SANDBOX_KEYS",
    "STACK_TOP_KEYS",
    "TOOLS_KEYS",
    "UPSTREAM_CHANNEL_KEYS",
    "UPSTREAM_DEFAULTS_IGNORED",
    "UPSTREAM_DEFAULTS_USED",
    "UPSTREAM_PROVIDER_ALIASES",
    "UPSTREAM_SECTIONS",
    "UPSTREAM_V3_CHANNEL_KEYS",
    "Problem",
    "ValidationResult",
    "redact",
    "validate",
    "validate_file",
    "validate_text",
]
