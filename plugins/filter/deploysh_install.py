# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read an old deploy.sh installation's docker-compose.yaml: its container and where its workspace lives."""

from __future__ import annotations

DOCUMENTATION = r"""
name: deploysh_install
short_description: The container and workspace of an old deploy.sh installation, from its docker-compose.yaml
version_added: 0.1.0
author: PicoClaw maintainers (!UNKNOWN)
description:
  - The old shell installer (C(deploy.sh picoclaw)) wrote C(<dir>/docker-compose.yaml) with one service whose
    C(container_name) is C(picoclaw), its workspace bind-mounted from C(./workspace) or kept in a named volume
    (C(picoclaw-workspace) in one variant), and C(config/config.json) beside it.
  - Takes the parsed compose file and tells whether it is such an installation, and where its workspace is
    (an absolute host path for a bind mount, the Docker volume name for a named volume, with compose's
    project-name prefix applied as compose does).
options:
  _input:
    description: The old docker-compose.yaml, parsed (a dict); anything else means "no installation".
    type: raw
    required: true
  old_dir:
    description: Directory holding the old docker-compose.yaml.
    type: path
    required: true
  stack_dir:
    description: The gateway role's stack directory (O(picoclaw_stack_dir)).
    type: path
    required: true
  container_name:
    description: C(container_name) of the old service.
    type: str
    default: picoclaw
"""

EXAMPLES = r"""
- name: Read the old installation
  ansible.builtin.set_fact:
    __gateway_takeover: >-
      {{ (__gateway_old_compose.content | ansible.builtin.b64decode | ansible.builtin.from_yaml)
         | picoclaw.stack.deploysh_install(old_dir=picoclaw_takeover_dir, stack_dir=picoclaw_stack_dir) }}
"""

RETURN = r"""
_value:
  description: What was found.
  type: dict
  contains:
    found:
      description: The compose file has a service with this container_name.
      type: bool
    service:
      description: Name of that service.
      type: str
    image:
      description: Its image.
      type: str
    workspace:
      description:
        - C(type) C(bind) (C(path) absolute), C(volume) (C(volume) the Docker volume name) or C(none).
        - C(ours) is true for a bind mount of the stack's own C(workspace/) (same directory), so nothing moves.
      type: dict
"""

import os
import re

from ansible.errors import AnsibleFilterError

_NONE = {"type": "none", "path": "", "volume": "", "ours": False}


def _mounts(service: dict) -> list:
    """(source, target) of every volume entry, short ("src:dst[:mode]") or long syntax."""
    mounts = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, str):
            parts = entry.split(":")
            if len(parts) >= 2:
                mounts.append((parts[0], parts[1]))
        elif isinstance(entry, dict) and entry.get("source") and entry.get("target"):
            mounts.append((str(entry["source"]), str(entry["target"])))
    return mounts


def _is_workspace(source: str, target: str) -> bool:
    return target.rstrip("/").endswith("/workspace") or os.path.basename(source.rstrip("/")) == "workspace" or (
        "workspace" in source and not source.startswith((".", "/", "~"))
    )


def _project(compose: dict, old_dir: str) -> str:
    # compose: the top-level name, else the directory's name, lower-cased, only [a-z0-9_-].
    name = compose.get("name") or os.path.basename(os.path.normpath(old_dir))
    return re.sub(r"[^a-z0-9_-]", "", str(name).lower())


def _volume_name(compose: dict, key: str, old_dir: str) -> str:
    spec = (compose.get("volumes") or {}).get(key) or {}
    if isinstance(spec, dict) and spec.get("name"):
        return str(spec["name"])
    if isinstance(spec, dict) and spec.get("external"):
        return key
    return "%s_%s" % (_project(compose, old_dir), key)


def deploysh_install(compose: object, old_dir: str, stack_dir: str, container_name: str = "picoclaw") -> dict:
    if not old_dir or not os.path.isabs(old_dir) or not stack_dir or not os.path.isabs(stack_dir):
        raise AnsibleFilterError("deploysh_install: old_dir and stack_dir must be absolute paths — fix: check picoclaw_takeover_dir")
    services = compose.get("services") if isinstance(compose, dict) else None
    if not isinstance(services, dict):
        return {"found": False, "service": "", "image": "", "workspace": dict(_NONE)}
    matches = [(n, s) for n, s in services.items() if isinstance(s, dict) and s.get("container_name") == container_name]
    if not matches:
        return {"found": False, "service": "", "image": "", "workspace": dict(_NONE)}
    name, service = matches[0]
    workspace = dict(_NONE)
    for source, target in _mounts(service):
        # A home-relative (~) source depends on the user who ran compose: not taken over.
        if source.startswith("~") or not _is_workspace(source, target):
            continue
        if source.startswith((".", "/")):
            path = os.path.normpath(os.path.join(old_dir, source))
            ours = path == os.path.normpath(os.path.join(stack_dir, "workspace"))
            workspace = {"type": "bind", "path": path, "volume": "", "ours": ours}
        else:
            workspace = {"type": "volume", "path": "", "volume": _volume_name(compose, source, old_dir), "ours": False}
        break
    return {"found": True, "service": str(name), "image": str(service.get("image") or ""), "workspace": workspace}


class FilterModule:
    def filters(self) -> dict:
        return {"deploysh_install": deploysh_install}
