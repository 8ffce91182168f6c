"""The few workspace files the gateway itself reads and writes (memory notes, HEARTBEAT.md).

The tools sandbox can write anything in the workspace, so nothing here trusts what it finds: no
symlink is followed (one could point at the gateway's state or keys), only regular files are read
(a FIFO would block the event loop: opened O_NONBLOCK, then checked), reads stop at a byte cap,
and writes go to a temporary file that replaces the old one (crash-safe, never through a link).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from picoclaw_gateway.durable import write_all

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class WorkspaceFiles:
    """Files directly in `workspace` or in one of its direct subfolders (`folder`)."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace

    def _dir_fd(self, folder: str, create: bool) -> int:
        root = os.open(self.workspace, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        if not folder:
            return root
        try:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(folder, 0o755, dir_fd=root)
            return os.open(folder, _DIR_FLAGS, dir_fd=root)  # a symlinked folder: ENOTDIR/ELOOP
        finally:
            os.close(root)

    def read(self, folder: str, name: str, max_bytes: int) -> str | None:
        """The file's text (cut at `max_bytes`, undecodable bytes replaced); None when it is absent
        or is not a regular file of its own (a link, a FIFO, a folder)."""
        try:
            dir_fd = self._dir_fd(folder, create=False)
        except OSError:
            return None
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
        except OSError:
            return None
        finally:
            os.close(dir_fd)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            chunks, left = [], max_bytes
            while left > 0 and (chunk := os.read(fd, min(left, 65536))):
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks).decode("utf-8", "replace")
        finally:
            os.close(fd)

    def write(self, folder: str, name: str, text: str) -> None:
        """Replace the file with `text`, crash-safe; raises OSError."""
        dir_fd = self._dir_fd(folder, create=True)
        tmp = f".{name}.{os.getpid()}.tmp"
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dir_fd)
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dir_fd
            )
            try:
                write_all(fd, text.encode("utf-8", "replace"))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)  # replaces a link, never follows it
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def remove(self, folder: str, name: str) -> None:
        try:
            dir_fd = self._dir_fd(folder, create=False)
        except OSError as exc:
            if exc.errno in (errno.ENOENT,):
                return
            raise
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=dir_fd)
                os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
