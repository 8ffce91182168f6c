"""Process-level hardening through prctl(2) (ctypes: no extra dependency, loaded only when used)."""

from __future__ import annotations

import ctypes

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1


def _prctl(option: int, arg: int) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    result = int(libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), 0, 0, 0))
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}) failed")
    return result


def set_non_dumpable() -> None:
    """Nothing else of our uid may ptrace us or read /proc/<pid>/environ|mem (they hold the keys).

    The flag is reset by execve, so children (the local sandbox) are unaffected.
    """
    _prctl(PR_SET_DUMPABLE, 0)


def is_dumpable() -> bool:
    return _prctl(PR_GET_DUMPABLE, 0) == 1


def set_child_subreaper() -> None:
    """Orphans of our descendants (setsid + double fork, daemons) are re-parented to us, not to init."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent(signal_number: int) -> None:
    """Receive `signal_number` when our parent dies (a kill -9 of the gateway must not leave its
    local sandbox running with nobody to talk to)."""
    _prctl(PR_SET_PDEATHSIG, signal_number)


def prefer_as_oom_victim() -> None:
    """Make this process and its children (the tools) the kernel's first choice when memory runs out:
    a tool's memory bomb then kills the tool, not the gateway beside it. Raising the score needs no
    privilege (lowering it would)."""
    with open("/proc/self/oom_score_adj", "w", encoding="ascii") as handle:
        handle.write("1000")
