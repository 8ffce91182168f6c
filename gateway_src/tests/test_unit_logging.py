"""Secrets never reach the log output, including library messages and tracebacks."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from picoclaw_gateway.logging_setup import SecretMaskingFilter, setup_logging

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
API_KEY = "sk-or-v1-" + "0123456789abcdef" * 4


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = setup_logging([TOKEN, API_KEY], stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def test_messages_args_and_tracebacks_are_masked(captured: io.StringIO) -> None:
    lib = logging.getLogger("aiogram.dispatcher")
    lib.warning("POST https://api.telegram.org/bot%s/getUpdates failed", TOKEN)
    lib.error("Authorization: Bearer " + API_KEY)
    try:
        raise RuntimeError(f"connect failed for https://api.telegram.org/bot{TOKEN}/sendMessage")
    except RuntimeError:
        logging.getLogger("httpx").exception("request failed")
    # The secret half of a token alone (e.g. split by a library) is masked too.
    logging.getLogger("x").warning("token tail %s", TOKEN.split(":")[1])
    out = captured.getvalue()
    assert TOKEN not in out and API_KEY not in out and TOKEN.split(":")[1] not in out
    assert out.count("***") == 4
    assert "RuntimeError" in out, "the traceback is kept, only the secret is masked"


def test_log_level_from_env(monkeypatch: pytest.MonkeyPatch, captured: io.StringIO) -> None:
    monkeypatch.setenv("PICOCLAW_LOG_LEVEL", "WARNING")
    handler = setup_logging([TOKEN], captured)
    try:
        logging.getLogger("picoclaw").info("hidden")
        logging.getLogger("picoclaw").warning("shown")
    finally:
        logging.getLogger().removeHandler(handler)
    assert "shown" in captured.getvalue() and "hidden" not in captured.getvalue()


def test_bad_format_args_do_not_break_logging() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d %s", ("nope",), None)
    assert SecretMaskingFilter([TOKEN]).filter(record)
    assert "nope" in record.getMessage()
