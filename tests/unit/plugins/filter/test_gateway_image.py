# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The build context filters against real directories on disk."""

from __future__ import annotations

import hashlib
import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.picoclaw.stack.plugins.filter.gateway_image_hash import FilterModule as HashFilters
from ansible_collections.picoclaw.stack.plugins.filter.gateway_image_hash import gateway_image_hash
from ansible_collections.picoclaw.stack.plugins.filter.gateway_sources import FilterModule as SourceFilters
from ansible_collections.picoclaw.stack.plugins.filter.gateway_sources import gateway_sources


def write(root, rel, data=b"x"):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)


@pytest.fixture
def src(tmp_path):
    for rel, data in {
        "Dockerfile": b"FROM python\n",
        ".dockerignore": b"*\n",
        "pyproject.toml": b"[project]\n",
        "README.md": b"# gw\n",
        "src/picoclaw_gateway/__init__.py": b"",
        "src/picoclaw_gateway/app.py": b"print(1)\n",
        # Not part of the build context:
        "tests/test_app.py": b"assert 1\n",
        "docs/config.md": b"doc\n",
        "src/picoclaw_gateway/__pycache__/app.cpython-313.pyc": b"\0",
        "src/picoclaw_gateway/app.pyc": b"\0",
        "src/picoclaw_gateway.egg-info/PKG-INFO": b"x",
        "wheelhouse/dep.whl": b"wheel",
    }.items():
        write(tmp_path, rel, data)
    return tmp_path


def expected_digest(root, rels):
    lines = []
    for rel in rels:
        with open(os.path.join(str(root), rel), "rb") as handle:
            lines.append("%s:%s" % (rel, hashlib.sha1(handle.read()).hexdigest()))  # noqa: S324
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


CONTEXT = [".dockerignore", "Dockerfile", "README.md", "pyproject.toml", "src/picoclaw_gateway/__init__.py", "src/picoclaw_gateway/app.py"]


def test_keeps_only_what_the_dockerfile_uses_sorted(src):
    assert gateway_sources(str(src))["files"] == CONTEXT


def test_digest_is_sha256_over_path_and_sha1_lines(src):
    # The same formula the role used with ansible.builtin.find, so existing image tags stay valid.
    assert gateway_sources(str(src))["digest"] == expected_digest(src, CONTEXT)


def test_docs_and_tests_do_not_change_the_digest_sources_do(src):
    before = gateway_sources(str(src))["digest"]
    write(src, "tests/test_app.py", b"assert 2\n")
    write(src, "docs/config.md", b"changed\n")
    assert gateway_sources(str(src))["digest"] == before
    write(src, "src/picoclaw_gateway/app.py", b"print(2)\n")
    assert gateway_sources(str(src))["digest"] != before


def test_same_digest_through_a_path_with_dotdot(src):
    (src / "roles").mkdir()
    detour = os.path.join(str(src), "roles", "..")
    assert gateway_sources(detour) == gateway_sources(str(src))


def test_symlinks_are_not_part_of_the_context(src, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    write(outside, "secret.py", b"token\n")
    os.symlink(os.path.join(str(outside), "secret.py"), os.path.join(str(src), "src", "linked.py"))
    assert "src/linked.py" not in gateway_sources(str(src))["files"]


def test_missing_directory_says_what_to_fix(tmp_path):
    with pytest.raises(AnsibleFilterError, match="fix: point picoclaw_gateway_src"):
        gateway_sources(str(tmp_path / "nope"))


def test_image_hash_formula():
    text = "sources abc\npython 3.13\nbase python:3.13-slim\nsha  wheel.whl"
    assert gateway_image_hash("abc", "3.13", "python:3.13-slim", "sha  wheel.whl\n\n") == hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("field", ["python", "base_image", "manifest"])
def test_image_hash_changes_with_every_input(field):
    args = {"python": "3.13", "base_image": "python:3.13-slim", "manifest": "m"}
    changed = dict(args, **{field: args[field] + "x"})
    assert gateway_image_hash("abc", **args) != gateway_image_hash("abc", **changed)


def test_image_hash_refuses_an_empty_input():
    with pytest.raises(AnsibleFilterError, match="manifest is empty"):
        gateway_image_hash("abc", "3.13", "python:3.13-slim", "  ")


def test_filters_are_registered():
    assert SourceFilters().filters()["gateway_sources"] is gateway_sources
    assert HashFilters().filters()["gateway_image_hash"] is gateway_image_hash
