# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rollback decision, fed with results shaped like a stat loop over dict2items."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.picoclaw.stack.plugins.filter.rollback_plan import FilterModule, rollback_plan


def results(**files):
    """stat loop results; a value is the checksum, None means the file does not exist."""
    out = []
    for key, checksum in files.items():
        stat = {"exists": True, "checksum": checksum} if checksum is not None else {"exists": False}
        out.append({"item": {"key": key, "value": {"name": key}}, "stat": stat, "changed": False})
    return out


def test_a_different_last_healthy_version_can_be_restored():
    plan = rollback_plan(results(config="a", compose="b", seccomp="c"), results(config="a2", compose="b", seccomp="c"))
    assert plan["possible"] is True and plan["reason"] == ""
    assert plan["last_good"]["config"] == {"exists": True, "checksum": "a"}


def test_named_not_ordered_the_result_order_does_not_matter():
    kept = results(seccomp="c", compose="b", config="a")
    plan = rollback_plan(kept, results(config="x", compose="b", seccomp="c"))
    assert plan["possible"] is True
    assert plan["last_good"]["seccomp"]["checksum"] == "c"


def test_never_healthy_before():
    plan = rollback_plan(results(config=None, compose=None, seccomp=None), results(config="a", compose="b", seccomp="c"))
    assert plan["possible"] is False
    assert plan["reason"] == "this host has never had a healthy version deployed by this role"


def test_failed_version_is_the_last_healthy_one():
    same = results(config="a", compose="b", seccomp=None)
    plan = rollback_plan(same, results(config="a", compose="b", seccomp=None))
    assert plan == {
        "possible": False,
        "reason": "the failed version is the last healthy one",
        "last_good": {
            "config": {"exists": True, "checksum": "a"},
            "compose": {"exists": True, "checksum": "b"},
            "seccomp": {"exists": False, "checksum": ""},
        },
    }


def test_only_the_seccomp_profile_differs_is_a_rollback():
    plan = rollback_plan(results(config="a", compose="b", seccomp=None), results(config="a", compose="b", seccomp="new"))
    assert plan["possible"] is True


def test_a_kept_compose_without_config_cannot_be_restored():
    plan = rollback_plan(results(config=None, compose="b", seccomp=None), results(config="a", compose="c", seccomp=None))
    assert plan["possible"] is False


def test_results_without_item_keys_are_refused():
    with pytest.raises(AnsibleFilterError, match="dict2items"):
        rollback_plan([{"item": {"name": "config.json"}, "stat": {"exists": True}}], [])
    with pytest.raises(AnsibleFilterError, match="results"):
        rollback_plan({"results": []}, [])


def test_filter_is_registered():
    assert FilterModule().filters()["rollback_plan"] is rollback_plan
