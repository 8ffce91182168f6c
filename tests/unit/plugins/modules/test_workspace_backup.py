# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import tarfile
import textwrap
import time

import pytest

from ansible_collections.picoclaw.stack.plugins.module_utils import workspace_archive
from ansible_collections.picoclaw.stack.plugins.modules import workspace_backup

NAME_RE = re.compile(r"^picoclaw-\d{8}T\d{6}Z(-\d+)?\.tar\.gz$")


@pytest.fixture
def stack(tmp_path):
    """A small deployed stack: config/, workspace/ with sessions, a symlink, and unrelated files."""
    root = tmp_path / "stack"
    (root / "config").mkdir(parents=True)
    (root / "workspace" / "sessions").mkdir(parents=True)
    (root / "config" / "config.json").write_text('{"llm": {}}\n')
    os.chmod(str(root / "config" / "config.json"), 0o600)
    os.chmod(str(root / "config"), 0o750)
    (root / "workspace" / "notes.md").write_text("remember the milk\n")
    os.chmod(str(root / "workspace" / "notes.md"), 0o640)
    (root / "workspace" / "sessions" / "telegram-1.jsonl").write_text('{"role": "user"}\n')
    os.symlink("notes.md", str(root / "workspace" / "latest"))
    (root / "compose.yaml").write_text("services: {}\n")  # not in the default paths
    return root


def members(archive):
    with tarfile.open(archive, "r:gz") as tar:
        return {member.name: member for member in tar.getmembers()}


def member_bytes(archive, name):
    with tarfile.open(archive, "r:gz") as tar:
        return tar.extractfile(name).read()


