"""Print deploy-time figures of the molecule scenarios as one JSON object.

Live (default): for each scenario in turn (default: the one-host `default`, then the three-host `fleet`),
drives `molecule dependency/destroy/create/converge/idempotence/destroy` from the repository root and
times each step; `fleet_vs_one_host` is the fleet's fresh converge divided by the one host's, measured
in the same run (goal: at most 1.5). --from-log FILE: reads the saved output of a `molecule test` run instead.
Per-task times come from ansible's profile_tasks callback (enabled in molecule.yml).

    fresh_converge_s          first converge on a new host: engine install, image build, stack up
    idempotent_converge_s     the second converge (molecule's idempotence step, which fails on any change)
    image_build_s             the gateway role's image build task during the fresh converge
    compose_up_to_healthy_s   the gateway role's compose task (docker_compose_v2 waits until healthy)
    started_to_healthy_s      (live only) Docker's own record: container start to first passing healthcheck

Usage: deploy_figures.py [--scenario NAME]... [--keep] [--log-dir DIR] | --from-log FILE
Exit status 1 when a molecule step fails (its output is kept in the log directory).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
# The first host of each scenario (its container name): where started_to_healthy_s is read.
FIRST_HOST = {"default": "picoclaw-molecule", "fleet": "picoclaw-fleet-1"}
STACK_DIR = "/opt/stacks/picoclaw"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\x1b\]8;;[^\x1b]*\x1b\\")
# "default ➜ converge: Executing" (colour terminal) or "[default > converge] Executing" (NO_COLOR)
STEP_START = re.compile(r"(?:➜ (?P<arrow>[a-z_]+): |\[[^\]>]+ > (?P<bracket>[a-z_]+)\] )Executing")
# profile_tasks summary line: "<role> : <task name> ---------- 12.34s"
PROFILE_LINE = re.compile(r"^(?P<name>\S.*?) -+ (?P<secs>\d+(?:\.\d+)?)s\s*$")
# profile_tasks per-task banner: "Saturday 21 November 2026  13:41:51 +0000 (0:00:03.475)       0:00:03.556"
PROFILE_ELAPSED = re.compile(r"\(\d+:\d\d:\d\d\.\d+\)\s+(?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d\.\d+)")
IMAGE_BUILD_TASK = re.compile(r"gateway.*:.*build.*image|gateway.*:.*image.*build", re.IGNORECASE)
COMPOSE_UP_TASK = re.compile(r"gateway.*:.*(start|up|run|deploy).*(stack|compose|gateway)", re.IGNORECASE)


class StepFailed(RuntimeError):
    pass


def molecule_bin() -> str:
    beside_python = Path(sys.executable).with_name("molecule")
    return str(beside_python) if beside_python.exists() else (shutil.which("molecule") or "molecule")


def run_molecule(step: str, scenario: str, log_dir: Path) -> tuple[float, str]:
    """Run one molecule step, return (seconds, output without colours); the output is kept in log_dir."""
    env = dict(
        os.environ,
        PROFILE_TASKS_TASK_OUTPUT_LIMIT="all",
        ANSIBLE_NOCOLOR="1",
        NO_COLOR="1",
        # molecule wraps ansible's lines at the terminal width; keep profile_tasks lines whole.
        COLUMNS="500",
    )
    start = time.monotonic()
    proc = subprocess.run(
        [molecule_bin(), step, "--scenario-name", scenario],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = round(time.monotonic() - start, 1)
    output = ANSI.sub("", proc.stdout + proc.stderr)
    (log_dir / f"{len(list(log_dir.iterdir())):02d}-{step}.log").write_text(output, encoding="utf-8")
    if proc.returncode != 0:
        raise StepFailed(f"molecule {step} exited {proc.returncode} after {seconds}s (log in {log_dir})")
    return seconds, output


def ansible_lines(output: str) -> list[str]:
    # molecule frames ansible's output with a box-drawing border ("  │ "); a converge run on a controller
    # container (molecule/shared/converge-over-ssh.yml) is printed as a list of JSON strings.
    lines = [ANSI.sub("", line).strip().lstrip("│┃|").strip() for line in output.splitlines()]
    return [unquote(line) for line in lines]


def unquote(line: str) -> str:
    """The text of a JSON string element ('"text",' or '"text"'), else the line itself."""
    body = line[:-1] if line.endswith('",') else line
    if len(body) >= 2 and body[0] == body[-1] == '"':
        try:
            return str(json.loads(body)).strip()
        except ValueError:
            return line
    return line


def task_times(output: str) -> dict[str, float]:
    """The profile_tasks summary of the ansible run(s) in `output`, by task name (last run wins).

    Summary lines wrapped at the terminal width are joined back first."""
    times: dict[str, float] = {}
    previous = ""
    for line in ansible_lines(output):
        match = PROFILE_LINE.match(line)
        joinable = previous and not set(previous) <= set("=* ")
        joined = PROFILE_LINE.match(f"{previous} {line}") if joinable else None
        if joined and (not match or " : " not in match["name"]):
            match = joined
        if match:
            times[match["name"].strip()] = float(match["secs"])
            previous = ""
        else:
            previous = line
    return times


def playbook_seconds(output: str) -> float | None:
    """Total elapsed time of the ansible run in `output`, from profile_tasks' last banner."""
    last = None
    for line in ansible_lines(output):
        match = PROFILE_ELAPSED.search(line)
        if match:
            last = int(match["h"]) * 3600 + int(match["m"]) * 60 + float(match["s"])
    return None if last is None else round(last, 1)


