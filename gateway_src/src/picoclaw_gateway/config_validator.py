"""Config validation for PicoClaw: the single source of truth.

STDLIB ONLY, Python >= 3.8 syntax. This very file is imported by the gateway
(`picoclaw_gateway.config_validator`) and by the Ansible collection
(`plugins/module_utils/config_validator.py` is a symlink to it), so it must not
import anything outside the standard library or the rest of the gateway, must
not print and must not exit.

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
                        optional "agent" and "tools"; channel spellings token|bot_token and
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
              "max_tokens": int, "temperature": float | None, "timeout_s": float},
      "channels": [ {"type": "telegram"|"discord"|"slack", "token": str,
                     "app_token": str | None,          # slack only
                     "allowed_users": [str, ...],      # [] means open to everyone (warning)
                     "api_base": str | None, "proxy": str | None} ],
      "agent": {"system_prompt": str, "max_tool_iterations": int, "history_limit": int},
      "tools": {"exec": {"enabled": bool, "timeout_s": float, "max_output_chars": int}},
    }
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import json
import math
import os
import re
import stat
from urllib.parse import SplitResult, urlsplit, urlunsplit

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

_TELEGRAM_TOKEN = re.compile(r"^(\d+):([A-Za-z0-9_-]+)$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{6,20}$")
_MODEL_OK = re.compile(r"^[^\s]+$")
_PLACEHOLDER_WORDS = frozenset(
    (
        "changeme",
        "change_me",
        "change-me",
        "xxx",
        "todo",
        "secret",
        "token",
        "apikey",
        "api_key",
        "api-key",
        "key",
        "none",
        "null",
        "placeholder",
        "example",
        "test",
        "dummy",
    )
)
_BARE_PREFIXES = frozenset(("sk-", "sk-or-", "sk-or-v1-", "sk-ant-", "sk-proj-", "xoxb-", "xapp-", "xoxp-"))


class Problem:
    """One error or warning: where (JSON path), what is wrong, how to fix it."""

    __slots__ = ("fix", "message", "path")

    def __init__(self, path: str, message: str, fix: str) -> None:
        self.path = path
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.path}: {self.message} (fix: {self.fix})"

    def __repr__(self) -> str:
        return f"Problem({self.path!r}, {self.message!r}, {self.fix!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return (self.path, self.message, self.fix) == (other.path, other.message, other.fix)

    def __hash__(self) -> int:
        return hash((self.path, self.message, self.fix))

    def as_dict(self) -> dict:
        return {"path": self.path, "message": self.message, "fix": self.fix}


class ValidationResult:
    """Outcome of a validation; `normalized` is only set when there is no error."""

    def __init__(
        self, errors: list, warnings: list, dialect: str | None = None, normalized: dict | None = None
    ) -> None:
        self.errors = errors
        self.warnings = warnings
        self.dialect = dialect
        self.normalized = normalized if not errors else None

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "valid": self.valid,
            "dialect": self.dialect,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
            "normalized": redact(self.normalized) if self.normalized is not None else None,
        }

    def __repr__(self) -> str:
        return (
            f"ValidationResult(valid={self.valid!r}, dialect={self.dialect!r}, "
            f"errors={len(self.errors)}, warnings={len(self.warnings)})"
        )


# ---------------------------------------------------------------- small helpers


def _child(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    text = str(key)
    if re.match(r"^[A-Za-z_][A-Za-z0-9_-]*$", text) and len(text) <= 64:
        return f"{path}.{text}"
    return f"{path}[{_show(text)}]"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: object) -> str:
    """Non-secret value for a message: short, ASCII, never a long token-like string."""
    if isinstance(value, str):
        if len(value) > 40:
            return f"a {len(value)}-character string"
        return json.dumps(value)
    if value is None or isinstance(value, (bool, int)):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    return f"a JSON {_json_type(value)}"


def _suggest(key: str, known: tuple) -> str | None:
    found = difflib.get_close_matches(key.lower(), list(known), n=1, cutoff=0.6)
    return found[0] if found else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _placeholder_reason(value: str) -> str | None:
    """Why a secret value obviously cannot work, described without quoting it."""
    if value != value.strip():
        return "starts or ends with whitespace"
    if re.search(r"\s", value):
        return "contains whitespace"
    if "..." in value or "\u2026" in value:
        return "contains '...' (a shortened example, not a real value)"
    if "<" in value or ">" in value:
        return "contains '<' or '>' (a placeholder like <YOUR_KEY>)"
    lowered = value.lower()
    if lowered in _PLACEHOLDER_WORDS or lowered in _BARE_PREFIXES:
        return "is a placeholder, not a real value"
    if re.search(r"(^|[-_])x{3,}($|[-_])", lowered) or re.search(r"(^|[-_])your($|[-_])", lowered):
        return "is a placeholder from an example (contains 'xxx' or 'YOUR')"
    return None


def _split_url(raw: str) -> SplitResult | None:
    """urlsplit that also validates the port (None when the URL cannot be parsed)."""
    try:
        parts = urlsplit(raw)
        if parts.port == 0:
            return None
    except ValueError:
        return None
    return parts


# ---------------------------------------------------------------- the checker


class _Checker:
    """Collects problems while walking one config."""

    def __init__(self) -> None:
        self.errors = []  # type: list
        self.warnings = []  # type: list
        self.channel_paths = []  # type: list  # JSON path of each accepted channel, in order

    def err(self, path: str, message: str, fix: str) -> None:
        self.errors.append(Problem(path, message, fix))

    def warn(self, path: str, message: str, fix: str) -> None:
        self.warnings.append(Problem(path, message, fix))

    # -- generic field readers: each returns a clean value or None after reporting

    def obj(self, parent: dict, key: str, path: str, required: bool = False) -> dict | None:
        p = _child(path, key)
        if key not in parent:
            if required:
                self.err(
                    p, "required section is missing", f'add "{key}": {{ ... }} (see docs/configuration.md)'
                )
            return None
        value = parent[key]
        if not isinstance(value, dict):
            self.err(p, f"must be a JSON object, got {_json_type(value)}", f'write "{key}": {{ ... }}')
            return None
        return value

    def unknown_keys(self, section: dict, known: tuple, path: str, what: str = "key") -> None:
        for key in section:
            if key in known:
                continue
            if not isinstance(key, str):
                self.warn(path, "non-string key is ignored", "use only the documented keys")
                continue
            guess = _suggest(key, known)
            if guess:
                fix = f'did you mean "{guess}"? Rename it, or remove it'
            else:
                fix = "remove it; known {}s here: {}".format(what, ", ".join(known))
            self.warn(_child(path, key), f"unknown {what} {_show(key)} is ignored", fix)

    def ignored(self, section: dict, known: tuple, path: str, what: str) -> None:
        """One warning listing the upstream settings this gateway does not use."""
        extra = [key for key in section if key not in known]
        if len(extra) == 1:
            self.warn(
                _child(path, extra[0]),
                f"{what} {_show(extra[0])} is ignored by this gateway",
                "remove it, or keep it for the original PicoClaw",
            )
        elif extra:
            names = ", ".join(_show(key) for key in extra[:12])
            more = f" and {len(extra) - 12} more" if len(extra) > 12 else ""
            self.warn(
                path,
                f"{len(extra)} {what}s are ignored by this gateway: {names}{more}",
                "remove them, or keep them for the original PicoClaw",
            )

    def missing_hint(self, section: dict, key: str, known: tuple) -> str:
        """Fix text for a missing key, pointing at a likely typo of it."""
        for other in section:
            if isinstance(other, str) and other not in known and _suggest(other, (key,)):
                return f' (found {_show(other)}: is it a typo of "{key}"?)'
        return ""

    def string(
        self,
        parent: dict,
        key: str,
        path: str,
        required: bool = False,
        example: str = "...",
        secret: bool = False,
    ) -> str | None:
        p = _child(path, key)
        if key not in parent:
            if required:
                self.err(p, "required key is missing", f'add "{key}": "{example}"')
            return None
        value = parent[key]
        if not isinstance(value, str):
            if secret:
                self.err(p, f"must be a string, got {_json_type(value)}", "put the value in double quotes")
            else:
                self.err(p, f"must be a string, got {_json_type(value)}", f'write "{key}": "{example}"')
            return None
        return value

    def integer(self, parent: dict, key: str, path: str, low: int, high: int, default: int) -> int:
        p = _child(path, key)
        if key not in parent:
            return default
        value = parent[key]
        if isinstance(value, str) and re.match(r"^\s*-?\d+\s*$", value):
            self.err(
                p, f"must be a number, got the string {_show(value)}", f"write {value.strip()} without quotes"
            )
            return default
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            self.err(p, f"must be a whole number, got {value!r}", f"write {int(value)}")
            return default
        if not _is_int(value):
            self.err(
                p,
                f"must be a whole number, got {_json_type(value)}",
                f"write a number from {low} to {high}, e.g. {default}",
            )
            return default
        if not low <= value <= high:
            self.err(
                p,
                f"must be from {low} to {high}, got {value}",
                f"write a number from {low} to {high}, e.g. {default}",
            )
            return default
        return value

    def number(
        self,
        parent: dict,
        key: str,
        path: str,
        low: float,
        high: float,
        default: float | None,
        low_inclusive: bool = True,
        nullable: bool = False,
    ) -> float | None:
        p = _child(path, key)
        if key not in parent:
            return default
        value = parent[key]
        if value is None and nullable:
            return None
        bounds = "{}{:g} and <= {:g}".format(">= " if low_inclusive else "> ", low, high)
        if isinstance(value, str) and re.match(r"^\s*-?\d+(\.\d+)?\s*$", value):
            self.err(
                p, f"must be a number, got the string {_show(value)}", f"write {value.strip()} without quotes"
            )
            return default
        if not _is_number(value) or not math.isfinite(value):
            self.err(
                p,
                f"must be a number, got {_json_type(value)}",
                "write a number {}{}".format(bounds, " or null" if nullable else ""),
            )
            return default
        too_low = value < low if low_inclusive else value <= low
        if too_low or value > high:
            self.err(p, f"must be {bounds}, got {_show(value)}", f"write a number {bounds}")
            return default
        return float(value)

    def boolean(self, parent: dict, key: str, path: str, default: bool) -> bool:
        p = _child(path, key)
        if key not in parent:
            return default
        value = parent[key]
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "on", "off"):
            word = "true" if value.strip().lower() in ("true", "yes", "on") else "false"
            self.err(
                p, f"must be a JSON boolean, got the string {_show(value)}", f"use {word} without quotes"
            )
        else:
            self.err(
                p, f"must be a JSON boolean, got {_json_type(value)}", "use true or false without quotes"
            )
        return default

    def url(self, parent: dict, key: str, path: str, schemes: tuple, secret: bool = False) -> str | None:
        """Optional URL; "" means unset. Secret URLs (proxies) are described, never quoted."""
        raw = self.string(parent, key, path, example=schemes[0] + "://host:port")
        if raw is None or raw == "":
            return None
        p = _child(path, key)
        need = " or ".join(s + "://" for s in schemes)
        if re.search(r"\s", raw):
            self.err(p, "URL contains whitespace", "remove the spaces and line breaks")
            return None
        parts = _split_url(raw)
        if parts is None:
            self.err(p, "is not a valid URL (bad host or port)", f"write it like {schemes[0]}://host:port")
            return None
        host = parts.hostname
        if parts.scheme.lower() not in schemes:
            # a proxy written "user:password@host" parses as scheme "user": never echo it
            if not parts.scheme:
                shown = "no scheme"
            elif secret:
                shown = "an unsupported scheme"
            else:
                shown = f"scheme {_show(parts.scheme)}"
            self.err(p, f"URL has {shown}, needs {need}", f"start the URL with {need}")
            return None
        if not host:
            self.err(p, "URL has no host name", f"write it like {schemes[0]}://host:port")
            return None
        if not secret and parts.username is not None:
            self.warn(p, "URL contains a user name/password", "prefer a URL without credentials")
        return raw.rstrip("/") if not secret else raw


# ---------------------------------------------------------------- shared pieces


def _check_secret(ck: _Checker, value: str, path: str, what: str) -> bool:
    """Empty/placeholder check shared by every secret; True when it may be real."""
    if value == "":
        ck.err(path, f"{what} is empty", f"paste the real {what}")
        return False
    reason = _placeholder_reason(value)
    if reason:
        ck.err(path, f"{what} {reason}", f"paste the real {what} exactly, without spaces or quotes")
        return False
    if len(value) > 4096:
        ck.err(
            path,
            f"{what} is {len(value)} characters long, far too long for a real one",
            f"paste only the {what}",
        )
        return False
    return True


def _check_api_key(ck: _Checker, provider: str, key: object, path: str, custom_base: bool) -> str:
    if key is None or key == "":
        if custom_base and provider == "openai":
            return ""  # local OpenAI-compatible servers (Ollama, vLLM) often need no key
        ck.err(
            path,
            f'api_key is missing or empty for provider "{provider}"',
            f"paste your {provider} API key (it usually starts with {KEY_PREFIXES[provider]})",
        )
        return ""
    if not isinstance(key, str):
        ck.err(path, f"must be a string, got {_json_type(key)}", "put the API key in double quotes")
        return ""
    if not _check_secret(ck, key, path, "api_key"):
        return ""
    prefix = KEY_PREFIXES[provider]
    if not custom_base and not key.startswith(prefix):
        hint = ""
        for other, other_prefix in (("anthropic", "sk-ant-"), ("openrouter", "sk-or-")):
            if other != provider and key.startswith(other_prefix):
                hint = f"; it looks like an {other} key"
        ck.warn(
            path,
            f'{provider} keys usually start with "{prefix}", this one does not{hint}',
            f"check that the key belongs to {provider} (or set the provider that issued it)",
        )
    return key


def _check_token(ck: _Checker, kind: str, token: object, path: str, field: str) -> str:
    """Channel secrets: telegram/discord `token`, slack `bot_token`/`app_token`."""
    if token is None:
        ck.err(path, f"{field} is missing", _TOKEN_FIX[(kind, field)])
        return ""
    if not isinstance(token, str):
        ck.err(path, f"{field} must be a string, got {_json_type(token)}", "put the token in double quotes")
        return ""
    if kind == "discord" and token.lower().startswith(("bot ", "bearer ")):
        ck.err(
            path,
            'token starts with the word "{}"'.format(token.split(" ")[0]),
            "remove that prefix; paste only the token itself",
        )
        return ""
    if not _check_secret(ck, token, path, field):
        return ""
    if kind == "telegram":
        return token if _check_telegram_token(ck, token, path) else ""
    if kind == "discord":
        parts = token.split(".")
        sizes = "/".join(str(len(x)) for x in parts[:5])
        if len(parts) != 3 or not all(_B64URL.match(part) for part in parts):
            ck.err(
                path,
                f"token has {len(parts)} dot-separated part(s) of {sizes} characters; "
                "a Discord bot token has 3 base64url parts",
                _TOKEN_FIX[(kind, field)],
            )
            return ""
        return token
    want = "xoxb-" if field == "bot_token" else "xapp-"
    if not token.startswith(want):
        got = token[:5] if token[:5] in ("xoxb-", "xapp-", "xoxp-", "xoxa-", "xoxe-") else None
        shown = f'starts with "{got}"' if got else f'does not start with "{want}"'
        other = {"xoxb-": "bot_token", "xapp-": "app_token"}.get(got or "")
        swap = f" (that prefix belongs to the {other})" if other else ""
        ck.err(path, f"Slack {field} {shown}{swap}", _TOKEN_FIX[(kind, field)])
        return ""
    return token


def _channel_tokens(ck: _Checker, kind: str, section: dict, path: str, token_key: str, field: str) -> tuple:
    """(token, app_token) of one channel; "" for a bad one. Swapped Slack tokens are one error."""
    raw_token = section.get(token_key)
    if kind != "slack":
        return _check_token(ck, kind, raw_token, _child(path, token_key), field), None
    raw_app = section.get("app_token")
    swapped = isinstance(raw_token, str) and isinstance(raw_app, str)
    if swapped and raw_token.startswith("xapp-") and raw_app.startswith("xoxb-"):
        ck.err(
            _child(path, token_key),
            "bot_token and app_token are swapped (bot_token starts with xapp-, app_token with xoxb-)",
            "exchange the two values",
        )
        return "", ""
    token = _check_token(ck, kind, raw_token, _child(path, token_key), field)
    app_token = _check_token(ck, kind, raw_app, _child(path, "app_token"), "app_token")
    return token, app_token


_TOKEN_FIX = {
    (
        "telegram",
        "token",
    ): "use the token from @BotFather, shaped like 123456789:AA... (digits, ':', 35 characters)",
    ("discord", "token"): "use the bot token from Discord Developer Portal > Bot > Reset Token",
    ("slack", "bot_token"): "use the Bot User OAuth Token (starts with xoxb-) from OAuth & Permissions",
    (
        "slack",
        "app_token",
    ): "use an App-Level Token with connections:write (starts with xapp-) from Basic Information",
}


def _check_telegram_token(ck: _Checker, token: str, path: str) -> bool:
    fix = _TOKEN_FIX[("telegram", "token")]
    if ":" not in token:
        ck.err(path, "token has no ':' (a Telegram token is <bot id digits>:<secret>)", fix)
        return False
    bot_id, rest = token.split(":", 1)
    if not bot_id.isdigit() or not bot_id.isascii():
        ck.err(
            path,
            f"the part before ':' must be the bot id (digits only); its {len(bot_id)} character(s) "
            "are not all digits",
            fix,
        )
        return False
    if not _TELEGRAM_TOKEN.match(token):
        ck.err(path, "the part after ':' may only contain A-Z a-z 0-9 _ -", fix)
        return False
    if len(rest) < 30:
        ck.err(path, f"token has {len(rest)} characters after ':', needs 30 or more", fix)
        return False
    return True


def _user_id(ck: _Checker, kind: str, value: object, path: str, upstream: bool) -> str | None:
    """One allowed user as a canonical string, or None after reporting."""
    if kind in ("telegram", "discord"):
        text = None  # type: str | None
        if _is_int(value):
            if value <= 0:
                extra = " (a group/chat id? list people's user ids)" if value < 0 else ""
                ck.err(
                    path,
                    f"user id must be a positive number, got {value}{extra}",
                    "use the numeric user id of a person",
                )
                return None
            text = str(value)
        elif isinstance(value, str):
            text = value
            if upstream and kind == "telegram" and "|" in value:
                # Upstream logs senders as "id|username" and users paste that; the id decides.
                head = value.split("|", 1)[0]
                if head.isdigit():
                    ck.warn(
                        path,
                        'entry is "id|username"; only the numeric id is used',
                        "write just the number before '|'",
                    )
                    text = head
            if not (text.isdigit() and text.isascii()):
                if text.startswith("@") or re.match(r"^[A-Za-z][A-Za-z0-9_]{3,}$", text):
                    ck.err(
                        path,
                        f"{_show(value)} looks like a username; only numeric user ids are accepted "
                        "(usernames can be changed and reused)",
                        "replace it with the person's numeric user id",
                    )
                else:
                    ck.err(
                        path,
                        f"user id must be digits only, got {_show(value)}",
                        "write the numeric user id, e.g. 123456789",
                    )
                return None
            text = str(int(text))
            if text == "0":
                ck.err(
                    path, "user id must be a positive number, got 0", "use the numeric user id of a person"
                )
                return None
        else:
            ck.err(
                path,
                f"user id must be a whole number or a string of digits, got {_show(value)}"
                if isinstance(value, float)
                else f"user id must be a number or a string of digits, got {_json_type(value)}",
                "write the numeric user id, e.g. 123456789",
            )
            return None
        if kind == "discord" and not 17 <= len(text) <= 20:
            ck.err(
                path,
                f"a Discord user id (snowflake) has 17 to 20 digits, this one has {len(text)}",
                "copy the id with Developer Mode > right-click the user > Copy User ID",
            )
            return None
        return text
    if not isinstance(value, str):
        ck.err(
            path,
            f"Slack user id must be a string, got {_json_type(value)}",
            'write the member id in quotes, e.g. "U0123ABCD"',
        )
        return None
    if not _SLACK_USER.match(value):
        ck.err(
            path,
            f"{_show(value)} is not a Slack user id (U or W followed by 6-20 capital letters/digits)",
            'copy the Member ID from the user\'s profile (... > Copy member ID), e.g. "U0123ABCD"',
        )
        return None
    return value


def _allowed_users(ck: _Checker, kind: str, raw: object, path: str, upstream: bool) -> list | None:
    if not isinstance(raw, list):
        ck.err(path, f"must be an array of user ids, got {_json_type(raw)}", "write [123456789] (an array)")
        return None
    out = []  # type: list
    for index, value in enumerate(raw):
        item = _user_id(ck, kind, value, _child(path, index), upstream)
        if item is None:
            continue
        if item in out:
            ck.warn(_child(path, index), "user id listed twice", "remove the duplicate")
            continue
        out.append(item)
    return out


def _channel_tail(ck: _Checker, channel: dict, path: str, users_path: str, index_note: str) -> None:
    """Warnings that depend on the whole channel (open bots)."""
    if channel["type"] != "telegram" and not channel["allowed_users"]:
        ck.warn(
            users_path,
            "{} channel{} has no allowed users: the bot answers EVERYONE who can message it".format(
                channel["type"], index_note
            ),
            "list the user ids that may use the bot (strongly recommended; it spends your LLM credit)",
        )


# ---------------------------------------------------------------- stack dialect


def _stack_channel(ck: _Checker, section: dict, path: str) -> dict | None:
    kind = section.get("type")
    type_path = _child(path, "type")
    if "type" not in section:
        if "app_token" in section:
            ck.err(type_path, "channel type is missing", 'add "type": "slack"')
        else:
            ck.err(type_path, "channel type is missing", 'add "type": "telegram" (or "discord" or "slack")')
        return None
    if not isinstance(kind, str) or kind not in CHANNEL_TYPES:
        if isinstance(kind, str) and kind.strip().lower() in CHANNEL_TYPES:
            ck.err(
                type_path,
                f"channel type {_show(kind)} must be written in lowercase without spaces",
                f'write "{kind.strip().lower()}"',
            )
        else:
            ck.err(
                type_path,
                f"unknown channel type {_show(kind)}",
                "use one of: {}".format(", ".join(CHANNEL_TYPES)),
            )
        return None
    ck.unknown_keys(section, CHANNEL_KEYS, path)

    token_key = "token"  # noqa: S105 - a key name, not a secret
    if "token" in section and "bot_token" in section:
        ck.err(
            _child(path, "bot_token"),
            'both "token" and "bot_token" are set (they are the same setting)',
            "keep only one of them",
        )
    elif "bot_token" in section:
        token_key = "bot_token"  # noqa: S105 - a key name, not a secret
    field = "bot_token" if kind == "slack" else "token"
    token, app_token = _channel_tokens(ck, kind, section, path, token_key, field)
    if kind != "slack" and "app_token" in section:
        ck.warn(_child(path, "app_token"), "app_token is only used by slack channels", "remove it")

    users_key = "allowed_users"
    if "allowed_users" in section and "allowed_user_ids" in section:
        ck.err(
            _child(path, "allowed_user_ids"),
            'both "allowed_users" and "allowed_user_ids" are set (they are the same setting)',
            "merge them into one list",
        )
    elif "allowed_user_ids" in section:
        users_key = "allowed_user_ids"
    users_path = _child(path, users_key)
    if users_key not in section:
        users = []  # type: list | None
        if kind == "telegram":
            hint = ck.missing_hint(section, "allowed_users", CHANNEL_KEYS)
            ck.err(
                users_path,
                f"a telegram channel needs a non-empty allowed_users list{hint}",
                'add "allowed_users": [your numeric Telegram id] (ask @userinfobot for it)',
            )
    else:
        users = _allowed_users(ck, kind, section[users_key], users_path, upstream=False)
        if section[users_key] == [] and kind == "telegram":
            ck.err(
                users_path,
                "a telegram channel needs at least one allowed user",
                "add your numeric Telegram id (ask @userinfobot for it)",
            )

    # Telegram: a Bot API server; Discord/Slack: the REST/Web API base (advanced, e.g. test doubles).
    api_base = ck.url(section, "api_base", path, ("https", "http"))
    proxy = ck.url(section, "proxy", path, ("http", "https", "socks5", "socks5h"), secret=True)
    return _channel_entry(kind, token, app_token, users, api_base, proxy)


def _channel_entry(
    kind: str,
    token: str | None,
    app_token: str | None,
    users: list | None,
    api_base: str | None,
    proxy: str | None,
) -> dict | None:
    """The normalized channel, or None when a required part failed (its error is already reported)."""
    if not token or (kind == "slack" and not app_token) or users is None:
        return None
    return {
        "type": kind,
        "token": token,
        "app_token": app_token,
        "allowed_users": users,
        "api_base": api_base,
        "proxy": proxy,
    }


def _stack_channels(ck: _Checker, data: dict) -> list:
    if "channel" in data and "channels" in data:
        ck.err(
            "$.channels",
            'both "channel" and "channels" are set',
            'use "channel": {...} for one channel or "channels": [{...}, ...] for several, not both',
        )
        return []
    if "channel" in data:
        section = ck.obj(data, "channel", "$")
        if section is None:
            return []
        channel = _stack_channel(ck, section, "$.channel")
        if not channel:
            return []
        _channel_tail(ck, channel, "$.channel", _users_path(section, "$.channel"), "")
        return _dedupe_tokens(ck, [("$.channel", channel)])
    if "channels" not in data:
        hint = ck.missing_hint(data, "channel", STACK_TOP_KEYS)
        ck.err(
            "$.channel",
            f"no channel configured{hint}",
            'add "channel": {"type": "telegram", "token": "...", "allowed_users": [...]}',
        )
        return []
    raw = data["channels"]
    if not isinstance(raw, list):
        ck.err(
            "$.channels",
            f"must be an array of channel objects, got {_json_type(raw)}",
            'write "channels": [{"type": ...}, ...] or use "channel": {...}',
        )
        return []
    if not raw:
        ck.err("$.channels", "the channel list is empty", "add at least one channel object")
        return []
    out = []
    for index, section in enumerate(raw):
        path = _child("$.channels", index)
        if not isinstance(section, dict):
            ck.err(
                path,
                f"must be a channel object, got {_json_type(section)}",
                'write {"type": "telegram", "token": "...", "allowed_users": [...]}',
            )
            continue
        channel = _stack_channel(ck, section, path)
        if channel:
            _channel_tail(ck, channel, path, _users_path(section, path), f" #{index}")
            out.append((path, channel))
    return _dedupe_tokens(ck, out)


def _users_path(section: dict, path: str) -> str:
    key = (
        "allowed_user_ids"
        if "allowed_user_ids" in section and "allowed_users" not in section
        else "allowed_users"
    )
    return _child(path, key)


def _dedupe_tokens(ck: _Checker, items: list) -> list:
    """Two channels polling with one bot token fight each other (Telegram answers 409)."""
    seen = {}  # type: dict
    out = []
    for path, channel in items:
        if channel["token"] in seen:
            ck.err(
                path,
                "uses the same bot token as {}".format(seen[channel["token"]]),
                "give each channel its own bot, or remove the duplicate channel",
            )
            continue
        seen[channel["token"]] = path
        out.append(channel)
        ck.channel_paths.append(path)
    return out


def _stack_llm(ck: _Checker, data: dict) -> dict | None:
    if "llm" not in data:
        hint = ck.missing_hint(data, "llm", STACK_TOP_KEYS)
        ck.err(
            "$.llm",
            f"required section is missing{hint}",
            'add "llm": {"provider": "openrouter", "api_key": "...", "model": "..."}',
        )
        return None
    section = ck.obj(data, "llm", "$")
    if section is None:
        return None
    ck.unknown_keys(section, LLM_KEYS, "$.llm")
    provider = section.get("provider")
    if "provider" not in section:
        hint = ck.missing_hint(section, "provider", LLM_KEYS)
        ck.err(
            "$.llm.provider",
            f"provider is missing{hint}",
            'add "provider": "openrouter" (or "openai", "anthropic")',
        )
        provider = None
    elif not isinstance(provider, str) or provider not in PROVIDERS:
        if isinstance(provider, str) and provider.strip().lower() in PROVIDERS:
            fix = f'write "{provider.strip().lower()}" (lowercase)'
        else:
            fix = 'use one of: {} (OpenAI-compatible servers: "openai" plus api_base)'.format(
                ", ".join(PROVIDERS)
            )
        ck.err("$.llm.provider", f"unknown provider {_show(provider)}", fix)
        provider = None
    model = _model(ck, section, "$.llm")
    api_base = ck.url(section, "api_base", "$.llm", ("https", "http"))
    max_tokens = ck.integer(section, "max_tokens", "$.llm", 1, 1000000, DEFAULTS["max_tokens"])
    temperature = ck.number(section, "temperature", "$.llm", 0.0, 2.0, DEFAULTS["temperature"], nullable=True)
    timeout_s = ck.number(
        section, "timeout_s", "$.llm", 0.0, 600.0, DEFAULTS["llm_timeout_s"], low_inclusive=False
    )
    if provider is None:
        return None
    api_key = _check_api_key(ck, provider, section.get("api_key"), "$.llm.api_key", api_base is not None)
    return _llm(provider, api_key, model, api_base, max_tokens, temperature, timeout_s, ck, "$.llm.api_base")


def _model(ck: _Checker, section: dict, path: str) -> str:
    model = ck.string(section, "model", path, required=True, example="openai/gpt-4o-mini")
    if model is None:
        return ""
    if not model.strip():
        ck.err(_child(path, "model"), "model is empty", 'write the model id, e.g. "openai/gpt-4o-mini"')
        return ""
    if not _MODEL_OK.match(model):
        ck.err(_child(path, "model"), "model id contains whitespace", "remove the spaces")
        return ""
    if _placeholder_reason(model):
        ck.err(
            _child(path, "model"),
            f"model {_show(model)} looks like a placeholder",
            'write a real model id, e.g. "openai/gpt-4o-mini"',
        )
        return ""
    return model


def _is_local_host(host: str) -> bool:
    """Loopback, private addresses and single-label names (compose services) stay off the internet."""
    if "." not in host or host.endswith((".local", ".internal", ".lan")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def _llm(
    provider: str,
    api_key: str,
    model: str,
    api_base: str | None,
    max_tokens: int,
    temperature: float | None,
    timeout_s: float | None,
    ck: _Checker,
    base_path: str,
) -> dict:
    base = api_base or DEFAULT_API_BASES[provider]
    if provider == "anthropic" and base.endswith("/v1"):
        base = base[:-3]  # the Anthropic client appends /v1 itself
    parts = urlsplit(base)
    if parts.scheme == "http" and not _is_local_host(parts.hostname or "") and api_key:
        ck.warn(
            base_path,
            "api_base uses plain http: the API key travels unencrypted",
            "use https, or a local address",
        )
    return {
        "provider": provider,
        "api_key": api_key,
        "model": model,
        "api_base": base,
        "max_tokens": max_tokens,
        "temperature": temperature,
        "timeout_s": timeout_s if timeout_s is not None else DEFAULTS["llm_timeout_s"],
    }


def _agent(ck: _Checker, data: dict, path: str, max_iter_default: int) -> dict:
    section = ck.obj(data, "agent", path) if isinstance(data, dict) else None
    section = section or {}
    ck.unknown_keys(section, AGENT_KEYS, _child(path, "agent"))
    prompt = ck.string(section, "system_prompt", _child(path, "agent"), example="You are ...")
    if prompt is not None and len(prompt) > 100000:
        ck.err(
            _child(_child(path, "agent"), "system_prompt"),
            f"system_prompt is {len(prompt)} characters, limit 100000",
            "shorten it (it is sent with every message)",
        )
        prompt = None
    return {
        "system_prompt": prompt if prompt and prompt.strip() else DEFAULT_SYSTEM_PROMPT,
        "max_tool_iterations": ck.integer(
            section, "max_tool_iterations", _child(path, "agent"), 1, 50, max_iter_default
        ),
        "history_limit": ck.integer(
            section, "history_limit", _child(path, "agent"), 0, 1000, DEFAULTS["history_limit"]
        ),
    }


def _tools(ck: _Checker, data: dict, upstream: bool) -> dict:
    section = ck.obj(data, "tools", "$") or {}
    known = ("exec",)
    if upstream:
        ck.ignored(section, known, "$.tools", "upstream tool setting")
    else:
        ck.unknown_keys(section, known, "$.tools", what="tool")
    exec_section = ck.obj(section, "exec", "$.tools") or {}
    if upstream:
        ck.ignored(exec_section, EXEC_KEYS, "$.tools.exec", "upstream exec setting")
    else:
        ck.unknown_keys(exec_section, EXEC_KEYS, "$.tools.exec")
    return {
        "exec": {
            "enabled": ck.boolean(exec_section, "enabled", "$.tools.exec", DEFAULTS["exec_enabled"]),
            "timeout_s": ck.number(
                exec_section,
                "timeout_s",
                "$.tools.exec",
                0.0,
                600.0,
                DEFAULTS["exec_timeout_s"],
                low_inclusive=False,
            ),
            "max_output_chars": ck.integer(
                exec_section,
                "max_output_chars",
                "$.tools.exec",
                100,
                1000000,
                DEFAULTS["exec_max_output_chars"],
            ),
        }
    }


def _stack(ck: _Checker, data: dict) -> dict | None:
    ck.unknown_keys(data, STACK_TOP_KEYS, "$", what="section")
    llm = _stack_llm(ck, data)
    channels = _stack_channels(ck, data)
    agent = _agent(ck, data, "$", DEFAULTS["max_tool_iterations"])
    tools = _tools(ck, data, upstream=False)
    if ck.errors or llm is None:
        return None
    return {"llm": llm, "channels": channels, "agent": agent, "tools": tools}


# ---------------------------------------------------------------- upstream dialect


def _upstream_provider(ck: _Checker, providers: dict, defaults: dict, model: str) -> tuple:
    """Pick the one provider to use; returns (name, section) or (None, None) after reporting."""
    for name, section in providers.items():
        p = _child("$.providers", name)
        if not isinstance(section, dict):
            ck.err(
                p,
                f"must be a JSON object, got {_json_type(section)}",
                f'write {_show(name)}: {{"api_key": "..."}}',
            )
            continue
        if name not in PROVIDERS and section.get("api_key") not in (None, ""):
            ck.warn(
                p,
                f"provider {_show(name)} is not supported by this gateway and is ignored",
                "use openrouter, openai or anthropic (OpenAI-compatible servers: openai + api_base)",
            )
    candidates = []
    for name in PROVIDERS:
        section = providers.get(name)
        if isinstance(section, dict) and (
            section.get("api_key") not in (None, "")
            or (name == "openai" and section.get("api_base") not in (None, ""))
        ):
            candidates.append(name)
    wanted = defaults.get("provider")
    if wanted not in (None, ""):
        if not isinstance(wanted, str):
            ck.err(
                "$.agents.defaults.provider",
                f"must be a string, got {_json_type(wanted)}",
                'write "provider": "openrouter"',
            )
            return None, None
        name = UPSTREAM_PROVIDER_ALIASES.get(wanted.lower(), wanted.lower())
        if name not in PROVIDERS:
            ck.err(
                "$.agents.defaults.provider",
                f"provider {_show(wanted)} is not supported by this gateway",
                "use openrouter, openai or anthropic",
            )
            return None, None
        if name not in candidates:
            ck.err(
                _child("$.providers", name),
                f'agents.defaults.provider is "{name}" but providers.{name} has no api_key',
                f"set providers.{name}.api_key",
            )
            return None, None
        return name, providers[name]
    if not candidates:
        ck.err(
            "$.providers",
            "no supported provider has an api_key",
            "set providers.openrouter.api_key (or openai / anthropic)",
        )
        return None, None
    if len(candidates) == 1:
        return candidates[0], providers[candidates[0]]
    chosen = _provider_for_model(model, candidates)
    if chosen is None:
        ck.err(
            "$.providers",
            "several providers have an api_key ({}) and the model {} does not tell which to use".format(
                ", ".join(candidates), _show(model)
            ),
            "set agents.defaults.provider to one of them, or empty the other api_key values",
        )
        return None, None
    ck.warn(
        _child("$.providers", chosen),
        "several providers have an api_key ({}); using {} for model {}".format(
            ", ".join(candidates), chosen, _show(model)
        ),
        "set agents.defaults.provider to make the choice explicit",
    )
    return chosen, providers[chosen]


def _provider_for_model(model: str, candidates: list) -> str | None:
    """Documented rule: vendor/model ids -> openrouter; claude -> anthropic; gpt/o1/o3/o4 -> openai."""
    lowered = model.lower()
    if "/" in lowered and "openrouter" in candidates:
        return "openrouter"
    if "claude" in lowered and "anthropic" in candidates:
        return "anthropic"
    if re.match(r"^(gpt|o\d|chatgpt)", lowered) and "openai" in candidates:
        return "openai"
    return None


def _upstream_defaults(ck: _Checker, data: dict) -> tuple:
    """agents.defaults: (section, model name or "", max_tokens, temperature, max_tool_iterations)."""
    agents = ck.obj(data, "agents", "$")
    defaults = ck.obj(agents, "defaults", "$.agents") if agents is not None else None
    ck.ignored(agents or {}, ("defaults",), "$.agents", "upstream agent setting")
    path = "$.agents.defaults"
    if defaults is None:
        if agents is None or "defaults" not in agents:
            ck.err(
                path,
                "missing: upstream configs name the model in agents.defaults",
                'add "agents": {"defaults": {"model": "..."}}',
            )
        defaults = {}
    if defaults.get("restrict_to_workspace") is False:
        ck.warn(
            _child(path, "restrict_to_workspace"),
            "ignored: tools are always confined to the workspace",
            "remove it",
        )
    ck.ignored(defaults, UPSTREAM_DEFAULTS_USED + UPSTREAM_DEFAULTS_IGNORED, path, "upstream agent default")
    model = ""
    if "model_list" not in data and defaults:
        model = _model(ck, defaults, path)
    max_tokens = ck.integer(defaults, "max_tokens", path, 1, 1000000, DEFAULTS["max_tokens"])
    temperature = ck.number(defaults, "temperature", path, 0.0, 2.0, DEFAULTS["temperature"], nullable=True)
    max_iter = ck.integer(defaults, "max_tool_iterations", path, 1, 50, DEFAULTS["max_tool_iterations"])
    return defaults, model, max_tokens, temperature, max_iter


def _upstream_llm(ck: _Checker, data: dict) -> tuple:
    """(normalized llm or None, max_tool_iterations) from the classic or the model_list layout."""
    defaults, model, max_tokens, temperature, max_iter = _upstream_defaults(ck, data)
    if "model_list" in data:
        if "providers" in data:
            ck.warn("$.providers", "ignored: model_list is used instead", "remove the old providers section")
        picked = _model_list_entry(ck, data, defaults)
        if picked is None:
            return None, max_iter
        name, model, api_key, api_base, path, key_path = picked
        base_path = _child(path, "api_base")
    else:
        providers = ck.obj(data, "providers", "$", required=True)
        if providers is None:
            return None, max_iter
        name, section = _upstream_provider(ck, providers, defaults, model)
        if name is None:
            return None, max_iter
        ppath = _child("$.providers", name)
        ck.ignored(section, ("api_key", "api_base"), ppath, "provider setting")
        api_base = ck.url(section, "api_base", ppath, ("https", "http"))
        api_key = section.get("api_key")
        key_path = _child(ppath, "api_key")
        base_path = _child(ppath, "api_base")
    api_key = _check_api_key(ck, name, api_key, key_path, api_base is not None)
    return _llm(name, api_key, model, api_base, max_tokens, temperature, None, ck, base_path), max_iter


# model_list "protocol/" prefixes this gateway can serve, and the provider each maps to
MODEL_LIST_PROTOCOLS = {
    "openai": "openai",
    "openrouter": "openrouter",
    "anthropic": "anthropic",
    "anthropic-messages": "anthropic",
}
MODEL_LIST_ENTRY_KEYS = ("model_name", "model", "api_key", "api_keys", "api_base", "_comment")


def _model_list_entry(ck: _Checker, data: dict, defaults: dict) -> tuple | None:
    """Newer upstream layout: pick the model_list entry named by agents.defaults.model_name."""
    entries = data["model_list"]
    if not isinstance(entries, list) or not entries:
        ck.err("$.model_list", "must be a non-empty array of model entries", "add the model you use")
        return None
    name_key = "model_name" if "model_name" in defaults else "model"
    wanted = defaults.get(name_key)
    name_path = _child("$.agents.defaults", name_key)
    if wanted is None and len(entries) == 1:
        index = 0
    elif not isinstance(wanted, str) or not wanted:
        ck.err(
            name_path,
            "must name the model_list entry to use",
            'add "model_name": "<a model_name of model_list>"',
        )
        return None
    else:
        matches = [i for i, e in enumerate(entries) if isinstance(e, dict) and e.get("model_name") == wanted]
        if not matches:
            known = [e.get("model_name") for e in entries if isinstance(e, dict)]
            names = ", ".join(_show(k) for k in known if isinstance(k, str))[:300]
            ck.err(name_path, f"no model_list entry has model_name {_show(wanted)}", f"use one of: {names}")
            return None
        if len(matches) > 1:
            ck.warn(
                _child("$.model_list", matches[1]),
                "several entries share this model_name (load balancing); only the first is used",
                "keep one entry per model_name",
            )
        index = matches[0]
    path = _child("$.model_list", index)
    entry = entries[index]
    if not isinstance(entry, dict):
        ck.err(
            path, f"must be a JSON object, got {_json_type(entry)}", 'write {"model_name": ..., "model": ...}'
        )
        return None
    ck.ignored(entry, MODEL_LIST_ENTRY_KEYS, path, "model setting")
    full = _model(ck, entry, path)
    if not full:
        return None
    protocol, _sep, model = full.partition("/") if "/" in full else ("openai", "", full)
    provider = MODEL_LIST_PROTOCOLS.get(protocol.lower())
    if provider is None or not model:
        ck.err(
            _child(path, "model"),
            f"protocol {_show(protocol)} is not supported by this gateway",
            'use "openai/<model>" (also for OpenAI-compatible servers, with api_base), '
            '"anthropic/<model>" or "openrouter/<vendor>/<model>"',
        )
        return None
    api_key = entry.get("api_key")
    key_path = _child(path, "api_key")
    if "api_keys" in entry:
        keys = entry["api_keys"]
        if not isinstance(keys, list) or not keys:
            ck.err(_child(path, "api_keys"), "must be a non-empty array of keys", 'write "api_keys": ["..."]')
            return None
        if len(keys) > 1:
            ck.warn(
                _child(path, "api_keys"), "only the first key is used (no key rotation here)", "keep one key"
            )
        api_key = keys[0]
        key_path = _child(_child(path, "api_keys"), 0)
    api_base = ck.url(entry, "api_base", path, ("https", "http"))
    if api_base is not None and api_base.rstrip("/") in (
        DEFAULT_API_BASES[provider],
        "https://api.anthropic.com/v1",
    ):
        api_base = None  # the provider's own endpoint: keep the key-shape checks of the default
    return provider, model, api_key, api_base, path, key_path


def _upstream_channels(ck: _Checker, data: dict) -> list:
    """Classic/v2 `channels.<name>` or v3 `channel_list.<name>` (secrets under `settings`)."""
    top = "channel_list" if "channel_list" in data else "channels"
    section = ck.obj(data, top, "$", required=True)
    if section is None:
        return []
    top_path = _child("$", top)
    found = []
    any_enabled = False
    for name, raw in section.items():
        path = _child(top_path, name)
        if not isinstance(raw, dict):
            ck.err(
                path,
                f"must be a JSON object, got {_json_type(raw)}",
                f'write {_show(name)}: {{"enabled": ...}}',
            )
            continue
        if "enabled" in raw and not isinstance(raw["enabled"], bool):
            ck.boolean(raw, "enabled", path, False)  # reports the error
            any_enabled = True  # the user meant something: no extra "nothing enabled" error
            continue
        enabled = raw.get("enabled") is True
        kind = raw.get("type", name) if top == "channel_list" else name
        if not isinstance(kind, str):
            ck.err(
                _child(path, "type"),
                f"must be a string, got {_json_type(kind)}",
                f'write "type": {_show(name)}',
            )
            any_enabled = True
            continue
        if kind not in UPSTREAM_CHANNEL_KEYS:
            if enabled:
                ck.warn(
                    _child(path, "enabled"),
                    f"channel {_show(kind)} is not supported by this gateway and is ignored",
                    "use telegram, discord or slack",
                )
            continue
        secrets, secrets_path = raw, path
        if top == "channel_list":
            secrets = raw.get("settings", {})
            secrets_path = _child(path, "settings")
            if not isinstance(secrets, dict):
                if enabled:
                    ck.err(
                        secrets_path,
                        f"must be a JSON object, got {_json_type(secrets)}",
                        'write "settings": {...}',
                    )
                    any_enabled = True
                continue
        if not enabled:
            if "enabled" not in raw and secrets.get("token" if kind != "slack" else "bot_token"):
                ck.warn(
                    path, 'has a token but no "enabled": true, so it is off', 'add "enabled": true to use it'
                )
            continue
        any_enabled = True
        channel = _upstream_channel(ck, kind, raw, path, secrets, secrets_path)
        if channel:
            _channel_tail(ck, channel, path, _child(path, "allow_from"), "")
            found.append((path, channel))
    if not any_enabled:
        ck.err(
            top_path,
            "no supported channel is enabled",
            f'set "enabled": true in {top}.telegram, {top}.discord or {top}.slack',
        )
    return _dedupe_tokens(ck, found)


# v3 channel_list entries: these live next to "settings"
UPSTREAM_V3_CHANNEL_KEYS = ("enabled", "type", "allow_from", "settings")


def _upstream_channel(
    ck: _Checker, kind: str, raw: dict, path: str, secrets: dict, secrets_path: str
) -> dict | None:
    if secrets is raw:
        known = UPSTREAM_CHANNEL_KEYS[kind]
        pairs = [(raw, path, known)]
    else:
        pairs = [(raw, path, UPSTREAM_V3_CHANNEL_KEYS), (secrets, secrets_path, UPSTREAM_CHANNEL_KEYS[kind])]
    for section, section_path, known in pairs:
        ck.ignored(section, known, section_path, "upstream channel setting")
    field = "bot_token" if kind == "slack" else "token"
    token, app_token = _channel_tokens(ck, kind, secrets, secrets_path, field, field)
    users_path = _child(path, "allow_from")
    raw_users = raw.get("allow_from")
    users = [] if raw_users is None else _allowed_users(ck, kind, raw_users, users_path, upstream=True)
    if users == [] and kind == "telegram" and (raw_users is None or raw_users == []):
        ck.err(
            users_path,
            "a telegram channel needs a non-empty allow_from list"
            + ck.missing_hint(raw, "allow_from", UPSTREAM_V3_CHANNEL_KEYS + UPSTREAM_CHANNEL_KEYS[kind]),
            'add your numeric Telegram id, e.g. "allow_from": ["123456789"] (ask @userinfobot)',
        )
        users = None
    base_key = "api_base" if "api_base" in secrets else "base_url"
    api_base = ck.url(secrets, base_key, secrets_path, ("https", "http")) if kind == "telegram" else None
    proxy = ck.url(secrets, "proxy", secrets_path, ("http", "https", "socks5", "socks5h"), secret=True)
    return _channel_entry(kind, token, app_token, users, api_base, proxy)


UPSTREAM_SECTIONS = ("agents", "providers", "channels", "tools", "model_list", "channel_list", "version")


def _upstream(ck: _Checker, data: dict) -> dict | None:
    ck.ignored(data, UPSTREAM_SECTIONS, "$", "upstream section")
    if "channels" in data and "channel_list" in data:
        ck.warn("$.channels", "ignored: channel_list is used instead", "remove the old channels section")
    llm, max_iter = _upstream_llm(ck, data)
    channels = _upstream_channels(ck, data)
    agent = {
        "system_prompt": DEFAULT_SYSTEM_PROMPT,
        "max_tool_iterations": max_iter,
        "history_limit": DEFAULTS["history_limit"],
    }
    tools = _tools(ck, data, upstream=True)
    if ck.errors or llm is None:
        return None
    return {"llm": llm, "channels": channels, "agent": agent, "tools": tools}


# ---------------------------------------------------------------- entry points


def _dialect(ck: _Checker, data: dict) -> str | None:
    stack = [k for k in ("llm", "channel", "agent") if k in data]
    upstream = [k for k in ("agents", "providers", "model_list", "channel_list") if k in data]
    if isinstance(data.get("channels"), list):
        stack.append("channels (array)")
    elif isinstance(data.get("channels"), dict):
        upstream.append("channels (object)")
    if stack and upstream:
        ck.err(
            "$",
            "mixes the stack form ({}) with the upstream PicoClaw form ({})".format(
                ", ".join(stack), ", ".join(upstream)
            ),
            "use one form: llm + channel/channels[] (stack) or agents + providers + channels{} (upstream)",
        )
        return None
    if upstream:
        return "upstream"
    if stack:
        return "stack"
    ck.err(
        "$",
        'no "llm" section (and no upstream "providers"/"agents") found',
        'start from an example in docs/configuration.md: {"llm": {...}, "channel": {...}}',
    )
    return None


def validate(data: object) -> ValidationResult:
    """Validate already-parsed JSON data. Never raises."""
    ck = _Checker()
    try:
        if not isinstance(data, dict):
            ck.err(
                "$",
                f"the config must be a JSON object ({{...}}), got {_json_type(data)}",
                "wrap the settings in { }; see docs/configuration.md",
            )
            return ValidationResult(ck.errors, ck.warnings)
        dialect = _dialect(ck, data)
        if dialect is None:
            return ValidationResult(ck.errors, ck.warnings)
        normalized = _stack(ck, data) if dialect == "stack" else _upstream(ck, data)
        _global_warnings(ck, normalized)
        return ValidationResult(ck.errors, ck.warnings, dialect, normalized)
    except RecursionError:
        ck.err("$", "the data is nested too deeply", "flatten the config")
        return ValidationResult(ck.errors, ck.warnings)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # the contract is "never raises"
        ck.err(
            "$",
            f"internal validator error ({type(exc).__name__})",
            "please report this config shape as a bug",
        )
        return ValidationResult(ck.errors, ck.warnings)


def _global_warnings(ck: _Checker, normalized: dict | None) -> None:
    if normalized is None:
        return
    exec_on = normalized["tools"]["exec"]["enabled"]
    for index, channel in enumerate(normalized["channels"]):
        if exec_on and not channel["allowed_users"]:
            ck.warn(
                ck.channel_paths[index],
                "the exec tool is enabled and this {} channel is open to everyone: anyone can run "
                "shell commands in the workspace".format(channel["type"]),
                "list allowed users, or set tools.exec.enabled to false",
            )


class _BadConstant(ValueError):
    pass


class _DuplicateCollector:
    """object_pairs_hook that keeps the last value (like JSON) but remembers duplicates."""

    def __init__(self) -> None:
        self.found = []  # type: list

    def __call__(self, pairs: list) -> dict:
        out = {}  # type: dict
        for key, value in pairs:
            if key in out:
                self.found.append((out, key))
            out[key] = value
        return out

    def report(self, ck: _Checker, data: object) -> None:
        """Name every duplicate by its JSON path (iterative walk: no recursion limit)."""
        paths = {}  # type: dict
        stack = [(data, "$")]
        while stack:
            node, path = stack.pop()
            if isinstance(node, dict):
                paths[id(node)] = path
                stack.extend((value, _child(path, key)) for key, value in node.items())
            elif isinstance(node, list):
                stack.extend((value, _child(path, index)) for index, value in enumerate(node))
        for obj, key in self.found:
            ck.err(
                _child(paths.get(id(obj), "$"), key),
                "key appears more than once in the same object (JSON silently keeps only the last one)",
                "keep exactly one entry for this key",
            )


def _constant(name: str) -> float:
    raise _BadConstant(name)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadConstant(text if len(text) < 20 else "a huge number")
    return value


def validate_text(text: str | bytes) -> ValidationResult:
    """Parse JSON text (str or UTF-8 bytes) and validate it. Never raises."""
    ck = _Checker()
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_CONFIG_BYTES:
            ck.err(
                "$",
                f"config is {len(text)} bytes, the limit is {MAX_CONFIG_BYTES} (1 MiB)",
                "a config is a few hundred bytes; check that this is the right file",
            )
            return ValidationResult(ck.errors, [])
        if text[:2] in (b"\xff\xfe", b"\xfe\xff"):
            ck.err("$", "the file is UTF-16 encoded", "save it as UTF-8")
            return ValidationResult(ck.errors, [])
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            ck.err(
                "$",
                f"the file is not valid UTF-8 text (bad byte at offset {exc.start})",
                "save it as UTF-8 text; is this really the JSON config?",
            )
            return ValidationResult(ck.errors, [])
    elif not isinstance(text, str):
        ck.err("$", f"expected JSON text, got {type(text).__name__}", "pass the file content as a string")
        return ValidationResult(ck.errors, [])
    elif len(text) > MAX_CONFIG_BYTES:
        ck.err(
            "$",
            f"config is {len(text)} characters, the limit is {MAX_CONFIG_BYTES} (1 MiB)",
            "a config is a few hundred bytes; check that this is the right file",
        )
        return ValidationResult(ck.errors, [])
    text = text.lstrip("\ufeff")
    if not text.strip():
        ck.err("$", "the config is empty", "write a JSON object; see the examples in docs/configuration.md")
        return ValidationResult(ck.errors, [])
    try:
        dupes = _DuplicateCollector()
        data = json.loads(text, object_pairs_hook=dupes, parse_constant=_constant, parse_float=_float)
    except json.JSONDecodeError as exc:
        ck.err("$", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", _json_fix(exc))
        return ValidationResult(ck.errors, [])
    except _BadConstant as exc:
        ck.err(
            "$", f"contains {exc.args[0]}, which is not a valid JSON number", "use a finite number or null"
        )
        return ValidationResult(ck.errors, [])
    except RecursionError:
        ck.err("$", "JSON is nested too deeply", "a config needs only 3-4 levels of { }; check the file")
        return ValidationResult(ck.errors, [])
    except (ValueError, MemoryError) as exc:
        ck.err("$", f"cannot parse the JSON ({type(exc).__name__})", "check the file; numbers must be short")
        return ValidationResult(ck.errors, [])
    if dupes.found:
        dupes.report(ck, data)
        return ValidationResult(ck.errors, [])
    return validate(data)


def _json_fix(exc: json.JSONDecodeError) -> str:
    msg = exc.msg
    if msg.startswith("Expecting property name"):
        return f"keys need double quotes, and there must be no comma before }} (check line {exc.lineno})"
    if msg.startswith("Expecting value"):
        return (
            "a value is missing or not JSON (comments, single quotes, trailing commas and "
            f"unquoted words are not allowed) at line {exc.lineno}"
        )
    if msg.startswith("Expecting ',' delimiter"):
        return f"a comma is missing between two items before line {exc.lineno} column {exc.colno}"
    if msg.startswith("Extra data"):
        return "there is text after the closing }; keep exactly one JSON object in the file"
    if "control character" in msg:
        return "a string contains a raw line break or tab; write it as \\n or remove it"
    return f"fix the JSON syntax at line {exc.lineno} column {exc.colno}"


def validate_file(path: str) -> ValidationResult:
    """Read and validate a config file. Never raises; read problems become errors."""
    ck = _Checker()
    shown = str(path).encode("ascii", "backslashreplace").decode("ascii")
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            ck.err(
                "$", f"{shown} is a directory, not a config file", "give the path of the JSON file inside it"
            )
            return ValidationResult(ck.errors, [])
        if not stat.S_ISREG(info.st_mode):
            ck.err("$", f"{shown} is not a regular file", "give the path of a JSON file")
            return ValidationResult(ck.errors, [])
        if info.st_size > MAX_CONFIG_BYTES:
            ck.err(
                "$",
                f"{shown} is {info.st_size} bytes, the limit is {MAX_CONFIG_BYTES} (1 MiB)",
                "a config is a few hundred bytes; check that this is the right file",
            )
            return ValidationResult(ck.errors, [])
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        ck.err("$", f"{shown} does not exist", "check the path (or create the file from an example)")
        return ValidationResult(ck.errors, [])
    except PermissionError:
        ck.err(
            "$",
            f"permission denied reading {shown}",
            "make the file readable by this user (e.g. chmod 0640 and the right group)",
        )
        return ValidationResult(ck.errors, [])
    except (OSError, ValueError, TypeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        ck.err("$", f"cannot read {shown}: {reason}", "check the path and the file")
        return ValidationResult(ck.errors, [])
    return validate_text(raw)


# ---------------------------------------------------------------- redaction


def _redact_url(value: object) -> object:
    if not isinstance(value, str) or not value:
        return value
    try:
        parts = urlsplit(value)
        if parts.username is None and parts.password is None:
            return value
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, "***@" + host, parts.path, parts.query, parts.fragment))
    except ValueError:
        return "***"


def redact(normalized: dict) -> dict:
    """Deep copy with api_key/token/app_token replaced by "***" and URL credentials removed."""
    if not isinstance(normalized, dict):
        return normalized
    out = copy.deepcopy(normalized)
    llm = out.get("llm")
    if isinstance(llm, dict):
        if llm.get("api_key"):
            llm["api_key"] = "***"
        llm["api_base"] = _redact_url(llm.get("api_base"))
    for channel in out.get("channels") or []:
        if not isinstance(channel, dict):
            continue
        for key in ("token", "app_token"):
            if channel.get(key):
                channel[key] = "***"
        for key in ("proxy", "api_base"):
            if key in channel:
                channel[key] = _redact_url(channel[key])
    return out
