# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which Docker Engine a host already has, and where its missing compose v2 plugin would come from."""

from __future__ import annotations

DOCUMENTATION = r"""
name: docker_engine
short_description: The Docker Engine already on a host and the packages of its compose v2 plugin
version_added: 0.1.0
author: PicoClaw maintainers (!UNKNOWN)
description:
  - Reads the output of C(dpkg-query --show --showformat=${Package}|${db:Status-Abbrev}|${Version}\\n)
    over the engine packages and tells which engine is installed (C(docker-ce), C(docker.io), C(moby-engine)),
    C(other) for a C(dockerd) binary that no known package installed, or an empty string for none.
  - An engine is I(existing) when it is there and the role did not install it (no marker file); the docker role
    then never installs, removes or replaces engine packages, and adds only the compose v2 plugin from the engine's
    own source.
options:
  _input:
    description: Standard output of the dpkg-query call above (lines of unknown packages are simply absent).
    type: str
    required: true
  dockerd:
    description: Whether a C(dockerd) binary exists on the host.
    type: bool
    required: true
  installed_by_role:
    description: Whether the role's marker file exists (the role installed this engine itself).
    type: bool
    required: true
  distro_key:
    description: C(<Distribution>-<major version>) of the host, e.g. C(Debian-13).
    type: str
    required: true
  distro_packages:
    description: The role's O(picoclaw_docker_distro_packages) (engine + compose v2 per release).
    type: dict
    required: true
  plugin_packages:
    description: The role's O(picoclaw_docker_compose_plugin_packages) (compose v2 plugin per engine package).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Decide how to treat the engine already on the host
  ansible.builtin.set_fact:
    __docker_engine: >-
      {{ __docker_dpkg.stdout | picoclaw.stack.docker_engine(dockerd=__docker_dockerd.stat.exists,
         installed_by_role=__docker_marker.stat.exists, distro_key='Debian-13',
         distro_packages=picoclaw_docker_distro_packages, plugin_packages=picoclaw_docker_compose_plugin_packages) }}
"""

RETURN = r"""
_value:
  description: The engine found and what the role may do about it.
  type: dict
  contains:
    engine:
      description: C(docker-ce), C(docker.io), C(moby-engine), C(other) or an empty string (no engine).
      type: str
    version:
      description: Version of the engine package (empty for C(other) or none).
      type: str
    existing:
      description: An engine is there and the role did not install it.
      type: bool
    compose_packages:
      description: Packages that add compose v2 from the engine's own source (empty when there is none known).
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

# In order of preference when several are installed (docker-ce's packages replace docker.io's binaries).
ENGINES = ("docker-ce", "docker.io", "moby-engine")


def _installed(dpkg_stdout: str) -> dict:
    """package -> version of the lines whose status is "ii" (wanted: install, state: installed)."""
    found = {}
    for line in dpkg_stdout.splitlines():
        fields = line.split("|")
        if len(fields) == 3 and fields[1].strip() == "ii":
            found[fields[0].strip()] = fields[2].strip()
    return found


def docker_engine(
    dpkg_stdout: object,
    dockerd: bool,
    installed_by_role: bool,
    distro_key: str,
    distro_packages: dict,
    plugin_packages: dict,
) -> dict:
    if not isinstance(dpkg_stdout, str):
        raise AnsibleFilterError("docker_engine: the input is not dpkg-query's output — fix: pass <registered>.stdout")
    if not isinstance(distro_packages, dict) or not isinstance(plugin_packages, dict):
        raise AnsibleFilterError("docker_engine: distro_packages and plugin_packages must be dicts of package lists")
    installed = _installed(dpkg_stdout)
    engine = next((name for name in ENGINES if name in installed), "other" if dockerd else "")
    if engine == "docker.io":
        # The distribution's compose v2 comes with its docker.io: the non-engine packages of its release.
        compose = [name for name in distro_packages.get(distro_key, []) if name != "docker.io"]
    else:
        compose = list(plugin_packages.get(engine, []))
    return {
        "engine": engine,
        "version": installed.get(engine, ""),
        "existing": bool(engine) and not installed_by_role,
        "compose_packages": compose,
    }


class FilterModule:
    def filters(self) -> dict:
        return {"docker_engine": docker_engine}
