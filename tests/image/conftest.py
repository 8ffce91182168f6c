"""Fixtures for the gateway image test: base image, offline wheelhouse, image, fakes, hardened container.

Everything is built from this checkout on the local engine; nothing is pulled. Each step's duration is
recorded in `timings` and printed at the end of the session (CI keeps an eye on the total).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from docker_cli import docker, engine_answers

REPO = Path(__file__).resolve().parents[2]
GATEWAY_SRC = REPO / "gateway_src"
BASE_IMAGE = os.environ.get("PICOCLAW_TEST_PYTHON_IMAGE", "picoclaw-test/python:3.13-trixie")
ALLOWED_USER = 111
STRANGER = 999
# Hardening the role applies in production (its defaults, one source of truth), minus the network: host
# networking lets the container reach the fakes on 127.0.0.1 without opening anything else.
ROLE_DEFAULTS = yaml.safe_load((REPO / "roles/gateway/defaults/main.yml").read_text())
HARDENING = [
    "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--user", "1000:1000",
    "--memory", ROLE_DEFAULTS["picoclaw_mem_limit"], "--pids-limit", str(ROLE_DEFAULTS["picoclaw_pids_limit"]),
    "--cpus", str(ROLE_DEFAULTS["picoclaw_cpus"]),
    "--ulimit", "nofile={0}:{0}".format(ROLE_DEFAULTS["picoclaw_nofile_limit"]),
    "--tmpfs", f"/tmp:rw,noexec,nosuid,nodev,size={ROLE_DEFAULTS['picoclaw_tmpfs_size']}", "--init",
]  # fmt: skip

_engine_ok, _engine_why = engine_answers()
if not _engine_ok:
    pytest.skip(_engine_why, allow_module_level=True)


@dataclass(frozen=True)
class Secrets:
    """Fresh, realistic-looking credentials: any sighting of them outside the config is a leak."""

    bot_token: str
    api_key: str


@dataclass(frozen=True)
class Simulator:
    telegram: str
    openai: str


@dataclass(frozen=True)
class RunningGateway:
    container: str
    image: str
    health_port: int
    started_at: float


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_timed(timings: dict[str, float], step: str, cmd: list[str], **kwargs: object) -> str:
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    timings[step] = time.monotonic() - start
    output = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, f"{step} failed ({proc.returncode}):\n{output}"
    return str(proc.stdout)


@pytest.fixture(scope="session")
def timings(request: pytest.FixtureRequest) -> Iterator[dict[str, float]]:
    recorded: dict[str, float] = {}
    yield recorded
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and recorded:
        reporter.write_line("")
        for step, seconds in recorded.items():
            reporter.write_line(f"[image-test timing] {step}: {seconds:.1f}s")


@pytest.fixture(scope="session")
def base_image(timings: dict[str, float]) -> str:
    """The registry-free stand-in for python:3.13-slim (cached; built by debootstrap when missing)."""
    script = REPO / "scripts" / "images" / "build-test-images.sh"
    env = {**os.environ, "PYTHON_IMAGE": BASE_IMAGE}
    cmd = ["bash", str(script), "--only", "python"]
    _run_timed(timings, "base image (cached or debootstrap)", cmd, env=env)
    return BASE_IMAGE


@pytest.fixture(scope="session")
def target_python(base_image: str) -> tuple[str, str]:
    """(major.minor, machine) of the base image's python: the wheelhouse must match it."""
    code = "import sys, platform; print(f'{sys.version_info[0]}.{sys.version_info[1]}', platform.machine())"
    out = docker("run", "--rm", "--network", "none", "--entrypoint", "python3", base_image, "-c", code)
    version, machine = out.stdout.split()
    return version, machine


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory, target_python: tuple[str, str],
               timings: dict[str, float]) -> Path:  # fmt: skip
    out = tmp_path_factory.mktemp("wheelhouse")
    script = GATEWAY_SRC / "tools" / "build-wheelhouse.sh"
    env = {**os.environ, "PYTHON": sys.executable}
    _run_timed(timings, "wheelhouse", ["bash", str(script), str(out), *target_python], env=env)
    assert (out / "MANIFEST.sha256").is_file()
    return out


