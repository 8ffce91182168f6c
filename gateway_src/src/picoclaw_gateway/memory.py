"""Keep RSS low: freeze startup objects out of the GC and hand freed heap back to the OS."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import time

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


class Trimmer:
    """Trims when RSS grew by `growth_kb` since the last trim, or `every_s` passed.

    glibc returns freed memory inside its heap to the OS only on malloc_trim: after a burst of
    turns the freed request/response buffers and replies stay resident until then. Checked every
    few seconds (a /proc read, ~0.05 ms), a trim costs ~2 ms; an idle gateway trims once a minute.
    """

    def __init__(self, growth_kb: int = 1024, every_s: float = 60.0) -> None:
        self.growth_kb = growth_kb
        self.every_s = every_s
        self._baseline_kb = rss_kb()
        self._last = time.monotonic()

    def maybe_trim(self) -> bool:
        now = time.monotonic()
        if rss_kb() - self._baseline_kb < self.growth_kb and now - self._last < self.every_s:
            return False
        trim()
        self._baseline_kb = rss_kb()
        self._last = now
        return True


def rss_kb() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
