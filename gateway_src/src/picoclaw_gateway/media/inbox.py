"""Documents sent in chat, saved into the workspace's inbox/ for the tools. Name and bytes are untrusted.

Where: inbox/<channel>-<chat>/<name>, each component a name made safe here (no "/", no "..", no
leading dot, no control characters, at most MAX_NAME_BYTES), each folder opened without following
a link (O_NOFOLLOW from the workspace root): nothing the tools put in the workspace can redirect
the write. How: a hidden temp file in that folder, written as the bytes arrive, fsynced, then
linked to its final name (link() fails on an existing name: never an overwrite, the next free
"name (2).ext" is taken), the temp name removed and the folder fsynced: a crash leaves at most a
temp file. Modes: files 0660, new folders 0770 keeping the setgid bit they inherit, as the tools
sandbox's umask 007 makes them: it runs as another uid of the shared workspace group.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from pathlib import Path

INBOX = "inbox"
MAX_NAME_BYTES = 120
MAX_EXT_CHARS = 16
MAX_SUFFIXES = 1000
FILE_MODE = 0o660
DIR_MODE = 0o770
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_UNSAFE = re.compile(r'[\\/<>:"|?*]')  # "/" splits paths; the rest trip up shells and other systems


def _cut_utf8(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def safe_name(raw: str, fallback: str = "file") -> str:
    """A file name that is one plain path component: the last part of `raw` after any / or \\,
    control characters (NUL included) and path punctuation replaced, no leading dots or spaces,
    cut to MAX_NAME_BYTES of UTF-8 keeping a short extension; `fallback` when nothing is left."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch if ch.isprintable() else "_" for ch in name)
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if not name.strip("_"):
        return fallback
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > MAX_EXT_CHARS or not ext.isalnum():
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    return _cut_utf8(stem, MAX_NAME_BYTES - len(suffix.encode("utf-8"))).rstrip() + suffix


def chat_folder(channel: str, chat_id: str) -> str:
    """The inbox folder of one chat: "telegram-123456", "slack-D0123-1700000000.000100"."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{channel}-{chat_id}").lstrip(".")
    return name[:MAX_NAME_BYTES] or "chat"


def _numbered(name: str, number: int) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({number})"
    return f"{stem} ({number}).{ext}"


def _open_folder(parent: int, name: str) -> int:
    """`name` under `parent` (created 0770 if missing); a link in its place is refused (OSError)."""
    created = False
    try:
        os.mkdir(name, DIR_MODE, dir_fd=parent)
        created = True
    except FileExistsError:
        pass
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    if created:  # the gateway's own umask must not narrow what the sandbox's group may do
        os.fchmod(fd, DIR_MODE | (os.fstat(fd).st_mode & stat.S_ISGID))
    return fd


class InboxFile:
    """A document being saved: write() the chunks as they come, then commit() or discard()."""

    def __init__(self, workspace: Path, folder: str, name: str) -> None:
        self.folder, self.name = folder, name
        self._dir = -1
        root = os.open(workspace, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            inbox = _open_folder(root, INBOX)
            try:
                self._dir = _open_folder(inbox, folder)
            finally:
                os.close(inbox)
        finally:
            os.close(root)
        self._tmp = f".{name[:60]}.picoclaw-{os.urandom(4).hex()}.part"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            self._fd = os.open(self._tmp, flags, FILE_MODE, dir_fd=self._dir)
            os.fchmod(self._fd, FILE_MODE)
        except BaseException:
            os.close(self._dir)
            raise

    def write(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:
            view = view[os.write(self._fd, view) :]

    def commit(self) -> str:
        """Durably under the first free name; returns the workspace-relative path."""
        try:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1
            for number in range(1, MAX_SUFFIXES + 1):
                final = self.name if number == 1 else _numbered(self.name, number)
                try:
                    os.link(
                        self._tmp, final, src_dir_fd=self._dir, dst_dir_fd=self._dir, follow_symlinks=False
                    )
                    break
                except FileExistsError:
                    continue
            else:
                final = _numbered(self.name, int.from_bytes(os.urandom(4), "big"))
                os.link(self._tmp, final, src_dir_fd=self._dir, dst_dir_fd=self._dir, follow_symlinks=False)
            os.unlink(self._tmp, dir_fd=self._dir)
            os.fsync(self._dir)
            return f"{INBOX}/{self.folder}/{final}"
        finally:
            self.discard()

    def discard(self) -> None:
        """Drop the temp file (after commit: only closes the folder)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._dir >= 0:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp, dir_fd=self._dir)
            os.close(self._dir)
            self._dir = -1
