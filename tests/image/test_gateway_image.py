"""The gateway image, built offline and run with the production hardening, really works.

Run: .venv/bin/pytest -q -p no:cacheprovider tests/image  (needs a Docker engine; skipped without one).
Tests run in file order against one container; the last one stops it.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from conftest import ALLOWED_USER, STRANGER, RunningGateway, Secrets, Simulator
from docker_cli import docker, inspect, wait_health


def _http_json(url: str, body: dict[str, Any] | None = None, timeout: float = 70) -> Any:
    # The fakes live on 127.0.0.1: never go through a proxy from the environment.
    with httpx.Client(timeout=timeout, trust_env=False) as client:
        response = client.get(url) if body is None else client.post(url, json=body)
        response.raise_for_status()
        return response.json()


def test_image_metadata(gateway_image: str) -> None:
    config = inspect("image", gateway_image)["Config"]
    assert config["User"] == "1000:1000"
    assert config["Entrypoint"] == ["picoclaw"] and config["Cmd"] == ["gateway"]
    assert config["WorkingDir"] == "/workspace"
    assert config["Healthcheck"]["Test"] == ["CMD", "picoclaw", "healthcheck"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["PICOCLAW_CONFIG"] == "/config/config.json"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert config["Labels"]["org.opencontainers.image.title"] == "picoclaw-gateway"
    size_mb = inspect("image", gateway_image)["Size"] / 1e6
    print(f"gateway image size: {size_mb:.1f} MB")


def test_image_has_no_download_tools(gateway_image: str) -> None:
    script = "for tool in curl wget pip pip3; do command -v $tool; done; true"
    probe = docker("run", "--rm", "--network", "none", "--entrypoint", "sh", gateway_image, "-c", script)
    assert probe.stdout.strip() == "", f"unexpected tools in the image: {probe.stdout}"


def test_becomes_healthy(gateway: RunningGateway) -> None:
    seconds = wait_health(gateway.container, "healthy", wait_s=120)
    print(f"healthy {seconds:.1f}s after docker run returned")


def test_allowed_user_gets_the_llm_answer(gateway: RunningGateway, simulator: Simulator) -> None:
    wait_health(gateway.container, "healthy")
    _http_json(f"{simulator.telegram}/_control/updates", {"user_id": STRANGER, "text": "let me in"})
    _http_json(f"{simulator.telegram}/_control/updates", {"user_id": ALLOWED_USER, "text": "hello image"})
    sent = _http_json(f"{simulator.telegram}/_control/sent?count=1&chat_id={ALLOWED_USER}&timeout=60")
    assert [m["text"] for m in sent] == ["echo: hello image"]
    # The stranger's update came first: once the allowed user is answered, it was handled (ignored).
    assert _http_json(f"{simulator.telegram}/_control/sent?count=0&chat_id={STRANGER}&timeout=1") == []


def test_only_workspace_and_tmp_are_written(gateway: RunningGateway) -> None:
    wait_health(gateway.container, "healthy")
    changes = set(docker("diff", gateway.container).stdout.splitlines())
    # `--init` makes the engine bind-mount its tini at /usr/sbin/docker-init before the start: that
    # mount-point stub is the engine's, not a write by the gateway.
    changes -= {"C /usr", "C /usr/sbin", "A /usr/sbin/docker-init"}
    assert not changes, f"the container changed its root filesystem: {sorted(changes)}"
    script = "touch /opt/probe 2>&1; touch /workspace/.probe && rm /workspace/.probe && echo ws-ok"
    probe = docker("exec", gateway.container, "sh", "-c", script)
    assert "Read-only file system" in probe.stdout and "ws-ok" in probe.stdout, probe.stdout


def test_secrets_stay_out_of_metadata_history_and_logs(gateway: RunningGateway, credentials: Secrets) -> None:
    wait_health(gateway.container, "healthy")
    logs = docker("logs", gateway.container)
    places = {
        "docker inspect (container)": docker("inspect", gateway.container).stdout,
        "docker inspect (image)": docker("image", "inspect", gateway.image).stdout,
        "docker history": docker("history", "--no-trunc", gateway.image).stdout,
        "docker logs": logs.stdout + logs.stderr,
    }
    env = inspect("container", gateway.container)["Config"]["Env"]
    assert not [e for e in env if "TOKEN" in e.upper() or "KEY" in e.upper()], env
    for secret_name, secret in (("bot token", credentials.bot_token), ("API key", credentials.api_key)):
        for place, text in places.items():
            assert secret not in text, f"the {secret_name} leaks into {place}"
            # The token's secret half alone is just as bad (e.g. a log line that drops the bot id).
            assert secret.split(":")[-1] not in text, f"part of the {secret_name} leaks into {place}"


def _process_status(container: str) -> dict[str, dict[str, list[str]]]:
    """/proc/PID/status path -> field -> values, for every process in the container."""
    script = "grep -H -E '^(Name|Uid|Gid|CapEff|NoNewPrivs|VmRSS):' /proc/[0-9]*/status"
    processes: dict[str, dict[str, list[str]]] = {}
    for line in docker("exec", container, "sh", "-c", script).stdout.splitlines():
        path, key, value = line.split(":", 2)
        processes.setdefault(path, {})[key] = value.split()
    return processes


def test_every_process_is_unprivileged(gateway: RunningGateway) -> None:
    wait_health(gateway.container, "healthy")
    processes = _process_status(gateway.container)
    names = {p["Name"][0] for p in processes.values()}
    assert names & {"picoclaw", "python3"}, f"gateway process not found among {names}"
    for path, p in processes.items():
        who = f"{path} ({p['Name'][0]})"
        assert p["Uid"] == ["1000"] * 4 and p["Gid"] == ["1000"] * 4, f"{who} runs as {p['Uid']}/{p['Gid']}"
        assert int(p["CapEff"][0], 16) == 0, f"{who} has capabilities {p['CapEff'][0]}"
        assert p["NoNewPrivs"] == ["1"], f"{who} may gain privileges"


def test_memory_limit_applies(gateway: RunningGateway) -> None:
    wait_health(gateway.container, "healthy")
    # cgroup v2 files first, then v1.
    script = (
        "cd /sys/fs/cgroup; cat memory.max memory.current 2>/dev/null"
        " || cat memory/memory.limit_in_bytes memory/memory.usage_in_bytes"
    )
    limit, usage = docker("exec", gateway.container, "sh", "-c", script).stdout.split()
    assert int(limit) == 128 * 1024 * 1024, f"memory limit inside the container: {limit}"
    rss_kb = max(
        int(p["VmRSS"][0])
        for p in _process_status(gateway.container).values()
        if p["Name"][0] in {"picoclaw", "python3"} and "VmRSS" in p
    )
    print(f"gateway VmRSS {rss_kb / 1024:.1f} MiB, container cgroup usage {int(usage) / 2**20:.1f} MiB")


def test_stops_cleanly_on_sigterm(gateway: RunningGateway) -> None:
    start = time.monotonic()
    docker("stop", "--time", "20", gateway.container, timeout=60)
    elapsed = time.monotonic() - start
    state = inspect("container", gateway.container)["State"]
    assert state["ExitCode"] == 0, f"exit code {state['ExitCode']} after SIGTERM"
    assert not state["OOMKilled"]
    assert elapsed < 15, f"took {elapsed:.1f}s to stop (docker waits 20 s before SIGKILL)"
