#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Documentation only: the work is done on the controller by plugins/action/picoclaw_wizard.py.
DOCUMENTATION = r"""
---
module: picoclaw_wizard
short_description: Ask for a PicoClaw config.json on the controller's terminal
version_added: 0.1.0
description:
  - Asks the old installer's questions in one task - provider, API key, model, channel, bot token(s), your
    user id - with the hints of where each secret comes from, then shows a review with the secrets masked
    and asks C([Y/n]) (Enter = yes). Enter at any question takes the suggested answer in brackets.
  - Every answer is checked as it is typed by the gateway's own validator (the one
    M(picoclaw.stack.picoclaw_config) uses) and asked again with the reason, up to O(max_attempts) times.
  - With O(doctor) (the default), once every answer is valid the wizard asks the LLM provider and the chat service
    whether they accept the key, the model and the bot token, with the read-only calls C(picoclaw doctor) uses
    (model listing, getMe, auth.test, /users/@me; no chat request, no token spent). It prints one line per check
    with the fix and asks again only the answers that were refused, up to O(max_attempts) rounds. What cannot be
    checked from the controller (no network, a 5xx) is shown as a warning and left to the role's doctor on the host.
  - Secrets are not echoed while typed. The result holds them in RV(config); register it with C(no_log).
  - Without an interactive terminal it fails at once, saying how to give the config unattended
    (C(picoclaw_config) in the inventory and C(-e picoclaw_assume_yes=true)).
  - Runs on the controller; nothing is sent to the host.
author:
  - PicoClaw maintainers (!UNKNOWN)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: all
options:
  default_models:
    description: Model proposed for each provider (Enter takes it).
    type: dict
    default: {}
  max_attempts:
    description: How many times an invalid answer is asked again before failing.
    type: int
    default: 3
  dest:
    description: Where the config will be written; only shown in the confirmation question.
    type: str
    default: config.json
  doctor:
    description: Ask the provider and the chat service whether they accept the answers (see above).
    type: bool
    default: true
  extra_config:
    description:
      - Settings the wizard does not ask for, in the stack dialect of config.json; the answers are put on top.
      - For example C(llm.api_base) for an OpenAI-compatible server or C(channel.proxy). The checks of O(doctor)
        use them too.
    type: dict
    default: {}
"""

EXAMPLES = r"""
---
- name: Ask for the config
  picoclaw.stack.picoclaw_wizard:
    default_models: {openrouter: openai/gpt-4.1-mini}
    dest: /opt/stacks/picoclaw/config/config.json
  register: wizard
  no_log: true
"""

RETURN = r"""
---
config:
  description: The confirmed answers in the stack dialect of config.json (holds the secrets).
  returned: success
  type: dict
  sample: {llm: {provider: openrouter, api_key: "sk-or-v1-...", model: openai/gpt-4.1-mini}}
no_terminal:
  description: True when the run had no interactive terminal to ask on.
  returned: when it failed for that reason
  type: bool
"""
