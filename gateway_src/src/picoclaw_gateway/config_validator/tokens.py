"""Secrets and their shapes: placeholders, API keys per provider, Telegram/Discord/Slack tokens.

Messages describe a secret (length, prefix, parts), never quote it."""

from __future__ import annotations

import re

from .checker import Checker, child, json_type
from .schema import KEY_PREFIXES

_TELEGRAM_TOKEN = re.compile(r"^(\d+):([A-Za-z0-9_-]+)$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_SPACE = re.compile(r"\s")
_XXX = re.compile(r"(^|[-_])x{3,}($|[-_])")
_YOUR = re.compile(r"(^|[-_])your($|[-_])")
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


def placeholder_reason(value: str) -> str | None:
    """Why a secret value obviously cannot work, described without quoting it."""
    if value != value.strip():
        return "starts or ends with whitespace"
    if _SPACE.search(value):
        return "contains whitespace"
    if "..." in value or "\u2026" in value:
        return "contains '...' (a shortened example, not a real value)"
    if "<" in value or ">" in value:
        return "contains '<' or '>' (a placeholder like <YOUR_KEY>)"
    lowered = value.lower()
    if lowered in _PLACEHOLDER_WORDS or lowered in _BARE_PREFIXES:
        return "is a placeholder, not a real value"
    if _XXX.search(lowered) or _YOUR.search(lowered):
        return "is a placeholder from an example (contains 'xxx' or 'YOUR')"
    return None


def _check_secret(ck: Checker, value: str, path: str, what: str) -> bool:
    """Empty/placeholder check shared by every secret; True when it may be real."""
    if value == "":
        ck.err(path, f"{what} is empty", f"paste the real {what}")
        return False
    reason = placeholder_reason(value)
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


def check_api_key(ck: Checker, provider: str, key: object, path: str, custom_base: bool) -> str:
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
        ck.err(path, f"must be a string, got {json_type(key)}", "put the API key in double quotes")
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


def _check_token(ck: Checker, kind: str, token: object, path: str, field: str) -> str:
    """Channel secrets: telegram/discord `token`, slack `bot_token`/`app_token`."""
    if token is None:
        ck.err(path, f"{field} is missing", _TOKEN_FIX[(kind, field)])
        return ""
    if not isinstance(token, str):
        ck.err(path, f"{field} must be a string, got {json_type(token)}", "put the token in double quotes")
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


def check_channel_tokens(
    ck: Checker, kind: str, section: dict, path: str, token_key: str, field: str
) -> tuple:
    """(token, app_token) of one channel; "" for a bad one. Swapped Slack tokens are one error."""
    raw_token = section.get(token_key)
    if kind != "slack":
        return _check_token(ck, kind, raw_token, child(path, token_key), field), None
    raw_app = section.get("app_token")
    swapped = isinstance(raw_token, str) and isinstance(raw_app, str)
    if swapped and raw_token.startswith("xapp-") and raw_app.startswith("xoxb-"):
        ck.err(
            child(path, token_key),
            "bot_token and app_token are swapped (bot_token starts with xapp-, app_token with xoxb-)",
            "exchange the two values",
        )
        return "", ""
    token = _check_token(ck, kind, raw_token, child(path, token_key), field)
    app_token = _check_token(ck, kind, raw_app, child(path, "app_token"), "app_token")
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


def _check_telegram_token(ck: Checker, token: str, path: str) -> bool:
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
