# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ask for a gateway config.json on the controller's terminal: one task, every question, one review."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail, AnsiblePromptInterrupt, AnsiblePromptNoninteractive
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.picoclaw.stack.plugins.plugin_utils.answer_checks import check_answers
from ansible_collections.picoclaw.stack.plugins.plugin_utils.wizard_flow import Wizard, WizardStop

display = Display()

NO_TERMINAL = (
    "No terminal to ask the questions on: no config.json on {host} ({dest}) and neither picoclaw_config nor "
    "picoclaw_config_file is set, and this run has no interactive terminal (CI, a pipe, cron, nohup). "
    "Fix: run ansible-playbook from a terminal to answer the questions, or give the config unattended: "
    "set picoclaw_config in the inventory (host_vars/{host}/vault.yml, keep it in ansible-vault) with "
    "llm.provider, llm.api_key, llm.model, channel.type, channel.token (Slack also channel.app_token) and "
    "channel.allowed_users, and run with -e picoclaw_assume_yes=true; or set picoclaw_config_file to a "
    "config.json on the controller."
)


class _NoTerminal(Exception):
    pass


def ask_on_terminal(prompt: str, secret: bool) -> str:
    """One line from the controller's terminal. Ansible's own prompt (the one `pause` uses) reads it in the
    main process, which still holds the terminal: since ansible-core 2.17 the workers are detached from it."""
    try:
        raw = display.prompt_until(prompt, private=secret)
    except AnsiblePromptNoninteractive as exc:
        raise _NoTerminal(str(exc)) from None
    except AnsiblePromptInterrupt:
        raise WizardStop("Interrupted: nothing was written. Run the play again to start over.") from None
    return to_text(raw, errors="surrogate_or_strict").replace("\r", "").replace("\n", "")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("default_models", "max_attempts", "dest", "doctor", "extra_config"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        default_models = args.get("default_models") or {}
        if not isinstance(default_models, dict):
            raise AnsibleActionFail("default_models must map providers to model ids — fix: {openrouter: vendor/model}")
        try:
            max_attempts = int(args.get("max_attempts", 3))
        except (TypeError, ValueError):
            raise AnsibleActionFail("max_attempts must be a number — fix: max_attempts: 3") from None
        extra = args.get("extra_config") or {}
        if not isinstance(extra, dict) or not all(isinstance(extra.get(key, {}), dict) for key in ("llm", "channel")):
            raise AnsibleActionFail("extra_config and its llm and channel must be dictionaries — fix: {llm: {api_base: https://...}}")
        try:
            check = check_answers if boolean(args.get("doctor", True)) else None
        except TypeError:
            raise AnsibleActionFail("doctor must be true or false — fix: doctor: true") from None
        host = task_vars.get("inventory_hostname", "this host")
        dest = str(args.get("dest") or "config.json")
        wizard = Wizard(ask_on_terminal, display.display, default_models, max_attempts, host, dest, check, extra)
        try:
            config = wizard.run()
        except _NoTerminal:
            return dict(result, failed=True, no_terminal=True, msg=NO_TERMINAL.format(host=host, dest=dest))
        except WizardStop as stop:
            return dict(result, failed=True, msg=str(stop))
        # The answers hold the secrets: the role registers this with no_log and shows only `msg`.
        return dict(result, changed=False, config=config, msg="config.json answered and confirmed")