def test_archive_holds_config_and_workspace_with_modes_and_checksum(stack, tmp_path, run_module):
    dest = tmp_path / "backups"

    run = run_module(workspace_backup, {"stack_dir": str(stack), "dest": str(dest)})

    assert run.rc == 0, run.result
    result = run.result
    assert result["changed"] is True
    archive = result["archive"]
    assert os.path.dirname(archive) == str(dest)
    assert NAME_RE.match(os.path.basename(archive))
    assert sorted(members(archive)) == [
        "config", "config/config.json", "workspace", "workspace/latest", "workspace/notes.md",
        "workspace/sessions", "workspace/sessions/telegram-1.jsonl",
    ]
    assert result["file_count"] == 4
    assert member_bytes(archive, "workspace/notes.md") == b"remember the milk\n"
    found = members(archive)
    assert found["workspace/latest"].issym() and found["workspace/latest"].linkname == "notes.md"
    assert found["config/config.json"].mode == 0o600
    assert found["config"].mode == 0o750
    assert found["workspace/notes.md"].mode == 0o640

    with open(archive, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    assert result["sha256"] == digest
    assert result["size"] == os.path.getsize(archive)
    assert result["checksum_file"] == archive + ".sha256"
    with open(result["checksum_file"]) as handle:
        assert handle.read() == "%s  %s\n" % (digest, os.path.basename(archive))
    check = subprocess.run(["sha256sum", "-c", os.path.basename(result["checksum_file"])],
                           cwd=str(dest), capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr

    # Backups hold secrets: private files in a private directory, no temp files left.
    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    assert sorted(os.listdir(str(dest))) == sorted([os.path.basename(archive), os.path.basename(archive) + ".sha256"])


def test_ownership_is_recorded_numerically(stack, tmp_path, run_module):
    if os.geteuid() != 0:
        pytest.skip("needs root to chown to arbitrary ids")
    target = stack / "workspace" / "notes.md"
    os.chown(str(target), 12345, 23456)

    run = run_module(workspace_backup, {"stack_dir": str(stack), "dest": str(tmp_path / "b")})

    member = members(run.result["archive"])["workspace/notes.md"]
    assert (member.uid, member.gid) == (12345, 23456)
    assert (member.uname, member.gname) == ("", "")
    # GNU tar restores those ids as they were.
    restore = tmp_path / "restore"
    restore.mkdir()
    subprocess.run(["tar", "--numeric-owner", "--same-owner", "-xpzf", run.result["archive"], "-C", str(restore)],
                   check=True)
    restored = os.stat(str(restore / "workspace" / "notes.md"))
    assert (restored.st_uid, restored.st_gid) == (12345, 23456)
    assert stat.S_IMODE(restored.st_mode) == 0o640


def test_retention_prunes_the_oldest_archives_only(stack, tmp_path, run_module):
    dest = tmp_path / "backups"
    dest.mkdir()
    old = ["picoclaw-20250101T000000Z.tar.gz", "picoclaw-20250102T000000Z.tar.gz",
           "picoclaw-20250102T000000Z-2.tar.gz", "picoclaw-20250103T000000Z.tar.gz"]
    for name in old:
        (dest / name).write_bytes(b"old")
        (dest / (name + ".sha256")).write_text("x  %s\n" % name)
    (dest / "nightly-20240101T000000Z.tar.gz").write_bytes(b"other prefix")
    (dest / "notes.txt").write_text("not an archive")

    run = run_module(workspace_backup, {"stack_dir": str(stack), "dest": str(dest), "retention": 3})

    assert run.result["removed"] == [str(dest / old[0]), str(dest / old[1])]
    left = sorted(os.listdir(str(dest)))
    new = os.path.basename(run.result["archive"])
    assert left == sorted([
        old[2], old[2] + ".sha256", old[3], old[3] + ".sha256", new, new + ".sha256",
        "nightly-20240101T000000Z.tar.gz", "notes.txt",
    ])


def test_check_mode_reports_the_plan_and_writes_nothing(stack, tmp_path, run_module):
    dest = tmp_path / "backups"
    dest.mkdir()
    (dest / "picoclaw-20250101T000000Z.tar.gz").write_bytes(b"old")

    run = run_module(workspace_backup, {"stack_dir": str(stack), "dest": str(dest), "retention": 1},
                     check_mode=True)

    assert run.rc == 0
    assert run.result["changed"] is True
    assert NAME_RE.match(os.path.basename(run.result["archive"]))
    assert run.result["file_count"] == 4
    assert run.result["removed"] == [str(dest / "picoclaw-20250101T000000Z.tar.gz")]
    assert os.listdir(str(dest)) == ["picoclaw-20250101T000000Z.tar.gz"]

    missing_dest = tmp_path / "not-yet"
    run = run_module(workspace_backup, {"stack_dir": str(stack), "dest": str(missing_dest)}, check_mode=True)
    assert run.result["changed"] is True
    assert not missing_dest.exists()


def test_paths_outside_the_stack_are_refused(stack, tmp_path, run_module):
    run = run_module(workspace_backup, {"stack_dir": str(stack), "dest": str(tmp_path / "b"), "paths": ["../etc"]})

    assert run.rc == 1
    assert "paths entry '../etc'" in run.result["msg"]
    assert not (tmp_path / "b").exists()


def test_missing_paths_warn_and_nothing_at_all_fails(stack, tmp_path, run_module):
    run = run_module(workspace_backup, {"stack_dir": str(stack), "dest": str(tmp_path / "b"),
                                        "paths": ["config", "nope"]})
    assert run.rc == 0
    assert run.result["missing_paths"] == ["nope"]
    assert "nope" in json.dumps(run.result["warnings"])

    run = run_module(workspace_backup, {"stack_dir": str(stack), "dest": str(tmp_path / "b"), "paths": ["nope"]})
    assert run.rc == 1
    assert "nothing to back up" in run.result["msg"]


def test_dest_inside_a_backed_up_path_is_left_out(stack, run_module):
    dest = stack / "workspace" / "backups"
    run_module(workspace_backup, {"stack_dir": str(stack), "dest": str(dest)})

    run = run_module(workspace_backup, {"stack_dir": str(stack), "dest": str(dest)})

    assert not [name for name in members(run.result["archive"]) if name.startswith("workspace/backups")]


def test_a_file_that_vanished_is_skipped(tmp_path):
    (tmp_path / "workspace").mkdir()
    result = workspace_archive.ArchiveResult()
    gone = workspace_archive.Entry(str(tmp_path / "workspace" / "gone.tmp"), "workspace/gone.tmp", "file",
                                   str(tmp_path / "workspace"))
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(str(archive), "w:gz") as tar:
        workspace_archive._add_entry(tar, gone, 3, result)
    assert result.skipped == ["workspace/gone.tmp"]
    assert members(str(archive)) == {}


def test_a_symlinked_paths_entry_is_followed_but_links_inside_are_not(stack, tmp_path, run_module):
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "memory.md").write_text("on another disk\n")
    (tmp_path / "secret").write_text("host secret\n")
    os.symlink(str(tmp_path / "secret"), str(volume / "escape"))
    os.rename(str(stack / "workspace"), str(tmp_path / "old-workspace"))
    os.symlink(str(volume), str(stack / "workspace"))

    run = run_module(workspace_backup, {"stack_dir": str(stack), "dest": str(tmp_path / "b")})

    found = members(run.result["archive"])
    assert found["workspace"].isdir()
    assert member_bytes(run.result["archive"], "workspace/memory.md") == b"on another disk\n"
    assert found["workspace/escape"].issym()
    assert found["workspace/escape"].linkname == str(tmp_path / "secret")


def _planned(stack):
    result = workspace_archive.ArchiveResult()
    entries = workspace_archive.plan_entries(str(stack), ["workspace"], result)
    return result, entries


def _archive_entries(tmp_path, entries, result):
    archive = tmp_path / "swap.tar.gz"
    with tarfile.open(str(archive), "w:gz") as tar:
        for entry in entries:
            workspace_archive._add_entry(tar, entry, 3, result)
    return str(archive)


def test_a_file_swapped_for_a_link_after_planning_is_not_read_through(stack, tmp_path):
    (tmp_path / "shadow").write_text("root:$6$hash\n")
    result, entries = _planned(stack)
    notes = stack / "workspace" / "notes.md"
    notes.unlink()
    os.symlink(str(tmp_path / "shadow"), str(notes))  # the swap a hostile tool could race in

    archive = _archive_entries(tmp_path, entries, result)

    assert "workspace/notes.md" in result.skipped
    assert "workspace/notes.md" not in members(archive)
    with open(archive, "rb") as handle:
        assert b"$6$hash" not in gzip.decompress(handle.read())


def test_a_directory_swapped_for_a_link_after_planning_is_not_walked_into(stack, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "telegram-1.jsonl").write_text("not from the workspace\n")
    result, entries = _planned(stack)
    sessions = stack / "workspace" / "sessions"
    os.rename(str(sessions), str(tmp_path / "moved-sessions"))
    os.symlink(str(elsewhere), str(sessions))

    archive = _archive_entries(tmp_path, entries, result)

    assert "workspace/sessions/telegram-1.jsonl" in result.skipped
    assert "workspace/sessions/telegram-1.jsonl" not in members(archive)


WRITER = textwrap.dedent("""
    import json, os, sys, time
    path, stop = sys.argv[1], sys.argv[2]
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    n = 0
    while not os.path.exists(stop):
        # One write per line, like the gateway's session log.
        os.write(fd, (json.dumps({"n": n, "text": "x" * (n % 300)}) + "\\n").encode())
        n += 1
        time.sleep(0.0001)
    os.close(fd)
""")


def test_a_session_log_growing_during_the_backup_is_archived_as_a_consistent_prefix(stack, tmp_path, run_module):
    sessions = stack / "workspace" / "sessions"
    log = sessions / "telegram-1.jsonl"
    # Enough data that the backup takes a while and the writer lands appends in the middle of it.
    with open(str(log), "w") as handle:
        for n in range(150000):
            handle.write(json.dumps({"seed": n, "text": "y" * 40}) + "\n")
    for n in range(10):
        (sessions / ("old-%02d.jsonl" % n)).write_bytes(os.urandom(100000))
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(log), str(stop)])
    try:
        time.sleep(0.2)  # the writer is appending before the backup starts
        size_before = log.stat().st_size
        run = run_module(workspace_backup, {"stack_dir": str(stack), "dest": str(tmp_path / "b"), "retries": 1})
    finally:
        stop.write_text("")
        writer.wait(timeout=30)
    assert writer.returncode == 0
    assert run.rc == 0, run.result

    archive = run.result["archive"]
    assert workspace_archive.verify_archive(archive) > 0  # every member reads back: not corrupt
    copy = member_bytes(archive, "workspace/sessions/telegram-1.jsonl")
    final = log.read_bytes()
    assert len(copy) >= size_before  # the writer kept going: the copy is not an old version
    assert len(final) > len(copy)
    assert final[:len(copy)] == copy  # consistent prefix of what the writer produced
    lines = copy.split(b"\n")
    for line in lines[:-1]:
        json.loads(line)  # every complete line is intact
    assert members(archive)["workspace/sessions/telegram-1.jsonl"].size == len(copy)
    # Either the re-read caught a quiet moment or the file is reported as still changing.
    assert run.result["changing"] in ([], ["workspace/sessions/telegram-1.jsonl"])
    if run.result["changing"]:
        assert "still changing" in json.dumps(run.result["warnings"])
