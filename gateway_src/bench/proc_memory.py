"""Resident memory of a Linux process from /proc/<pid>/status."""

from __future__ import annotations

from pathlib import Path


def status_kib(pid: int, field: str) -> int:
    """A `VmXxx:   123 kB` line of /proc/<pid>/status, in KiB (VmRSS now, VmHWM = peak RSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(f"{field} not in /proc/{pid}/status")


def rss_mb(pid: int) -> float:
    return round(status_kib(pid, "VmRSS") / 1024, 1)


def peak_rss_mb(pid: int) -> float:
    return round(status_kib(pid, "VmHWM") / 1024, 1)
