"""The gateway under the shipped seccomp allowlist works, and no escape attempt from inside it succeeds.

Run: .venv/bin/pytest -q -p no:cacheprovider tests/image/test_escape_attempts.py (Docker engine needed).
The profile is roles/gateway/files/seccomp/picoclaw.json (PICOCLAW_SECCOMP_PROFILE overrides it).
The attempts (tests/escape/attempts.py) run as uid 1000 both with `docker exec` and through the
gateway's exec tool, as a hijacked LLM would call it. The attempt -> outcome table is written to
build/escape/escape-table.md, with a column for the same attempts under Docker's default profile.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import HARDENING, REPO, ROLE_DEFAULTS, RunningGateway, Simulator, _free_port
from docker_cli import docker, wait_health

sys.path.insert(0, str(REPO / "tests" / "escape"))
from attempts import ATTEMPTS, FORK_BOMB, MEMORY_BOMB, host_service_attempt
from exec_tool import Simulator as SimulatorControl
from exec_tool import run_through_exec_tool
from run import Outcome, docker_exec, failures, markdown_table, parse

PROFILE = Path(os.environ.get("PICOCLAW_SECCOMP_PROFILE", REPO / "roles/gateway/files/seccomp/picoclaw.json"))
TABLE = REPO / "build" / "escape" / "escape-table.md"
# Its own allowed user, so the chats of the other image tests (user 111) stay untouched.
ESCAPE_USER = 222


def _control(simulator: Simulator) -> SimulatorControl:
    """The simulator's control API as the escape suite drives it (tests/escape/exec_tool.py), as ESCAPE_USER."""
    return SimulatorControl(simulator.telegram, simulator.openai, ESCAPE_USER)


def _ask(simulator: Simulator, text: str, tool_calls: list[dict[str, Any]] = ()) -> str:  # type: ignore[assignment]
    """Send `text` as ESCAPE_USER; the fake LLM first answers with `tool_calls` one by one. Returns the reply."""
    return _control(simulator).ask(text, tool_calls)


def _start(name: str, image: str, config: Path, seccomp: str) -> str:
    volume = f"{name}-workspace"
    docker("volume", "create", volume)
    docker(
        "run", "--detach", "--name", name, *HARDENING, "--network", "host", "--security-opt", seccomp,
        "--volume", f"{config}:/config:ro", "--volume", f"{volume}:/workspace", "--volume", f"{name}-state:/state",
        "--env", f"PICOCLAW_HEALTH_PORT={_free_port()}", "--health-interval", "2s",
        "--restart", ROLE_DEFAULTS["picoclaw_restart_policy"], image,
    )  # fmt: skip
    return name


def _remove(name: str) -> None:
    docker("rm", "--force", "--volumes", name, check=False)
    docker("volume", "rm", "--force", f"{name}-workspace", f"{name}-state", check=False)


