# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which engine a host has, fed with dpkg-query output as the docker role's preflight gets it."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.picoclaw.stack.plugins.filter.docker_engine import FilterModule, docker_engine

DISTRO = {"Debian-13": ["docker.io", "docker-compose"], "Ubuntu-24": ["docker.io", "docker-compose-v2"]}
PLUGINS = {"docker-ce": ["docker-compose-plugin"], "moby-engine": ["moby-compose"]}


def plan(stdout, dockerd=True, marker=False, key="Debian-13"):
    return docker_engine(stdout, dockerd=dockerd, installed_by_role=marker, distro_key=key,
                         distro_packages=DISTRO, plugin_packages=PLUGINS)  # fmt: skip


def test_a_fresh_host_has_no_engine():
    assert plan("", dockerd=False) == {"engine": "", "version": "", "existing": False, "compose_packages": []}


def test_docker_ce_installed_before_the_role_is_kept_and_gets_its_own_plugin():
    out = plan("docker-ce|ii |5:27.3.1-1~debian.12~bookworm\n", key="Debian-12")
    assert out == {"engine": "docker-ce", "version": "5:27.3.1-1~debian.12~bookworm", "existing": True,
                   "compose_packages": ["docker-compose-plugin"]}  # fmt: skip


def test_distro_docker_io_gets_the_release_compose_v2():
    assert plan("docker.io|ii |26.1.5+dfsg1-9\n")["compose_packages"] == ["docker-compose"]
    assert plan("docker.io|ii |27.5.1-0ubuntu3\n", key="Ubuntu-24")["compose_packages"] == ["docker-compose-v2"]


def test_debian_12_docker_io_has_no_compose_v2_package():
    out = plan("docker.io|ii |20.10.24+dfsg1-1+b3\n", key="Debian-12")
    assert out["existing"] is True and out["compose_packages"] == []


def test_an_engine_the_role_installed_stays_managed():
    assert plan("docker.io|ii |26.1.5+dfsg1-9\n", marker=True)["existing"] is False


def test_removed_but_not_purged_packages_do_not_count():
    # "rc": removed, config files remain; "un": unknown to dpkg. Neither is an engine.
    out = plan("docker-ce|rc |5:27.3.1-1\ndocker.io|un |\n", dockerd=False)
    assert out["engine"] == "" and out["existing"] is False


def test_docker_ce_wins_over_a_leftover_docker_io():
    out = plan("docker-ce|ii |5:27.3.1-1\ndocker.io|ii |20.10.24\n")
    assert out["engine"] == "docker-ce"


def test_moby_and_a_dockerd_of_unknown_origin():
    assert plan("moby-engine|ii |25.0.5\n")["compose_packages"] == ["moby-compose"]
    other = plan("", dockerd=True)
    assert other == {"engine": "other", "version": "", "existing": True, "compose_packages": []}


def test_bad_input_is_named():
    with pytest.raises(AnsibleFilterError, match="dpkg-query"):
        plan(None)
    with pytest.raises(AnsibleFilterError, match="dicts"):
        docker_engine("", dockerd=False, installed_by_role=False, distro_key="x", distro_packages=[], plugin_packages={})


def test_registered_name():
    assert FilterModule().filters()["docker_engine"] is docker_engine
