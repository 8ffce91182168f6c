# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading the old deploy.sh docker-compose.yaml: its container and where its workspace lives."""

from __future__ import annotations

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.picoclaw.stack.plugins.filter.deploysh_install import FilterModule, deploysh_install

OLD = "/opt/stacks/picoclaw"

# The layout deploy.sh wrote (bind-mounted workspace).
BIND = """
services:
  picoclaw:
    image: sipeed/picoclaw:latest
    container_name: picoclaw
    restart: unless-stopped
    security_opt: ["seccomp=./seccomp-profile.json", "no-new-privileges:true"]
    volumes:
      - ./config/config.json:/root/.picoclaw/config.json:ro
      - ./workspace:/root/.picoclaw/workspace
"""

# The Polish variant: a named volume.
VOLUME = """
services:
  picoclaw:
    image: sipeed/picoclaw:latest
    container_name: picoclaw
    volumes:
      - ./config/config.json:/root/.picoclaw/config.json:ro
      - picoclaw-workspace:/root/.picoclaw/workspace
volumes:
  picoclaw-workspace:
"""


def read(text, old=OLD, stack=OLD, **kwargs):
    return deploysh_install(yaml.safe_load(text), old_dir=old, stack_dir=stack, **kwargs)


def test_bind_mount_in_our_own_directory_is_already_ours():
    found = read(BIND)
    assert found["found"] is True and found["service"] == "picoclaw" and found["image"] == "sipeed/picoclaw:latest"
    assert found["workspace"] == {"type": "bind", "path": OLD + "/workspace", "volume": "", "ours": True}


def test_bind_mount_in_another_directory_has_to_move():
    found = read(BIND, stack="/srv/picoclaw")
    assert found["workspace"] == {"type": "bind", "path": OLD + "/workspace", "volume": "", "ours": False}


def test_named_volume_gets_compose_project_prefix():
    assert read(VOLUME)["workspace"] == {"type": "volume", "path": "", "volume": "picoclaw_picoclaw-workspace", "ours": False}


def test_named_volume_with_explicit_or_external_name():
    named = VOLUME.replace("  picoclaw-workspace:\n", "  picoclaw-workspace:\n    name: pc-ws\n").rstrip() + "\n"
    assert read(named)["workspace"]["volume"] == "pc-ws"
    external = VOLUME.rstrip() + "\n    external: true\n"
    assert read(external)["workspace"]["volume"] == "picoclaw-workspace"
    project = "name: Old.Bot\n" + VOLUME
    assert read(project)["workspace"]["volume"] == "oldbot_picoclaw-workspace"


def test_long_volume_syntax():
    text = """
services:
  bot:
    image: sipeed/picoclaw:latest
    container_name: picoclaw
    volumes:
      - {type: bind, source: ./data/ws, target: /root/.picoclaw/workspace}
"""
    assert read(text)["workspace"] == {"type": "bind", "path": OLD + "/data/ws", "volume": "", "ours": False}


def test_other_compose_files_are_not_an_installation():
    assert read("services:\n  n8n:\n    image: n8nio/n8n\n    container_name: n8n\n")["found"] is False
    assert read("just text")["found"] is False
    assert deploysh_install(None, old_dir=OLD, stack_dir=OLD)["found"] is False
    assert read(BIND, container_name="other")["found"] is False


def test_no_workspace_mount_and_home_relative_sources():
    no_ws = "services:\n  p:\n    container_name: picoclaw\n    image: x\n"
    assert read(no_ws)["workspace"]["type"] == "none"
    home = "services:\n  p:\n    container_name: picoclaw\n    volumes: ['~/ws:/root/.picoclaw/workspace']\n"
    assert read(home)["workspace"]["type"] == "none"


def test_relative_directories_are_refused():
    with pytest.raises(AnsibleFilterError, match="absolute"):
        deploysh_install({}, old_dir="stacks/picoclaw", stack_dir=OLD)


def test_registered_name():
    assert FilterModule().filters()["deploysh_install"] is deploysh_install
