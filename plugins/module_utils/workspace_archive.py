# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Consistent, atomic tar.gz snapshots of the PicoClaw stack's data.

Used by the ``picoclaw.stack.workspace_backup`` module. Standard library only.

The gateway keeps writing (session JSONL files grow) while a backup runs, so
each regular file is copied into a spool first and only then added to the tar
with the exact number of bytes copied: the archive is never corrupt. If a file
changed during the copy it is re-read (bounded); if it keeps changing, the
bytes present when it was opened are kept, which for an append-only file is a
consistent prefix. Files that vanish are skipped and reported.
"""

from __future__ import absolute_import, division, print_function

import errno
import hashlib
import os
import stat
import tarfile
import tempfile

from ansible_collections.picoclaw.stack.plugins.module_utils.archive_names import (
    CHECKSUM_SUFFIX,
    archive_name,
    list_archives,
    prunable,
)

__metaclass__ = type

_CHUNK = 1024 * 1024
# Files up to this size stay in memory while being copied; larger ones spill to disk.
_SPOOL_MAX = 8 * 1024 * 1024


class BackupError(Exception):
    """A problem the caller must fix (bad parameter, unreadable directory)."""


class Entry:
    """One filesystem object planned for the archive."""

    __slots__ = ("abs_path", "arcname", "follow", "kind", "top")

    def __init__(self, abs_path, arcname, kind, top, follow=False):
        self.abs_path = abs_path
        self.arcname = arcname
        self.kind = kind  # "dir" | "file" | "symlink"
        # The `paths` entry this object lies under. Only that entry itself is followed
        # when it is a symlink (e.g. a workspace on another volume); links below it are
        # stored as links and never followed, not even by a swap during the backup.
        self.top = top
        self.follow = follow


class ArchiveResult:
    """What a backup produced (or would produce in check mode)."""

    def __init__(self):
        self.archive = None
        self.checksum_file = None
        self.sha256 = None
        self.size = 0
        self.file_count = 0
        self.skipped = []  # vanished or unsupported objects: list of arcnames
        self.changing = []  # files still changing after all re-reads: list of arcnames
        self.missing_paths = []  # entries of `paths` not present under stack_dir
        self.removed = []  # pruned archive paths

    def as_dict(self):
        return {
            "archive": self.archive,
            "checksum_file": self.checksum_file,
            "sha256": self.sha256,
            "size": self.size,
            "file_count": self.file_count,
            "skipped": list(self.skipped),
            "changing": list(self.changing),
            "missing_paths": list(self.missing_paths),
            "removed": list(self.removed),
        }


def check_relative_paths(paths):
    """Reject absolute entries and entries escaping the stack directory."""
    for item in paths:
        norm = os.path.normpath(item)
        if not item or os.path.isabs(item) or norm == ".." or norm.startswith(".." + os.sep):
            raise BackupError(
                "paths entry %r must be a relative path inside stack_dir "
                "(fix: use a name like 'config' or 'workspace')" % (item,)
            )


def check_prefix(prefix):
    if not prefix or "/" in prefix or prefix.startswith("."):
        raise BackupError(
            "prefix %r must be a non-empty file name part without '/' and not starting with '.' "
            "(fix: use something like 'picoclaw-')" % (prefix,)
        )


def plan_entries(stack_dir, paths, result, exclude_dir=None):
    """Walk ``paths`` under ``stack_dir`` without following symlinks.

    ``exclude_dir`` (the backup destination) is left out so a destination
    inside a backed-up tree does not archive earlier archives.
    """
    if not os.path.isdir(stack_dir):
        raise BackupError("stack_dir %s is not a directory (fix: point stack_dir at the deployed stack)" % stack_dir)
    entries = []
    for item in paths:
        top = os.path.join(stack_dir, os.path.normpath(item))
        if not os.path.lexists(top):
            result.missing_paths.append(item)
            continue
        _plan_one(stack_dir, top, top, entries, result, exclude_dir, follow=True)
    if not entries:
        raise BackupError(
            "nothing to back up: none of %s exists under %s (fix: check stack_dir and paths)"
            % (", ".join(paths), stack_dir)
        )
    return entries


def _stat(path, follow):
    return os.stat(path) if follow else os.lstat(path)


def _plan_one(stack_dir, top, abs_path, entries, result, exclude_dir, follow=False):
    if exclude_dir is not None and os.path.abspath(abs_path) == exclude_dir:
        return
    arcname = os.path.relpath(abs_path, stack_dir)
    try:
        st = _stat(abs_path, follow)
    except FileNotFoundError:  # vanished, or a dangling top-level link
        result.skipped.append(arcname)
        return
    if stat.S_ISLNK(st.st_mode):
        entries.append(Entry(abs_path, arcname, "symlink", top))
    elif stat.S_ISREG(st.st_mode):
        entries.append(Entry(abs_path, arcname, "file", top, follow))
    elif stat.S_ISDIR(st.st_mode):
        entries.append(Entry(abs_path, arcname, "dir", top, follow))
        try:
            names = sorted(os.listdir(abs_path))
        except FileNotFoundError:
            return
        for name in names:
            _plan_one(stack_dir, top, os.path.join(abs_path, name), entries, result, exclude_dir)
    else:
        # Sockets, FIFOs, devices: nothing a restore could use.
        result.skipped.append(arcname)


def _tarinfo_from_stat(arcname, st):
    info = tarfile.TarInfo(arcname)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid = st.st_uid
    info.gid = st.st_gid
    # Numeric ownership only: names may map to other ids on the restore host.
    info.uname = ""
    info.gname = ""
    info.mtime = int(st.st_mtime)
    return info


def _same_version(before, after):
    return before.st_size == after.st_size and before.st_mtime_ns == after.st_mtime_ns and before.st_ino == after.st_ino


class _Gone(Exception):
    """The object vanished or was replaced by a link or a non-regular file."""


_GONE_ERRNOS = (errno.ENOENT, errno.ELOOP, errno.ENOTDIR)


def _open_regular(entry):
    """Open ``entry`` for reading without following any symlink below its ``paths`` entry.

    The backup runs as root over a workspace the assistant's tools write to: a file
    swapped for a link to /etc/shadow between planning and reading must not be read.
    """
    nonblock = getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in must not block the open
    try:
        if entry.abs_path == entry.top:
            fd = os.open(entry.top, os.O_RDONLY | nonblock)
        else:
            parts = os.path.relpath(entry.abs_path, entry.top).split(os.sep)
            dir_fd = os.open(entry.top, os.O_RDONLY | os.O_DIRECTORY)
            try:
                for part in parts[:-1]:
                    next_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
                    os.close(dir_fd)
                    dir_fd = next_fd
                fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | nonblock, dir_fd=dir_fd)
            finally:
                os.close(dir_fd)
    except OSError as exc:
        if exc.errno in _GONE_ERRNOS:
            raise _Gone() from exc
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _Gone()
    return os.fdopen(fd, "rb")


def _copy_stable(entry, retries):
    """Copy a regular file to a spool.

    Returns ``(spool, stat, stable)`` or ``None`` if the file vanished. Only
    the bytes present when the file was opened are copied, so an appending
    writer cannot make the copy longer than its header says.
    """
    spool = None
    for attempt in range(retries + 1):
        if spool is not None:
            spool.close()
        try:
            handle = _open_regular(entry)
        except _Gone:
            return None
        with handle:
            before = os.fstat(handle.fileno())
            spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX)
            remaining = before.st_size
            while remaining > 0:
                chunk = handle.read(min(_CHUNK, remaining))
                if not chunk:
                    break  # truncated while reading: keep what was there
                spool.write(chunk)
                remaining -= len(chunk)
            after = os.fstat(handle.fileno())
        try:
            # Replaced by a newer version (atomic rename) since it was opened?
            current = _stat(entry.abs_path, entry.follow)
        except FileNotFoundError:
            current = None
        if remaining == 0 and _same_version(before, after) and current is not None and _same_version(after, current):
            spool.seek(0)
            return spool, before, True
        if attempt == retries:
            spool.seek(0)
            return spool, before, False
    return None  # pragma: no cover - the loop always returns


def _add_entry(tar, entry, retries, result):
    try:
        st = _stat(entry.abs_path, entry.follow)
    except FileNotFoundError:
        result.skipped.append(entry.arcname)
        return
    if entry.kind == "dir" and stat.S_ISDIR(st.st_mode):
        info = _tarinfo_from_stat(entry.arcname, st)
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    elif entry.kind == "symlink" and stat.S_ISLNK(st.st_mode):
        info = _tarinfo_from_stat(entry.arcname, st)
        info.type = tarfile.SYMTYPE
        try:
            info.linkname = os.readlink(entry.abs_path)
        except FileNotFoundError:
            result.skipped.append(entry.arcname)
            return
        tar.addfile(info)
        result.file_count += 1
    elif entry.kind == "file" and stat.S_ISREG(st.st_mode):
        copied = _copy_stable(entry, retries)
        if copied is None:
            result.skipped.append(entry.arcname)
            return
        spool, file_stat, stable = copied
        with spool:
            spool.seek(0, os.SEEK_END)
            size = spool.tell()
            spool.seek(0)
            info = _tarinfo_from_stat(entry.arcname, file_stat)
            info.size = size
            tar.addfile(info, spool)
        if not stable:
            result.changing.append(entry.arcname)
        result.file_count += 1
    else:
        # Replaced by another kind of object since planning: skip rather than guess.
        result.skipped.append(entry.arcname)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_archive(path):
    """Read every member back; raises if the gzip or tar stream is damaged."""
    count = 0
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if member.isfile():
                extracted = tar.extractfile(member)
                if extracted is not None:
                    while extracted.read(_CHUNK):
                        pass
            count += 1
    return count


def _write_atomically(dest, name, writer):
    """Write via a hidden temporary file in ``dest`` then rename (0600: backups hold secrets)."""
    fd, tmp_path = tempfile.mkstemp(prefix=".%s." % name, suffix=".tmp", dir=dest)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            writer(handle)
            handle.flush()
            os.fsync(handle.fileno())
        return tmp_path
    except BaseException:
        try:
            os.unlink(tmp_path)
        except OSError:
            pass
        raise


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dest(dest):
    if not os.path.isdir(dest):
        os.makedirs(dest, 0o700)


def create_backup(stack_dir, paths, dest, prefix, retention, retries=3, check_mode=False, now=None):
    """Create (or, in check mode, plan) one backup and prune old ones."""
    check_relative_paths(paths)
    check_prefix(prefix)
    if retention < 0:
        raise BackupError("retention must be >= 0 (fix: 0 keeps every archive, N keeps the newest N)")
    result = ArchiveResult()
    entries = plan_entries(stack_dir, paths, result, exclude_dir=os.path.abspath(dest))

    if os.path.lexists(dest) and not os.path.isdir(dest):
        raise BackupError("dest %s exists and is not a directory (fix: choose a directory for backups)" % dest)
    name = archive_name(prefix, dest, now)
    archive_path = os.path.join(dest, name)
    result.archive = archive_path
    result.checksum_file = archive_path + CHECKSUM_SUFFIX
    to_remove = prunable(list_archives(dest, prefix), retention, archive_path)

    if check_mode:
        result.file_count = sum(1 for entry in entries if entry.kind != "dir")
        result.removed = to_remove
        return result

    ensure_dest(dest)

    def write_tar(handle):
        with tarfile.open(fileobj=handle, mode="w:gz", format=tarfile.PAX_FORMAT, compresslevel=6) as tar:
            for entry in entries:
                _add_entry(tar, entry, retries, result)

    tmp_archive = _write_atomically(dest, name, write_tar)
    try:
        verify_archive(tmp_archive)
        result.sha256 = sha256_of(tmp_archive)
        result.size = os.path.getsize(tmp_archive)
        checksum_line = ("%s  %s\n" % (result.sha256, name)).encode("ascii")
        tmp_sum = _write_atomically(dest, name + CHECKSUM_SUFFIX, lambda handle: handle.write(checksum_line))
    except BaseException:
        os.unlink(tmp_archive)
        raise
    # Archive first, checksum second: a checksum file never points at a missing archive.
    os.replace(tmp_archive, archive_path)
    os.replace(tmp_sum, result.checksum_file)
    _fsync_dir(dest)  # the renames survive a power cut, not only the data

    for old in to_remove:
        for victim in (old, old + CHECKSUM_SUFFIX):
            try:
                os.unlink(victim)
            except FileNotFoundError:
                pass
        result.removed.append(old)
    return result
