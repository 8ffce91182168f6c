"""Keep RSS low: freeze startup objects out of the GC and hand freed heap back to the OS."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)

_libc: ctypes.CDLL | None = None


def _malloc_trim() -> None:
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _libc.malloc_trim(0)
    except (OSError, AttributeError):  # musl or another libc without malloc_trim
        pass


def settle_after_startup() -> None:
    """Collect import garbage, then freeze survivors: the GC stops scanning (and touching)
    them, so their pages stay shared/clean."""
    gc.collect()
    gc.freeze()
    _malloc_trim()


def trim() -> None:
    gc.collect()
    _malloc_trim()


def rss_kb() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
