"""No process a tool call started outlives the call.

Two modes. `kill_all`: the sandbox is alone in its pid namespace (its container) with pid 1, so
after a call every other process there is the call's: all are killed, whatever session they made.
Local (a laptop): the sandbox is a child subreaper, so orphans of the call's descendants (setsid,
double fork, daemons) are re-parented to it and stay findable; every descendant is killed. That is
best effort: a process handed to another parent (e.g. started through systemd or at) escapes it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable

_MAX_ROUNDS = 200  # each round kills what it sees; a fork bomb's new children show up next round


def _stat(pid: int) -> tuple[int, str] | None:
    """(ppid, state) from /proc/<pid>/stat, None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()  # the command name may hold spaces and ')'
    return int(fields[1]), fields[0].decode()


def _live_processes() -> dict[int, int]:
    """pid -> ppid of every visible process that is not a zombie."""
    table: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = _stat(int(name))
            if info is not None and info[1] not in ("Z", "X"):
                table[int(name)] = info[0]
    return table


def others() -> list[int]:
    """Every live process in this pid namespace except ourselves and pid 1."""
    me = os.getpid()
    return [pid for pid in _live_processes() if pid not in (me, 1)]


def _children(pid: int) -> list[int] | None:
    """Children of every thread of `pid` (a subreaper's orphans may land on any of its threads).

    Reads only the call's own subtree: scanning all of /proc costs ~0.1 ms per process on some VMs.
    None when the kernel has no /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN).
    """
    found: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as handle:
                found.extend(int(c) for c in handle.read().split())
        except FileNotFoundError:
            if tid == str(pid) and os.path.exists(f"/proc/{pid}"):
                return None
        except OSError:
            continue
    return found


def descendants(root: int) -> list[int]:
    """Every live descendant of `root` (zombies excluded: they are dead, reap() collects them)."""
    children: Callable[[int], list[int] | None] = _children
    if _children(root) is None:
        tree: dict[int, list[int]] = {}
        for pid, ppid in _live_processes().items():
            tree.setdefault(ppid, []).append(pid)
        children = tree.get
    found: list[int] = []
    stack = list(children(root) or ())
    while stack:
        pid = stack.pop()
        info = _stat(pid)
        if info is not None and info[1] not in ("Z", "X"):
            found.append(pid)
        stack.extend(children(pid) or ())
    return found


def reap() -> None:
    """Collect exit statuses of our dead children (orphans re-parented to us included)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def sweep(kill_all: bool) -> list[int]:
    """Kill the call's leftovers until none is seen; returns the pids that would not die."""
    targets: list[int] = []
    for _ in range(_MAX_ROUNDS):
        reap()
        targets = others() if kill_all else descendants(os.getpid())
        if not targets:
            return []
        for pid in targets:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.002)
    reap()
    return targets
