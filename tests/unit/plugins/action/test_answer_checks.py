# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wizard's checks when the services cannot tell: nothing listening, a proxy's error page, a
service that echoes the key. Real sockets on 127.0.0.1; the protocol fakes' verdicts (good and bad
key, unknown model, bad token) are covered by the pty test in tests/wizard."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.picoclaw.stack.plugins.module_utils.config_validator import validate
from ansible_collections.picoclaw.stack.plugins.plugin_utils.answer_checks import OK, WARN, Check, check_answers
from ansible_collections.picoclaw.stack.plugins.plugin_utils.wizard_flow import Wizard

OPENROUTER_KEY = "sk-or-v1-" + "0123456789abcdef" * 4
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


class _BadGateway(BaseHTTPRequestHandler):
    """What a proxy in front of a service may answer: an HTML 502 for every request."""

    def _answer(self) -> None:
        body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:  # quiet test output
        pass


@pytest.fixture
def bad_gateway():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BadGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again: connecting is refused


def _normalized(llm_base: str, channel_base: str) -> dict:
    config = {
        "llm": {"provider": "openrouter", "api_key": OPENROUTER_KEY, "model": "openai/gpt-4.1-mini", "api_base": llm_base},
        "channel": {"type": "telegram", "token": TELEGRAM_TOKEN, "allowed_users": ["1"], "api_base": channel_base},
    }
    result = validate(config)
    assert result.valid, [str(p) for p in result.errors]
    return result.normalized


def test_nothing_listening_is_a_warning_left_to_the_role_doctor(closed_port):
    base = "http://127.0.0.1:%d" % closed_port
    checks = check_answers(_normalized(base + "/api/v1", base))
    assert [c.name for c in checks] == ["llm.api_key", "channel.token"]
    assert all(c.status == WARN for c in checks)
    lines = [c.line() for c in checks]
    assert "could not reach the LLM provider (openrouter) at %s/api/v1 from this machine (connection failed:" % base in lines[0]
    assert "could not reach the telegram API at %s from this machine" % base in lines[1]
    assert all("the role runs picoclaw doctor on the host after start" in line for line in lines)
    assert not any(TELEGRAM_TOKEN in line or OPENROUTER_KEY in line for line in lines)


def test_an_error_page_is_a_warning_not_a_refused_answer(bad_gateway):
    checks = check_answers(_normalized(bad_gateway + "/api/v1", bad_gateway))
    assert {c.status for c in checks} == {WARN}
    assert any("answered HTTP 502" in c.message for c in checks)


def test_the_wizard_masks_a_secret_a_service_echoes():
    """A check line holding a typed secret (a service quoting the key in its error) is shown masked."""
    asked = iter(["", OPENROUTER_KEY, "", "", TELEGRAM_TOKEN, "1", ""])
    shown = []

    def echoing_check(normalized):
        key = normalized["llm"]["api_key"]
        return [Check("llm.api_key", OK, "accepted %s" % key), Check("channel.token", OK, "bot %s" % TELEGRAM_TOKEN)]

    wizard = Wizard(lambda prompt, secret: next(asked), shown.append, {"openrouter": "openai/gpt-4.1-mini"}, 3, "vps1",
                    "config.json", check=echoing_check)
    assert wizard.run()["llm"]["api_key"] == OPENROUTER_KEY
    text = "\n".join(shown)
    assert "ok   llm.api_key: accepted ***" in text and "ok   channel.token: bot ***" in text
    assert OPENROUTER_KEY not in text and TELEGRAM_TOKEN not in text


def test_extra_config_lies_under_the_answers():
    asked = iter(["", OPENROUTER_KEY, "", "", TELEGRAM_TOKEN, "1", ""])
    extra = {"llm": {"api_base": "https://llm.example.test/v1", "model": "not/asked"}, "channel": {"proxy": "http://proxy.test:3128"}}
    config = Wizard(lambda prompt, secret: next(asked), lambda text: None, {"openrouter": "openai/gpt-4.1-mini"}, 3, "vps1",
                    "config.json", extra=extra).run()
    assert config["llm"]["api_base"] == "https://llm.example.test/v1" and config["llm"]["model"] == "openai/gpt-4.1-mini"
    assert config["channel"]["proxy"] == "http://proxy.test:3128" and config["channel"]["token"] == TELEGRAM_TOKEN
    assert extra["llm"]["model"] == "not/asked"  # the caller's dict is not changed
