# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Decide the gateway rollback from the stat results of the kept and the failed version's files."""

from __future__ import annotations

DOCUMENTATION = r"""
name: rollback_plan
short_description: Whether and to what the gateway role can roll back, by file name instead of loop order
version_added: 0.1.0
author: PicoClaw maintainers (!UNKNOWN)
description:
  - Takes the C(results) of two C(ansible.builtin.stat) loops over the files of one deployed version (loop
    items with a C(key) such as C(config), C(compose), C(seccomp), as made by P(ansible.builtin.dict2items#filter)),
    one over the last healthy copies and one over the files of the version that failed.
  - A rollback is possible when the last healthy version has a config and a compose file and differs from
    the failed one.
options:
  _input:
    description: Loop results of stat over the last healthy files.
    type: list
    elements: dict
    required: true
  failed:
    description: Loop results of stat over the failed version's files (same loop items).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Decide whether there is anything to return to
  ansible.builtin.set_fact:
    __gateway_rollback: "{{ __gateway_last_good.results | picoclaw.stack.rollback_plan(__gateway_failed_files.results) }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    last_good:
      description: Per file key, C(exists) and C(checksum) (sha256, empty when missing) of the last healthy copy.
      type: dict
      sample: {config: {exists: true, checksum: "ab12..."}, compose: {exists: true, checksum: "cd34..."}, seccomp: {exists: false, checksum: ""}}
    possible:
      description: Whether there is a different last healthy version to return to.
      type: bool
    reason:
      description: Why there is no rollback (empty when one is possible).
      type: str
"""

from ansible.errors import AnsibleFilterError

# The files one version needs; the seccomp profile is optional (picoclaw_seccomp_profile: default).
REQUIRED = ("config", "compose")


def _by_key(results: object, which: str) -> dict:
    if not isinstance(results, list):
        raise AnsibleFilterError("rollback_plan: %s is not a list of loop results — fix: pass <registered>.results" % which)
    files = {}
    for result in results:
        key = (result.get("item") or {}).get("key") if isinstance(result, dict) else None
        if not key:
            raise AnsibleFilterError("rollback_plan: a result of %s has no item.key — fix: loop over a dict with dict2items" % which)
        status = result.get("stat") or {}
        files[key] = {"exists": bool(status.get("exists")), "checksum": status.get("checksum") or ""}
    return files


def rollback_plan(last_good_results: object, failed: object) -> dict:
    last_good = _by_key(last_good_results, "the last healthy files")
    failed_files = _by_key(failed, "the failed files")
    missing = {"exists": False, "checksum": ""}
    has_version = all(last_good.get(key, missing)["exists"] for key in REQUIRED)
    same = all(last_good[key]["checksum"] == failed_files.get(key, missing)["checksum"] for key in last_good)
    if not last_good.get("compose", missing)["exists"]:
        reason = "this host has never had a healthy version deployed by this role"
    elif not has_version or same:
        reason = "the failed version is the last healthy one"
    else:
        reason = ""
    return {"last_good": last_good, "possible": not reason, "reason": reason}


class FilterModule:
    def filters(self) -> dict:
        return {"rollback_plan": rollback_plan}
