"""memory.Trimmer hands freed heap back to the OS once RSS has grown, and leaves a quiet process alone.

Runs in a fresh interpreter: pytest's own heap would blur the RSS figures."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")

SCRIPT = """
import json
from picoclaw_gateway import memory

memory.settle_after_startup()
trimmer = memory.Trimmer(growth_kb=1024, every_s=3600)
quiet = trimmer.maybe_trim()
# A burst: 30 MB of 6 KB replies (heap, not mmap), every other one freed, as 200 chats' answers are.
replies = ["x" * 6000 + str(n) for n in range(5000)]
del replies[::2]
before = memory.rss_kb()
burst = trimmer.maybe_trim()
after = memory.rss_kb()
print(json.dumps({"quiet": quiet, "burst": burst, "before_kb": before, "after_kb": after,
                  "again": trimmer.maybe_trim()}))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_trimmer_returns_a_bursts_freed_heap_and_skips_a_quiet_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": SRC, "MALLOC_ARENA_MAX": "2"}
    script = tmp_path / "burst.py"  # a file, not `python -c`: the sandbox suite counts `-c` processes
    script.write_text(SCRIPT)
    out = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    result = json.loads(out.stdout)
    print(result)
    assert result["quiet"] is False, "no growth, no minute passed: no trim"
    assert result["burst"] is True
    # Only whole pages inside the freed 6 KB chunks can go back: about a third of the freed 15 MB.
    assert result["before_kb"] - result["after_kb"] > 3 * 1024, "freed heap went back to the OS"
    assert result["again"] is False, "the trim reset the baseline"
