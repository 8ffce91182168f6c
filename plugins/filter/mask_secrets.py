# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Replace every secret of a gateway config.json in a text (logs, container state) by ***."""

from __future__ import annotations

DOCUMENTATION = r"""
name: mask_secrets
short_description: Replace the secrets of a PicoClaw config.json in a text by C(***)
version_added: 0.1.0
author: PicoClaw maintainers (!UNKNOWN)
description:
  - Which values are secrets is decided by the gateway's own validator (the one
    M(picoclaw.stack.picoclaw_config) uses) - every value its redaction hides (API keys, bot and app
    tokens, credentials in proxy and API base URLs) - so a secret the validator knows is never missed.
  - A config the validator rejects (it was changed on the host after the deploy) still gets masked - the
    values of its keys named like secrets (key, token, secret, password, proxy) are hidden.
options:
  _input:
    description: The text to mask, for example container log lines.
    type: str
    required: true
  config:
    description: The content of config.json (either dialect).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Mask the secrets in the log lines
  ansible.builtin.set_fact:
    __gateway_failure_masked: >-
      {{ __gateway_failure_logs.stdout | picoclaw.stack.mask_secrets(__gateway_failure_config.content | b64decode) }}
  no_log: true
"""

RETURN = r"""
_value:
  description: The text with every secret value replaced by C(***).
  type: str
"""

import json
import re
from urllib.parse import urlsplit

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.picoclaw.stack.plugins.module_utils.config_no_log import hidden_by_redaction
from ansible_collections.picoclaw.stack.plugins.module_utils.config_validator import redact, validate_text

MASK = "***"
# Only for a config the validator rejects; a valid one is masked from the validator's redaction.
_SECRET_KEY = re.compile(r"key|token|secret|password|proxy", re.IGNORECASE)
# Shorter fragments (a URL's password, a value only named like a secret) would mask unrelated log text.
_MIN_FRAGMENT = 4


def _named_like_secrets(data: object, found: set) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and len(value) >= _MIN_FRAGMENT and _SECRET_KEY.search(str(key)):
                found.add(value)
            else:
                _named_like_secrets(value, found)
    elif isinstance(data, list):
        for value in data:
            _named_like_secrets(value, found)


def _url_credentials(value: str) -> list:
    """The userinfo of a URL with credentials, and its password: logs may show them without the URL."""
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return []
    if parts.username is None and password is None:
        return []
    userinfo = parts.netloc.rpartition("@")[0]
    return [part for part in (userinfo, password) if part and len(part) >= _MIN_FRAGMENT]


def secret_values(config_text: object) -> list:
    """The secret values of a config.json, longest first (so no secret is left half-masked)."""
    text = to_text(config_text, errors="surrogate_or_strict")
    result = validate_text(text)
    found: set = set()
    if result.normalized is not None:
        hidden_by_redaction(result.normalized, redact(result.normalized), found)
    else:
        try:
            _named_like_secrets(json.loads(text), found)
        except ValueError:
            pass  # not JSON: the validator's error says so; nothing can be told apart as a secret
    for value in list(found):
        found.update(_url_credentials(value))
    return sorted(found, key=lambda value: (-len(value), value))


def mask_secrets(text: object, config: object) -> str:
    masked = to_text(text, errors="surrogate_or_strict")
    for secret in secret_values(config):
        masked = masked.replace(secret, MASK)
    return masked


class FilterModule:
    def filters(self) -> dict:
        return {"mask_secrets": mask_secrets}
