# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print a deprecation warning for every renamed role variable whose old name is still in effect."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

COLLECTION = "picoclaw.stack"


def old_names_in_effect(renamed: dict, values: dict) -> list:
    """Old names that are set and whose value the new name still carries (it was not set on its own).

    `values` maps variable names to their templated values (only names that are defined).
    """
    in_effect = []
    for old, new in renamed.items():
        if old in values and (new not in values or values[new] == values[old]):
            in_effect.append(old)
    return sorted(in_effect)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("renamed", "removed_in"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        renamed = self._task.args.get("renamed")
        removed_in = str(self._task.args.get("removed_in") or "")
        if not isinstance(renamed, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in renamed.items()):
            raise AnsibleActionFail("renamed must map old variable names to new ones — fix: renamed: {old_name: new_name}")
        if not removed_in:
            raise AnsibleActionFail("removed_in is missing — fix: give the collection version that drops the old names")
        names = set(renamed) | set(renamed.values())
        values = {name: self._templar.template(task_vars[name]) for name in names if name in task_vars}
        in_effect = old_names_in_effect(renamed, values)
        result["changed"] = False
        result["renamed_in_use"] = {old: renamed[old] for old in in_effect}
        result["deprecations"] = [
            {
                "msg": "The variable %s is deprecated; its value is used for %s. Fix: rename it to %s (if it is meant for "
                "another role, set %s as well)." % (old, renamed[old], renamed[old], renamed[old]),
                "version": removed_in,
                "collection_name": COLLECTION,
            }
            for old in in_effect
        ]
        return result
