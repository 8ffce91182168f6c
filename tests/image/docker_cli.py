"""Thin wrapper over the `docker` CLI for the image tests (the CLI is what CI and the roles use)."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any


class DockerError(AssertionError):
    """A docker command failed; the message carries its output for the test report."""


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise DockerError(f"docker {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def engine_answers() -> tuple[bool, str]:
    """(True, "") when `docker info` works, else (False, why) for a skip reason."""
    try:
        proc = docker("info", "--format", "{{.ServerVersion}}", timeout=20, check=False)
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        return False, f"docker CLI unusable: {exc}"
    if proc.returncode != 0:
        return False, f"`docker info` failed (run scripts/ci/install-docker.sh): {proc.stderr.strip()[:200]}"
    return True, ""


def inspect(kind: str, name: str) -> dict[str, Any]:
    """`docker <kind> inspect NAME` as a dict (kind: image, container, volume)."""
    [obj] = json.loads(docker(kind, "inspect", name).stdout)
    return obj


def wait_health(container: str, wanted: str = "healthy", wait_s: float = 120) -> float:
    """Seconds until Docker reports `wanted`; AssertionError with the last probe output otherwise."""
    start = time.monotonic()
    state: dict[str, Any] = {}
    while time.monotonic() - start < wait_s:
        state = inspect("container", container)["State"]
        health = state.get("Health") or {}
        if health.get("Status") == wanted:
            return time.monotonic() - start
        if not state.get("Running") and not state.get("Restarting"):  # restarting: its restart policy
            break
        time.sleep(1)
    logs = docker("logs", "--tail", "60", container, check=False)
    probes = (state.get("Health") or {}).get("Log", [])[-3:]
    raise AssertionError(
        f"{container} not {wanted} after {time.monotonic() - start:.0f}s; state={state.get('Status')} "
        f"exit={state.get('ExitCode')} probes={probes}\nlogs:\n{logs.stdout}\n{logs.stderr}"
    )
