# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() the way Ansible does: args in, JSON on stdout, exit code."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args


class ModuleRun:
    def __init__(self, result, rc, stdout):
        self.result = result
        self.rc = rc
        self.stdout = stdout

    @property
    def failed(self):
        return bool(self.result.get("failed"))


@pytest.fixture
def run_module(capsys):
    """Call ``module.main()`` with ``args``; returns the parsed result, exit code and raw stdout."""

    def _run(module, args, check_mode=False, diff=False):
        full_args = dict(args)
        full_args["_ansible_check_mode"] = check_mode
        full_args["_ansible_diff"] = diff
        capsys.readouterr()
        with patch_module_args(full_args):
            with pytest.raises(SystemExit) as exit_info:
                module.main()
        stdout = capsys.readouterr().out
        return ModuleRun(json.loads(stdout), exit_info.value.code, stdout)

    return _run