@pytest.fixture(scope="module")
def escape_config(config_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = json.loads((config_dir / "config.json").read_text())
    config["channel"]["allowed_users"] = [ESCAPE_USER]
    directory = tmp_path_factory.mktemp("escape-config")
    shutil.copymode(config_dir, directory)
    path = directory / "config.json"
    path.write_text(json.dumps(config))
    if os.geteuid() == 0:  # as the role deploys it: root-owned, readable by group 1000 only
        os.chown(directory, 0, 1000)
        os.chown(path, 0, 1000)
        path.chmod(0o440)
    return directory


@pytest.fixture(scope="module")
def table(request: pytest.FixtureRequest) -> Iterator[dict[str, list[Outcome]]]:
    columns: dict[str, list[Outcome]] = {}
    yield columns
    if not columns:
        return
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(markdown_table(columns))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\n[escape table] {TABLE}\n{TABLE.read_text()}")


@pytest.fixture(scope="module")
def confined(gateway_image: str, escape_config: Path) -> Iterator[RunningGateway]:
    """The gateway with the production hardening and our seccomp allowlist."""
    assert PROFILE.is_file(), f"no seccomp profile at {PROFILE} (build it: scripts/seccomp/generate.sh)"
    name = f"picoclaw-escape-{uuid.uuid4().hex[:8]}"
    try:
        _start(name, gateway_image, escape_config, f"seccomp={PROFILE}")
        yield RunningGateway(container=name, image=gateway_image, health_port=0, started_at=time.monotonic())
    finally:
        _remove(name)


def test_profile_denies_by_default_and_keeps_execve() -> None:
    profile = json.loads(PROFILE.read_text())
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    allowed = {n for rule in profile["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW" for n in rule["names"]}
    assert {"execve", "clone", "exit_group", "futex"} <= allowed  # the withdrawn profile lacked execve
    assert not allowed & {"mount", "unshare", "setns", "ptrace", "bpf", "keyctl", "init_module", "reboot"}


def test_healthy_and_answers_under_the_profile(confined: RunningGateway, simulator: Simulator) -> None:
    seconds = wait_health(confined.container, "healthy", wait_s=120)
    print(f"healthy {seconds:.1f}s after start under {PROFILE.name}")
    assert _ask(simulator, "hello under seccomp") == "echo: hello under seccomp"


def test_exec_tool_runs_ordinary_commands(confined: RunningGateway, simulator: Simulator) -> None:
    wait_health(confined.container, "healthy")
    command = (
        "ls -la . >/dev/null && cat /etc/os-release | grep -c ID= && python3 -c 'print(6 * 7)' "
        "&& sh -c 'echo sub-shell; exit 0' && echo notes > n.txt && cat n.txt && rm n.txt"
    )
    _ask(simulator, "run ordinary commands", [{"name": "exec", "arguments": {"command": command}}])
    result = _control(simulator).tool_results()[command]
    assert result.endswith("[exit code 0]"), result
    assert "42" in result and "sub-shell" in result and "notes" in result, result


def test_escape_attempts_with_docker_exec(confined: RunningGateway, table: dict[str, list[Outcome]]) -> None:
    wait_health(confined.container, "healthy")
    outcomes = [docker_exec(confined.container, attempt) for attempt in ATTEMPTS]
    table["custom profile, docker exec"] = outcomes
    assert len(outcomes) >= 25
    assert not failures(outcomes), failures(outcomes)
    # The kernel-facing probes are stopped by the allowlist itself (EPERM), not by luck further down.
    not_eperm = [o.attempt.name for o in outcomes if o.attempt.seccomp_denied and not o.eperm]
    assert not not_eperm, not_eperm


def test_escape_attempts_through_the_exec_tool(
    confined: RunningGateway, simulator: Simulator, table: dict[str, list[Outcome]]
) -> None:
    wait_health(confined.container, "healthy")
    results = run_through_exec_tool(_control(simulator), ATTEMPTS)
    outcomes = [parse(attempt, output) for attempt, output in results.items()]
    table["custom profile, exec tool"] = outcomes
    assert not failures(outcomes), failures(outcomes)


def test_fork_bomb_is_contained(
    confined: RunningGateway, simulator: Simulator, table: dict[str, list[Outcome]]
) -> None:
    wait_health(confined.container, "healthy")
    outcome = docker_exec(confined.container, FORK_BOMB)
    table.setdefault("custom profile, docker exec", []).append(outcome)
    assert outcome.blocked, outcome
    wait_health(confined.container, "healthy", wait_s=60)
    assert _ask(simulator, "still there after the fork bomb") == "echo: still there after the fork bomb"


def _sessions(container: str) -> dict[str, int]:
    # The chat histories live in the state directory (/state/sessions), out of the tools' reach.
    listing = docker("exec", container, "sh", "-c", "cd /state/sessions && find . -type f -exec wc -c {} +").stdout
    return {
        path: int(size) for size, path in (line.split() for line in listing.splitlines()) if path != "total"
    }


def _gateway_pid_and_restarts(container: str) -> tuple[str, int]:
    """(the gateway's pid inside the container: tini's child, the container's restart count)."""
    pid = docker("exec", container, "cat", "/proc/1/task/1/children").stdout.split()[0]
    return pid, int(docker("inspect", "--format", "{{.RestartCount}}", container).stdout)


def test_memory_bomb_is_contained_and_history_kept(
    confined: RunningGateway, simulator: Simulator, table: dict[str, list[Outcome]]
) -> None:
    wait_health(confined.container, "healthy")
    history = _sessions(confined.container)
    assert history, "no session history to protect"
    # Through the exec tool, as a hijacked LLM would: the local sandbox (and so the tool) is the
    # kernel's first OOM victim, so the gateway is the same process afterwards.
    gateway_pid, restarts = _gateway_pid_and_restarts(confined.container)
    command = MEMORY_BOMB.command
    _ask(simulator, "allocate a lot", [{"name": "exec", "arguments": {"command": command}}])
    through_tool = parse(MEMORY_BOMB, _control(simulator).tool_results()[command])
    table.setdefault("custom profile, exec tool", []).append(through_tool)
    assert through_tool.blocked, through_tool
    assert _gateway_pid_and_restarts(confined.container) == (gateway_pid, restarts), "the gateway was hit"
    # With a shell in the gateway's own container (no path the LLM has: in a deployment its tools run
    # in the sandbox container), the bomb and the gateway share one 128 MiB cgroup and the kernel kills
    # the larger, which can be the gateway: then the restart policy brings it back and the journal keeps
    # every message. Either way the limit holds and nothing is lost.
    outcome = docker_exec(confined.container, MEMORY_BOMB)
    wait_health(confined.container, "healthy", wait_s=90)
    restarted = _gateway_pid_and_restarts(confined.container)[1] > restarts
    if restarted and not outcome.blocked:
        outcome = Outcome(MEMORY_BOMB, "BLOCKED", "the cgroup's OOM kill took the gateway; restarted by its policy")
    table.setdefault("custom profile, docker exec", []).append(outcome)
    assert outcome.blocked, outcome
    assert _ask(simulator, "still there after the memory bomb") == "echo: still there after the memory bomb"
    after = _sessions(confined.container)
    lost = {path: size for path, size in history.items() if after.get(path, -1) < size}
    assert not lost, f"session files lost or shrunk: {lost}"


def test_host_service_probe_is_not_vacuous(confined: RunningGateway) -> None:
    """"reach a host service" needs the role's host firewall and a bridge, so it runs in molecule/default
    verify, not here (host networking, no firewall: it would rightly say ESCAPED). Here its probe is checked
    against a listener on 127.0.0.1: an open port is ESCAPED, a closed one gives no verdict (not BLOCKED)."""
    wait_health(confined.container, "healthy")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        reachable = docker_exec(confined.container, host_service_attempt(port, ["127.0.0.1"], via_default_gateway=False))
    assert reachable.verdict == "ESCAPED", reachable
    closed = docker_exec(confined.container, host_service_attempt(port, ["127.0.0.1"], via_default_gateway=False))
    assert closed.verdict == "NO VERDICT" and "nothing listens" in closed.detail, closed


def test_same_attempts_under_dockers_default_profile(
    gateway_image: str, escape_config: Path, confined: RunningGateway, table: dict[str, list[Outcome]]
) -> None:
    """For the table: what the allowlist adds over Docker's default (same hardening otherwise)."""
    name = f"picoclaw-escape-default-{uuid.uuid4().hex[:8]}"
    try:
        # Stop ours first: two gateways must not poll the same fake bot at once.
        docker("stop", "--time", "20", confined.container, timeout=60)
        _start(name, gateway_image, escape_config, "no-new-privileges")
        wait_health(name, "healthy")
        outcomes = [docker_exec(name, attempt) for attempt in ATTEMPTS]
    finally:
        _remove(name)
    table["Docker default profile, docker exec"] = outcomes
    ours = {o.attempt.name for o in table["custom profile, docker exec"] if o.blocked}
    theirs = {o.attempt.name for o in outcomes if o.blocked}
    assert theirs <= ours, f"blocked by Docker's default but not by ours: {theirs - ours}"
