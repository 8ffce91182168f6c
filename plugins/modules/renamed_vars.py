#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Documentation only: the work is done on the controller by plugins/action/renamed_vars.py.
DOCUMENTATION = r"""
---
module: renamed_vars
short_description: Warn about role variables that are still set under their deprecated names
version_added: 0.1.0
description:
  - For each pair of O(renamed), prints a deprecation warning when the old name is set and its value is in
    effect, that is the new name was not set to something else. The role's defaults make the new name take
    the old name's value (the default of the new name is the old name with a fallback); this module only
    tells the user to rename.
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
  renamed:
    description: Old variable name to new variable name.
    type: dict
    required: true
  removed_in:
    description: Collection version in which the old names stop working.
    type: str
    required: true
"""

EXAMPLES = r"""
---
- name: Warn about the docker role's pre-0.2 variable names
  picoclaw.stack.renamed_vars:
    renamed:
      docker_daemon_options: picoclaw_docker_daemon_options
    removed_in: 0.3.0
"""

RETURN = r"""
---
renamed_in_use:
  description: The old names whose values are in effect, mapped to their new names.
  returned: always
  type: dict
  sample: {docker_daemon_options: picoclaw_docker_daemon_options}
"""
