"""Secret masking for everything that leaves the process, and logging to stderr through it.

`setup_logging(secrets)` installs the process-wide masker: the log handler's filter uses it,
and `mask_secrets()` applies it to chat replies and session records (the agent loop calls it),
so a provider error that echoes the API key is masked in the chat as well as in the log.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

MASK = "***"


class SecretMasker:
    """Replaces every configured secret (and the secret half of a Telegram token) by ***."""

    def __init__(self, secrets: list[str]) -> None:
        needles: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            needles.add(secret)
            # A Telegram token is "<bot id>:<secret>"; the secret half alone must not leak either.
            _, _, tail = secret.partition(":")
            if len(tail) >= 8:
                needles.add(tail)
        # Longest first so a secret containing another is masked whole.
        self._needles = sorted(needles, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._needles)

    def mask(self, text: str) -> str:
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, MASK)
        return text


_masker = SecretMasker([])


def mask_secrets(text: str) -> str:
    """`text` with every secret given to setup_logging() replaced by ***."""
    return _masker.mask(text)


class SecretMaskingFilter(logging.Filter):
    """Rewrites each record's message and traceback text with secrets replaced by ***.

    Attached to the handler, so it sees records from every library (aiogram and httpx
    log URLs that contain the bot token).
    """

    def __init__(self, secrets: list[str] | SecretMasker) -> None:
        super().__init__()
        self._masker = secrets if isinstance(secrets, SecretMasker) else SecretMasker(secrets)
        self.mask = self._masker.mask

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._masker:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a library's bad format string must not kill logging
            message = f"{record.msg!r} {record.args!r}"
        record.msg = self.mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        # The formatter would render exc_info again only when exc_text is empty; drop it anyway.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


def setup_logging(secrets: list[str], stream: TextIO | None = None) -> logging.Handler:
    global _masker
    _masker = SecretMasker(secrets)
    level_name = os.environ.get("PICOCLAW_LOG_LEVEL", "INFO").upper()
    level = logging.getLevelNamesMapping().get(level_name, logging.INFO)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretMaskingFilter(_masker))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # One line per HTTP request is noise at INFO (and carries the token in the URL).
    for noisy in ("httpx", "httpcore", "aiogram.event", "anthropic"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    return handler
