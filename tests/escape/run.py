#!/usr/bin/env python3
"""Run the escape attempts inside a running gateway container and write the attempt -> outcome table.

Usage: python3 tests/escape/run.py CONTAINER [--out TABLE.md] [--label "custom profile"]
Exit status 1 when any attempt escapes or gives no verdict. The pytest wrapper that also drives the
attempts through the gateway's exec tool is tests/image/test_escape_attempts.py.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attempts import ATTEMPTS, FORK_BOMB, MEMORY_BOMB, Attempt


@dataclass(frozen=True)
class Outcome:
    attempt: Attempt
    verdict: str  # ESCAPED, BLOCKED or "NO VERDICT"
    detail: str

    @property
    def blocked(self) -> bool:
        return self.verdict == "BLOCKED"

    @property
    def eperm(self) -> bool:
        return "errno 1 (" in self.detail


def parse(attempt: Attempt, output: str) -> Outcome:
    """The verdict line an attempt printed (the last one wins), or NO VERDICT with the raw output."""
    for line in reversed(output.splitlines()):
        for verdict in ("ESCAPED", "BLOCKED"):
            if line.startswith(f"{verdict}:"):
                return Outcome(attempt, verdict, line.removeprefix(f"{verdict}:").strip())
    return Outcome(attempt, "NO VERDICT", output.strip()[-300:])


def docker_exec(container: str, attempt: Attempt, timeout: float = 120) -> Outcome:
    """As the image's user (1000:1000), like anything the gateway's exec tool would start."""
    try:
        proc = subprocess.run(["docker", "exec", container, "sh", "-c", attempt.command],
                              capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        return Outcome(attempt, "NO VERDICT", f"timed out after {exc.timeout}s")
    return parse(attempt, proc.stdout + proc.stderr)


def markdown_table(columns: dict[str, list[Outcome]]) -> str:
    """One row per attempt, one outcome column per run (e.g. custom profile, Docker default)."""
    labels = list(columns)
    rows = ["| # | attempt | goal | " + " | ".join(labels) + " |", "|---|---|---|" + "---|" * len(labels)]
    names = [o.attempt for o in columns[labels[0]]]
    for index, attempt in enumerate(names, 1):
        cells = []
        for label in labels:
            outcome = next((o for o in columns[label] if o.attempt == attempt), None)
            cell = "—" if outcome is None else f"**{outcome.verdict}** {outcome.detail}"
            cells.append(cell.replace("|", "\\|").replace("\n", " ")[:160])
        rows.append(f"| {index} | {attempt.name} | {attempt.goal} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def failures(outcomes: Iterable[Outcome]) -> list[str]:
    return [f"{o.attempt.name}: {o.verdict} {o.detail}" for o in outcomes if not o.blocked]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("container")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--label", default="outcome")
    parser.add_argument("--bombs", action="store_true", help="also run the fork and memory bombs")
    args = parser.parse_args()
    attempts = [*ATTEMPTS, *((FORK_BOMB, MEMORY_BOMB) if args.bombs else ())]
    outcomes = [docker_exec(args.container, attempt) for attempt in attempts]
    table = markdown_table({args.label: outcomes})
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table)
    print(table)
    bad = failures(outcomes)
    print(f"{len(outcomes) - len(bad)}/{len(outcomes)} attempts blocked", file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
