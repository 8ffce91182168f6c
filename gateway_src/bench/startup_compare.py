"""Start -> /ready of the gateway from two source trees, interleaved: the median of N starts each.

Issue 16's budget: the assistant features (schedules with 100 jobs pending, memory, budgets, the
heartbeat, ...) must not add more than 0.3 s to start-up. Start-up time is what machine load moves
most, so the two trees are started one after the other, N times, and compared by their medians.

    git worktree add /tmp/base aac3b18^     # the commit before schedules
    python -m bench.startup_compare --base /tmp/base/gateway_src [--runs 8]

Each start is `python -m bench.gateway_bench --messages 4` run in that tree (its own bench, its own
source on PYTHONPATH): this tree with the realistic profile (every feature on, 100 jobs pending), the
base with plain telegram+openrouter. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]  # this gateway_src


def start_to_ready(tree: Path, profile: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    cmd = [sys.executable, "-m", "bench.gateway_bench", "--profiles", profile, "--messages", "4"]
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=600, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"bench in {tree} failed ({done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(lines[-1])
    if result.get("startup_to_ready_s") is None:
        raise SystemExit(f"no startup_to_ready_s from {tree}: {result}")
    return float(result["startup_to_ready_s"])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", type=Path, required=True, help="gateway_src of the commit to compare with")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--profile", default="telegram+openrouter/realistic")
    parser.add_argument("--base-profile", default="telegram+openrouter")
    args = parser.parse_args()
    base: list[float] = []
    current: list[float] = []
    for _ in range(args.runs):
        base.append(start_to_ready(args.base.resolve(), args.base_profile))
        current.append(start_to_ready(HERE, args.profile))
    base_median, current_median = statistics.median(base), statistics.median(current)
    grown = round(current_median - base_median, 2)
    print(json.dumps({
        "base_median_s": round(base_median, 2), "current_median_s": round(current_median, 2),
        "grown_s": grown, "within_target": grown <= 0.3, "target_s": 0.3, "runs": args.runs,
        "base": sorted(base), "current": sorted(current),
        "load_average": os.getloadavg()[0],
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
