# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gateway's build context: which source files go into the image and their digest."""

from __future__ import annotations

DOCUMENTATION = r"""
name: gateway_sources
short_description: The gateway source files of the image build context and their digest
version_added: 0.1.0
author: PicoClaw maintainers (!UNKNOWN)
description:
  - Walks the gateway source directory on the controller and keeps only what the Dockerfile uses
    (C(Dockerfile), C(.dockerignore), C(pyproject.toml), C(README.md), C(LICENSE) and C(src/)), without
    caches, C(*.egg-info) and compiled Python files, so changes to docs or tests rebuild nothing.
  - The digest is a sha256 over the sorted C(<relative path>:<sha1 of the file>) lines; it is the same
    whether the sources come from a clone or from an installed collection.
  - Symbolic links are neither followed nor included.
options:
  _input:
    description: The gateway source directory on the controller.
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Digest the sources of the build context
  ansible.builtin.set_fact:
    __gateway_src: "{{ picoclaw_gateway_src | picoclaw.stack.gateway_sources }}"
"""

RETURN = r"""
_value:
  description: The build context's source files and their digest.
  type: dict
  contains:
    files:
      description: Paths relative to the source directory, sorted.
      type: list
      elements: str
      sample: [Dockerfile, pyproject.toml, src/picoclaw_gateway/__init__.py]
    digest:
      description: sha256 (hex) over the C(<path>:<sha1>) lines of O(files).
      type: str
"""

import hashlib
import os
import re
import stat

from ansible.errors import AnsibleFilterError

# Only what the Dockerfile copies; the same rules decide the digest and what is packed.
_INCLUDED = re.compile(r"^(Dockerfile|\.dockerignore|pyproject\.toml|README\.md|LICENSE|src/.*)$")
_EXCLUDED = re.compile(r"(^|/)(__pycache__|[^/]*\.egg-info)/|\.py[cod]$")


def _sha1(path: str) -> str:
    digest = hashlib.sha1()  # noqa: S324 - a content fingerprint (as ansible.builtin.find's), not security
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _kept(src_dir: str) -> list:
    """(relative path, sha1) of every regular file of the build context, sorted by path."""
    kept = []
    for root, _dirs, names in os.walk(src_dir):
        for name in names:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src_dir)
            if not _INCLUDED.search(rel) or _EXCLUDED.search(rel):
                continue
            if stat.S_ISREG(os.lstat(path).st_mode):
                kept.append((rel, _sha1(path)))
    return sorted(kept)


def gateway_sources(src_dir: str) -> dict:
    if not isinstance(src_dir, str) or not os.path.isdir(src_dir):
        raise AnsibleFilterError(
            "gateway_sources: %r is not a directory on the controller — fix: point picoclaw_gateway_src at the "
            "gateway's source directory (gateway_src/ of the collection)" % (src_dir,)
        )
    kept = _kept(src_dir)
    lines = "\n".join("%s:%s" % pair for pair in kept)
    return {"files": [pair[0] for pair in kept], "digest": hashlib.sha256(lines.encode("utf-8")).hexdigest()}


class FilterModule:
    def filters(self) -> dict:
        return {"gateway_sources": gateway_sources}
