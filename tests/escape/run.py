#!/usr/bin/env python3
"""Run the escape attempts inside a running gateway container and write the attempt -> outcome table.

Usage: python3 tests/escape/run.py CONTAINER [--out TABLE.md] [--label "custom profile"] [--bombs]
           [--host-port 8099 [--host-address 10.0.0.5]...]
           [--telegram URL --llm URL --user ID]   (also through the exec tool, via the test simulator)
Exit status 1 when any attempt escapes or gives no verdict, or the gateway does not answer again (with
its history intact) after the fork and memory bombs. Standard library only: molecule/default copies
tests/escape/ onto the test host and runs it there against the deployed container. The pytest wrapper
for the image test is tests/image/test_escape_attempts.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attempts import ATTEMPTS, FORK_BOMB, MEMORY_BOMB, Attempt, host_service_attempt
from exec_tool import Simulator, run_through_exec_tool


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


def wait_healthy(container: str, wait_s: float = 150) -> float:
    """Seconds until Docker reports the container healthy (it may have been restarted meanwhile)."""
    start = time.monotonic()
    while True:
        state = subprocess.run(["docker", "inspect", "--format", "{{json .State}}", container],
                               capture_output=True, text=True, check=False).stdout  # fmt: skip
        if state and (json.loads(state).get("Health") or {}).get("Status") == "healthy":
            return time.monotonic() - start
        if time.monotonic() - start > wait_s:
            raise SystemExit(f"{container} not healthy after {wait_s}s: {state.strip()[:300]}")
        time.sleep(1)


def workspace_files(container: str) -> dict[str, int]:
    """Size of every file in /workspace (the session history lives there)."""
    listing = subprocess.run(["docker", "exec", container, "sh", "-c", "cd /workspace && find . -type f -exec wc -c {} +"],
                             capture_output=True, text=True, check=False).stdout  # fmt: skip
    return {path: int(size) for size, path in (line.split(maxsplit=1) for line in listing.splitlines()) if path != "total"}


def bomb_and_recover(container: str, bomb: Attempt, simulator: Simulator | None) -> tuple[Outcome, list[str]]:
    """Run a resource bomb; then the gateway must be healthy, have lost no history and answer again."""
    history = workspace_files(container)
    outcome = docker_exec(container, bomb)
    problems = []
    seconds = wait_healthy(container)
    # Compared before the next message: loading a long session may legitimately compact its file.
    after = workspace_files(container)
    lost = {path: size for path, size in history.items() if after.get(path, -1) < size}
    if lost:
        problems.append(f"{bomb.name}: session files lost or shrunk: {lost}")
    if simulator is not None:
        text = f"still there after the {bomb.name}"
        reply = simulator.ask(text)
        if reply != f"echo: {text}":
            problems.append(f"{bomb.name}: the bot answered {reply!r}")
    answered = "answers again" if simulator is not None else "answer not checked (no simulator)"
    print(f"{bomb.name}: {outcome.verdict}; healthy {seconds:.0f}s later, {answered}, "
          f"{len(history)} workspace files kept", file=sys.stderr)  # fmt: skip
    return outcome, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("container")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--label", default="docker exec")
    parser.add_argument("--bombs", action="store_true", help="also run the fork and memory bombs, then check recovery")
    parser.add_argument("--host-port", type=int, help="a port with a listener on the host, outside the firewall's allow-list")
    parser.add_argument("--host-address", action="append", default=[], help="another address of the host to try")
    parser.add_argument("--telegram", help="fake Telegram control URL: also run the attempts through the exec tool")
    parser.add_argument("--llm", help="fake OpenAI-compatible control URL (with --telegram)")
    parser.add_argument("--user", type=int, help="an allowed user id (with --telegram)")
    args = parser.parse_args()
    simulator = Simulator(args.telegram, args.llm, args.user) if args.telegram and args.llm and args.user else None

    attempts = list(ATTEMPTS)
    if args.host_port:
        attempts.append(host_service_attempt(args.host_port, args.host_address))
    else:
        print("skipped: reach a host service (no --host-port, so no listener to aim at)", file=sys.stderr)
    columns = {args.label: [docker_exec(args.container, attempt) for attempt in attempts]}
    if simulator is not None:
        results = run_through_exec_tool(simulator, attempts)
        columns["exec tool"] = [parse(attempt, output) for attempt, output in results.items()]
    problems: list[str] = []
    if args.bombs:
        for bomb in (FORK_BOMB, MEMORY_BOMB):
            outcome, bomb_problems = bomb_and_recover(args.container, bomb, simulator)
            columns[args.label].append(outcome)
            problems += bomb_problems

    table = markdown_table(columns)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table)
    print(table)
    for label, outcomes in columns.items():
        bad = failures(outcomes)
        problems += [f"{label}: {failure}" for failure in bad]
        print(f"{label}: {len(outcomes) - len(bad)}/{len(outcomes)} attempts blocked", file=sys.stderr)
    for problem in problems:
        print(f"FAILED {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
