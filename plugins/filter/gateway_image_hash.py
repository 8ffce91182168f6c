# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gateway image's identity: one hash over everything that goes into the image."""

from __future__ import annotations

DOCUMENTATION = r"""
name: gateway_image_hash
short_description: The sha256 that names a gateway image
version_added: 0.1.0
author: PicoClaw maintainers (!UNKNOWN)
description:
  - A sha256 over the digest of the gateway sources (see P(picoclaw.stack.gateway_sources#filter)), the base
    image's Python version, the base image and the wheelhouse manifest (the exact dependency wheels).
  - Its first 16 characters are the image tag, so an unchanged rerun finds the tag on the host and neither
    copies nor builds anything.
options:
  _input:
    description: The digest of the gateway sources.
    type: str
    required: true
  python:
    description: Python version of the base image.
    type: str
    required: true
  base_image:
    description: The base image.
    type: str
    required: true
  manifest:
    description: Content of the wheelhouse's C(MANIFEST.sha256) (trailing whitespace is ignored).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Compute the image tag
  ansible.builtin.set_fact:
    __gateway_image_hash: >-
      {{ __gateway_src.digest | picoclaw.stack.gateway_image_hash(python=picoclaw_base_python_version,
         base_image=picoclaw_base_image, manifest=lookup('ansible.builtin.file', manifest_path)) }}
"""

RETURN = r"""
_value:
  description: sha256 (hex).
  type: str
"""

import hashlib

from ansible.errors import AnsibleFilterError


def gateway_image_hash(src_digest: str, python: str, base_image: str, manifest: str) -> str:
    parts = {"sources digest": src_digest, "python": python, "base_image": base_image, "manifest": manifest}
    for name, value in parts.items():
        if value is None or not str(value).strip():
            raise AnsibleFilterError("gateway_image_hash: %s is empty — fix: pass the value the role computed" % name)
    text = "sources %s\npython %s\nbase %s\n%s" % (src_digest, python, base_image, str(manifest).rstrip())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class FilterModule:
    def filters(self) -> dict:
        return {"gateway_image_hash": gateway_image_hash}
