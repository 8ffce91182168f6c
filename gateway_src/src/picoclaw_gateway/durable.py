"""Crash-safe file writing shared by the session store, the delivery journal, the schedules and the
budget counters."""

from __future__ import annotations

import os
from pathlib import Path


def write_all(fd: int, data: bytes) -> None:
    """os.write may write less than asked (signals, full pipes): loop until every byte is out."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in `folder` survive a power cut (the entry lives in the directory)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_file(path: Path, tmp: Path, data: bytes) -> None:
    """Write `data` to `tmp` (mode 0600), fsync it and rename it over `path`, then fsync the folder:
    after a crash `path` holds the old or the new bytes, never a mix. Raises OSError."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)