@pytest.fixture(scope="session")
def build_context(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """A snapshot of gateway_src (what the role ships) plus the wheelhouse, without touching the tree."""
    ctx = tmp_path_factory.mktemp("context")
    for name in ("Dockerfile", ".dockerignore", "pyproject.toml", "requirements.lock", "README.md", "LICENSE"):
        if (GATEWAY_SRC / name).exists():
            shutil.copy2(GATEWAY_SRC / name, ctx / name)
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(GATEWAY_SRC / "src", ctx / "src", ignore=skip)
    shutil.copytree(wheelhouse, ctx / "wheelhouse")
    return ctx


@pytest.fixture(scope="session")
def gateway_image(build_context: Path, base_image: str, timings: dict[str, float]) -> Iterator[str]:
    """The gateway image, built with no network at all: proof that the wheelhouse is complete."""
    tag = f"picoclaw-gateway-test:{uuid.uuid4().hex[:12]}"
    builder_tag = f"{tag}-builder"
    common = ["build", "--network", "none", "--force-rm", "--build-arg", f"BASE_IMAGE={base_image}"]
    try:
        start = time.monotonic()
        # Tag the builder stage too, so teardown can remove it (the classic builder keeps it untagged).
        docker(*common, "--target", "builder", "-t", builder_tag, str(build_context), timeout=900)
        docker(*common, "-t", tag, str(build_context), timeout=900)
        timings["gateway image build (offline)"] = time.monotonic() - start
        yield tag
    finally:
        docker("rmi", "--force", tag, builder_tag, check=False)


@pytest.fixture(scope="session")
def credentials() -> Secrets:
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    token = f"{secrets.randbelow(9 * 10**9) + 10**9}:AA" + "".join(secrets.choice(alnum) for _ in range(33))
    return Secrets(bot_token=token, api_key="sk-or-v1-" + secrets.token_hex(32))


@pytest.fixture(scope="session")
def simulator(credentials: Secrets) -> Iterator[Simulator]:
    """The Telegram + OpenAI-compatible fakes from gateway_src/tests/fakes, as one subprocess."""
    cmd = [sys.executable, "-m", "tests.fakes", "simulator", "--host", "127.0.0.1",
           "--telegram-port", "0", "--openai-port", "0", "--anthropic-port", "0",
           "--token", credentials.bot_token, "--api-key", credentials.api_key]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=GATEWAY_SRC, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()

    def read_listening_lines() -> None:  # a thread: readline() has no timeout of its own
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=read_listening_lines, daemon=True).start()
    urls: dict[str, str] = {}
    deadline = time.monotonic() + 30
    try:
        while len(urls) < 3 and proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                _, name, url = lines.get(timeout=1).split()
                urls[name] = url
        why = proc.stderr.read() if proc.poll() is not None else "still running"  # type: ignore[union-attr]
        assert len(urls) == 3, f"simulator did not start: {urls}; {why}"
        yield Simulator(telegram=urls["telegram"], openai=urls["openai"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def config_dir(tmp_path_factory: pytest.TempPathFactory, simulator: Simulator, credentials: Secrets) -> Path:
    config = {
        "llm": {
            "provider": "openrouter",
            "api_key": credentials.api_key,
            "model": "test/model",
            "api_base": f"{simulator.openai}/api/v1",
        },
        "channel": {
            "type": "telegram",
            "token": credentials.bot_token,
            "allowed_users": [ALLOWED_USER],
            "api_base": simulator.telegram,
        },
    }
    # A directory mounted on /config, as the role deploys it (a single-file bind mount would leave a
    # mount-point stub in the container's root filesystem).
    directory = tmp_path_factory.mktemp("config")
    path = directory / "config.json"
    path.write_text(json.dumps(config, indent=2))
    # Readable by the container's group 1000 only.
    if os.geteuid() == 0:
        os.chown(directory, 0, 1000)
        os.chown(path, 0, 1000)
        directory.chmod(0o750)
        path.chmod(0o440)
    else:
        directory.chmod(0o755)
        path.chmod(0o444)
    return directory


@pytest.fixture(scope="session")
def gateway(gateway_image: str, config_dir: Path, timings: dict[str, float]) -> Iterator[RunningGateway]:
    """The gateway container with the production hardening, talking to the fakes."""
    name = f"picoclaw-image-test-{uuid.uuid4().hex[:8]}"
    volume = f"{name}-workspace"
    health_port = _free_port()
    docker("volume", "create", volume)
    try:
        start = time.monotonic()
        docker(
            "run", "--detach", "--name", name, *HARDENING, "--network", "host",
            "--volume", f"{config_dir}:/config:ro", "--volume", f"{volume}:/workspace",
            "--volume", f"{name}-state:/state",
            # Health port: host networking shares 127.0.0.1 with other tests, so pick a free one.
            # Interval: the image's 30 s is for production; the probe command itself is unchanged.
            "--env", f"PICOCLAW_HEALTH_PORT={health_port}", "--health-interval", "2s",
            gateway_image,
        )  # fmt: skip
        timings["container start"] = time.monotonic() - start
        yield RunningGateway(container=name, image=gateway_image, health_port=health_port, started_at=start)
    finally:
        docker("rm", "--force", "--volumes", name, check=False)
        docker("volume", "rm", "--force", volume, f"{name}-state", check=False)
