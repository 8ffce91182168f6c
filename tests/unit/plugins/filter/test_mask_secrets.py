# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secret masking decided by the gateway's validator, on configs of both dialects."""

from __future__ import annotations

import json

from ansible_collections.picoclaw.stack.plugins.filter.mask_secrets import FilterModule, mask_secrets, secret_values

API_KEY = "sk-or-v1-" + "0123456789abcdef" * 4
BOT_TOKEN = "123456789:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"
SLACK_BOT = "xoxb-" + "1234567890-" * 3 + "abcdefABCDEF"
SLACK_APP = "xapp-1-A0123456789-1234567890123-" + "f" * 64
PROXY = "http://proxyuser:pr0xyPassw0rd@proxy.example:3128"


def stack_config(**channel):
    base = {"type": "telegram", "token": BOT_TOKEN, "allowed_users": ["123456789"]}
    base.update(channel)
    return json.dumps({"llm": {"provider": "openrouter", "api_key": API_KEY, "model": "openai/gpt-4o-mini"}, "channel": base})


def test_masks_the_api_key_and_bot_token_in_log_lines():
    logs = "starting\nusing key %s\nGET https://api.telegram.org/bot%s/getMe 401\n" % (API_KEY, BOT_TOKEN)
    masked = mask_secrets(logs, stack_config())
    assert API_KEY not in masked and BOT_TOKEN not in masked
    assert masked == "starting\nusing key ***\nGET https://api.telegram.org/bot***/getMe 401\n"


def test_proxy_credentials_are_masked_whole_and_in_parts():
    config = stack_config(proxy=PROXY)
    assert PROXY in secret_values(config)
    masked = mask_secrets("proxy %s; auth proxyuser:pr0xyPassw0rd; pw pr0xyPassw0rd" % PROXY, config)
    assert "pr0xyPassw0rd" not in masked and "proxyuser" not in masked
    assert masked == "proxy ***; auth ***; pw ***"


def test_slack_tokens_are_secrets():
    config = json.dumps(
        {
            "llm": {"provider": "openrouter", "api_key": API_KEY, "model": "m/x"},
            "channel": {"type": "slack", "token": SLACK_BOT, "app_token": SLACK_APP, "allowed_users": ["U0123456789"]},
        }
    )
    assert set(secret_values(config)) == {API_KEY, SLACK_BOT, SLACK_APP}


def test_upstream_dialect_secrets_come_from_the_validator():
    upstream = json.dumps(
        {
            "agents": {"defaults": {"model": "openai/gpt-4o-mini", "provider": "openrouter"}},
            "providers": {"openrouter": {"api_key": API_KEY}},
            "channels": {"telegram": {"enabled": True, "token": BOT_TOKEN, "allow_from": ["123456789"]}},
        }
    )
    assert API_KEY in secret_values(upstream) and BOT_TOKEN in secret_values(upstream)
    assert "***" in mask_secrets("key=" + API_KEY, upstream)


def test_non_secret_values_stay_readable():
    masked = mask_secrets("model openai/gpt-4o-mini for user 123456789 via telegram", stack_config())
    assert masked == "model openai/gpt-4o-mini for user 123456789 via telegram"


def test_an_invalid_config_is_still_masked_by_key_names():
    # Edited on the host after the deploy: the validator rejects it, its secrets must not leak anyway.
    invalid = json.dumps({"llm": {"provider": "nope", "api_key": "custom-secret-value", "max_tokens": 5}, "x": {"password": "hunter22"}})
    masked = mask_secrets("a custom-secret-value b hunter22 c 5", invalid)
    assert masked == "a *** b *** c 5"


def test_text_that_is_not_json_masks_nothing_and_does_not_fail():
    assert mask_secrets("plain log", "{not json") == "plain log"


def test_longer_secret_masked_before_a_secret_it_contains():
    order = secret_values(stack_config(proxy=PROXY))
    assert order.index(PROXY) < order.index("proxyuser:pr0xyPassw0rd") < order.index("pr0xyPassw0rd")


def test_bytes_input_is_accepted():
    assert mask_secrets(b"k " + API_KEY.encode(), stack_config().encode()) == "k ***"


def test_filter_is_registered():
    assert FilterModule().filters()["mask_secrets"] is mask_secrets
