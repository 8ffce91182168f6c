# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which values of a config.json are secrets, for AnsibleModule.no_log_values.

A no_log option given as a dictionary makes Ansible mask every one of its leaves (provider, model,
user ids...) everywhere in the result. The validator knows better: only what its redaction hides is
secret. `no_log_values()` keeps every leaf masked unless the validator shows it unredacted, and always
keeps the secrets, so nothing unknown (a misspelt key holding a token) is ever revealed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from urllib.parse import urlsplit

# Keys of an invalid config (no normalized view) whose values are shown: known, never secret.
_PLAIN_KEYS = frozenset(
    (
        "provider", "model", "type", "allowed_users", "allowed_user_ids", "max_tokens", "temperature",
        "timeout_s", "max_tool_iterations", "history_limit", "enabled", "max_output_chars", "model_name",
        "protocol",
    )
)
_SECRET_KEY = re.compile(r"key|token|secret|password|proxy|credential", re.IGNORECASE)


def leaves(value):
    """Every scalar of JSON-shaped data as Ansible stringifies it for no_log (bool and None skipped)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from leaves(item)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, (str, int, float)):
        text = str(value)
        if text:
            yield text


def hidden_by_redaction(plain, redacted, found):
    """Add to `found` every string of `plain` that the redacted copy replaced: those are the secrets."""
    if isinstance(plain, dict) and isinstance(redacted, dict):
        for key, value in plain.items():
            hidden_by_redaction(value, redacted.get(key), found)
    elif isinstance(plain, list) and isinstance(redacted, list):
        for value, hidden in zip(plain, redacted):
            hidden_by_redaction(value, hidden, found)
    elif isinstance(plain, str) and plain and plain != redacted:
        found.add(plain)


def _url_credentials(value):
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return []
    if parts.username is None and password is None:
        return []
    return [part for part in (parts.netloc.rpartition("@")[0], password) if part]


def _plain_leaves_by_key(data, shown, secrets):
    """Invalid config: values under known plain keys are shown, values under secret-like keys are secret."""
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key) in _PLAIN_KEYS:
                shown.update(leaves(value))
            elif _SECRET_KEY.search(str(key)):
                secrets.update(leaves(value))
            else:
                _plain_leaves_by_key(value, shown, secrets)
    elif isinstance(data, list):
        for value in data:
            _plain_leaves_by_key(value, shown, secrets)


def no_log_values(current, content, normalized, redacted):
    """The set to mask: `current` minus the leaves known to be plain, plus every secret.

    content: the option as given (dict or text); normalized/redacted: the validator's views (None when
    the config is invalid).
    """
    secrets = set()
    shown = set()
    if normalized is not None:
        hidden_by_redaction(normalized, redacted, secrets)
        shown.update(leaves(redacted))
    elif isinstance(content, dict):
        _plain_leaves_by_key(content, shown, secrets)
    for value in list(secrets):
        secrets.update(_url_credentials(value))
    # A value that is also a secret somewhere stays masked; "***" is the redaction's own marker.
    return (set(current) - (shown - secrets)) | secrets