def split_steps(log: str) -> dict[str, str]:
    """Output of each molecule step in a `molecule test` log (the first occurrence of each step)."""
    sections: dict[str, str] = {}
    matches = list(STEP_START.finditer(log))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(log)
        sections.setdefault(match["arrow"] or match["bracket"], log[match.end() : end])
    return sections


def first_match(times: dict[str, float], pattern: re.Pattern[str]) -> tuple[str, float] | None:
    for name, seconds in times.items():
        if pattern.search(name):
            return name, seconds
    return None


def task_figures(fresh_output: str) -> dict[str, Any]:
    fresh_tasks = task_times(fresh_output)
    build = first_match(fresh_tasks, IMAGE_BUILD_TASK)
    compose = first_match(fresh_tasks, COMPOSE_UP_TASK)
    return {
        "image_build_s": build[1] if build else None,
        "image_build_task": build[0] if build else None,
        "compose_up_to_healthy_s": compose[1] if compose else None,
        "compose_up_task": compose[0] if compose else None,
        "slowest_fresh_tasks": dict(sorted(fresh_tasks.items(), key=lambda kv: -kv[1])[:5]),
    }


def started_to_healthy(host: str) -> float | None:
    """Seconds from the gateway's start to its first passing healthcheck, from `docker inspect`."""
    script = f"docker inspect $(docker compose --project-directory {STACK_DIR} ps --all --quiet)"
    proc = subprocess.run(
        ["docker", "exec", host, "sh", "-c", script], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        return None
    state = json.loads(proc.stdout)[0]["State"]
    passing = [entry for entry in state.get("Health", {}).get("Log") or [] if entry.get("ExitCode") == 0]
    if not passing:
        return None
    started = parse_docker_time(state["StartedAt"])
    healthy = min(parse_docker_time(entry["End"]) for entry in passing)
    return round((healthy - started).total_seconds(), 2)


def parse_docker_time(value: str) -> datetime:
    # Docker prints nanoseconds; datetime takes microseconds.
    trimmed = re.sub(r"(\.\d{6})\d*", r"\1", value).replace("Z", "+00:00")
    return datetime.fromisoformat(trimmed)


def live_figures(scenario: str, keep: bool, log_dir: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"source": "live", "scenario": scenario}
    # `molecule converge` does not run the dependency step (images, source snapshot).
    result["dependency_s"], _ = run_molecule("dependency", scenario, log_dir)
    result["destroy_before_s"], _ = run_molecule("destroy", scenario, log_dir)
    result["create_and_prepare_s"], _ = run_molecule("create", scenario, log_dir)
    result["fresh_converge_s"], fresh_output = run_molecule("converge", scenario, log_dir)
    result["started_to_healthy_s"] = started_to_healthy(FIRST_HOST.get(scenario, "picoclaw-molecule"))
    result["idempotent_converge_s"], _ = run_molecule("idempotence", scenario, log_dir)
    result.update(task_figures(fresh_output))
    if not keep:
        result["destroy_s"], _ = run_molecule("destroy", scenario, log_dir)
    result["logs"] = str(log_dir)
    return result


def log_figures(path: Path) -> dict[str, Any]:
    steps = split_steps(ANSI.sub("", path.read_text(encoding="utf-8", errors="replace")))
    if "converge" not in steps:
        raise StepFailed(f"{path} holds no molecule converge step")
    result: dict[str, Any] = {"source": str(path)}
    result["fresh_converge_s"] = playbook_seconds(steps["converge"])
    result["idempotent_converge_s"] = playbook_seconds(steps.get("idempotence", ""))
    result["verify_s"] = playbook_seconds(steps.get("verify", ""))
    result.update(task_figures(steps["converge"]))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", action="append", help="repeatable; default: default and fleet")
    parser.add_argument("--keep", action="store_true", help="leave the host running afterwards")
    parser.add_argument("--log-dir", type=Path, default=REPO / ".cache" / "deploy-figures")
    parser.add_argument("--from-log", type=Path, help="parse a saved `molecule test` output instead")
    args = parser.parse_args()
    try:
        if args.from_log:
            result = log_figures(args.from_log)
        else:
            log_dir: Path = args.log_dir / time.strftime("%Y%m%dT%H%M%S")
            log_dir.mkdir(parents=True, exist_ok=True)
            scenarios = args.scenario or ["default", "fleet"]
            result = {name: live_figures(name, args.keep, log_dir) for name in scenarios}
            if {"default", "fleet"} <= result.keys():
                one, three = result["default"]["fresh_converge_s"], result["fleet"]["fresh_converge_s"]
                result["fleet_vs_one_host"] = round(three / one, 2)
    except (StepFailed, OSError) as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
