# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which renamed variables still run under their old names."""

from __future__ import annotations

from ansible_collections.picoclaw.stack.plugins.action.renamed_vars import old_names_in_effect

RENAMED = {"docker_daemon_options": "picoclaw_docker_daemon_options", "docker_service_state": "picoclaw_docker_service_state"}


def test_nothing_set_under_old_names():
    assert old_names_in_effect(RENAMED, {"picoclaw_docker_daemon_options": {}}) == []


def test_old_name_whose_value_the_new_name_took_is_reported():
    values = {"docker_daemon_options": {"debug": True}, "picoclaw_docker_daemon_options": {"debug": True}}
    assert old_names_in_effect(RENAMED, values) == ["docker_daemon_options"]


def test_old_name_meant_for_another_role_is_silent_once_the_new_name_is_set():
    # geerlingguy.docker's docker_daemon_options in shared group_vars, ours set on its own.
    values = {"docker_daemon_options": {"debug": True}, "picoclaw_docker_daemon_options": {}}
    assert old_names_in_effect(RENAMED, values) == []


def test_old_name_without_the_new_one_defined_is_reported_sorted():
    values = {"docker_service_state": "stopped", "docker_daemon_options": {}}
    assert old_names_in_effect(RENAMED, values) == ["docker_daemon_options", "docker_service_state"]
