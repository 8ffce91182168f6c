#!/usr/bin/env python3
"""Trace every syscall the gateway container makes through its whole flow; print the sorted names.

Usage (root, Docker engine, host `strace`):
    python3 scripts/seccomp/trace_gateway.py --image IMAGE [--out scripts/seccomp/traced/x86_64.txt]

How: the container runs with the production hardening (minus seccomp, so nothing is hidden from the
trace) and host networking against the protocol fakes of gateway_src/tests/fakes. Its entrypoint waits
a few seconds before exec'ing `picoclaw gateway`, long enough for the host's strace to attach to the
container's init (tini) and that shell with -f: from then on every process of the container is traced,
including the exec tool's children. The flow: start, polling, a plain answer, every tool (exec running
sh/ls/cat/grep/python3, `picoclaw healthcheck`, a TLS handshake with httpx and ssl against a local
self-signed server), then `docker stop` (SIGTERM shutdown).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import re
import secrets
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
GATEWAY_SRC = REPO / "gateway_src"
USER_ID = 111
HARDENING = [
    "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--user", "1000:1000",
    "--memory", "128m", "--pids-limit", "64", "--cpus", "1", "--ulimit", "nofile=2048:2048",
    "--tmpfs", "/tmp:rw,noexec,nosuid,nodev,size=64m", "--init",  # noqa: S108 - the container's tmpfs
]  # fmt: skip
# `PID name(` or `PID <... name resumed>`: the syscall name of every strace -f line.
SYSCALL_LINE = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z_][a-z0-9_]*)(?:\(| resumed>)")
# What the exec tool runs: the ordinary commands an assistant uses, plus the TLS client paths.
TLS_CLIENT = (
    "import httpx, ssl; httpx.Client().close(); ctx = ssl.create_default_context(); "
    "ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE; "
    "print('tls', httpx.get('https://127.0.0.1:{port}/', verify=ctx).status_code)"
)


def docker(*args: str, check: bool = True, timeout: float = 120) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        sys.exit(f"docker {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def http(url: str, body: Any = None) -> Any:
    with httpx.Client(timeout=90, trust_env=False) as client:
        response = client.get(url) if body is None else client.post(url, json=body)
        response.raise_for_status()
        return response.json()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_simulator(token: str, api_key: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    cmd = [sys.executable, "-m", "tests.fakes", "simulator", "--host", "127.0.0.1", "--telegram-port", "0",
           "--openai-port", "0", "--anthropic-port", "0", "--token", token, "--api-key", api_key]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=GATEWAY_SRC, stdout=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or []], daemon=True).start()
    urls: dict[str, str] = {}
    deadline = time.monotonic() + 30
    while len(urls) < 3 and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            _, name, url = lines.get(timeout=1).split()
            urls[name] = url
    if len(urls) < 3:
        proc.kill()
        sys.exit(f"simulator did not start: {urls}")
    return proc, urls


def start_tls_server(workdir: Path) -> int:
    """A one-line HTTPS responder with a fresh self-signed certificate, on 127.0.0.1."""
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    openssl = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
    ]
    subprocess.run([*openssl, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(4096)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    threading.Thread(target=serve, daemon=True).start()
    return port


def container_pids(name: str) -> list[str]:
    init = docker("inspect", "--format", "{{.State.Pid}}", name).strip()
    children = Path(f"/proc/{init}/task/{init}/children").read_text().split()
    return [init, *children]


def denied_by(profile_path: str, traced: list[str]) -> list[str]:
    """Traced syscalls the profile does not allow. ptrace reports a syscall before seccomp filters it,
    so under an SCMP_ACT_ERRNO profile these are the calls the profile refused during the flow."""
    rules = json.loads(Path(profile_path).read_text())["syscalls"]
    allowed = {n for r in rules if r["action"] == "SCMP_ACT_ALLOW" for n in r["names"]}
    return [name for name in traced if name not in allowed]


def gateway_config(urls: dict[str, str], api_key: str, token: str) -> dict[str, Any]:
    """The gateway's config.json for a traced run against the simulator at `urls`."""
    return {
        "llm": {"provider": "openrouter", "api_key": api_key, "model": "test/model",
                "api_base": f"{urls['openai']}/api/v1"},
        "channel": {"type": "telegram", "token": token, "allowed_users": [USER_ID],
                    "api_base": urls["telegram"]},
    }  # fmt: skip


def drive(urls: dict[str, str], tls_port: int, health_port: int) -> None:
    llm, telegram = f"{urls['openai']}/_control/script", f"{urls['telegram']}/_control"
    http(f"{telegram}/updates", {"user_id": USER_ID, "text": "trace-hello"})
    http(f"{telegram}/sent?count=1&chat_id={USER_ID}&timeout=90")
    commands = [
        "ls -la /workspace /tmp; cat /etc/os-release; grep -c root /etc/passwd; echo x | sh -c 'cat; pwd'",
        "python3 -c 'import os, json; print(json.dumps(os.listdir()))'; id; date; sort /etc/group | head -3",
        f"PICOCLAW_HEALTH_PORT={health_port} /opt/picoclaw/venv/bin/picoclaw healthcheck; echo health=$?",
        f'/opt/picoclaw/venv/bin/python -c "{TLS_CLIENT.format(port=tls_port)}"',
        "sleep 0.2 & wait; find . -maxdepth 1 | wc -l; sed -n 1p notes.txt; mkdir -p d && rm -r d; true",
    ]
    calls: list[dict[str, Any]] = [
        {"name": "write_file", "arguments": {"path": "notes.txt", "content": "alpha\nbeta\n"}},
        {"name": "read_file", "arguments": {"path": "notes.txt"}},
        {"name": "edit_file", "arguments": {"path": "notes.txt", "old_text": "beta", "new_text": "gamma"}},
        {"name": "list_dir", "arguments": {"path": "."}},
        *({"name": "exec", "arguments": {"command": c}} for c in commands),
    ]
    rules = [{"match": "trace-tools", "times": 1, "reply": {"tool_calls": [call]}} for call in calls]
    http(llm, [{**rule["reply"], "match": rule["match"], "times": 1} for rule in rules])
    http(f"{telegram}/updates", {"user_id": USER_ID, "text": "trace-tools"})
    http(f"{telegram}/sent?count=2&chat_id={USER_ID}&timeout=120")
    requests = http(f"{urls['openai']}/_control/requests")
    results = [
        m.get("content") for r in requests for m in r["body"].get("messages", []) if m.get("role") == "tool"
    ]
    print("\n".join(str(r)[:300] for r in results[-len(commands) :]), file=sys.stderr)
    if not any("tls 200" in str(r) for r in results) or not any("health=0" in str(r) for r in results):
        sys.exit("the TLS handshake or the healthcheck did not succeed inside the traced container")



def traced_names(trace_file: Path) -> list[str]:
    """The syscall names in an `strace -f` output file, sorted, each once."""
    return sorted({m.group(1) for line in trace_file.read_text().splitlines() if (m := SYSCALL_LINE.match(line))})


def report(names: list[str], seccomp: str, out: Path | None) -> None:
    """What the profile refused during the flow (when one applied), and the names to `out` or stdout."""
    if seccomp != "unconfined":
        denied = denied_by(seccomp, names)
        print(f"refused by {seccomp} during the flow: {denied or 'nothing'}", file=sys.stderr)
    text = "\n".join(names) + "\n"
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(f"{len(names)} syscalls traced -> {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)

def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--image", required=True, help="gateway image (as built by tests/image)")
    parser.add_argument("--out", type=Path, help="write the sorted syscall names here (default: stdout)")
    parser.add_argument(
        "--seccomp",
        default="unconfined",
        help="profile to run under (default unconfined); also reports traced calls it refused",
    )
    args = parser.parse_args()
    token = f"{secrets.randbelow(9 * 10**9) + 10**9}:AA{secrets.token_urlsafe(24)}"
    api_key = "sk-or-v1-" + secrets.token_hex(32)
    simulator, urls = start_simulator(token, api_key)
    name = f"picoclaw-seccomp-trace-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        os.chmod(workdir, 0o755)  # noqa: S103 - the container's uid 1000 must traverse it
        config = gateway_config(urls, api_key, token)
        (workdir / "config").mkdir(mode=0o755)
        (workdir / "config" / "config.json").write_text(json.dumps(config))
        os.chmod(workdir / "config" / "config.json", 0o444)
        tls_port, health_port = start_tls_server(workdir), free_port()
        trace_file = workdir / "strace.out"
        docker("volume", "create", f"{name}-ws")
        try:
            docker("run", "--detach", "--name", name, *HARDENING, "--network", "host",
                   "--security-opt", f"seccomp={args.seccomp}",
                   "--volume", f"{workdir / 'config'}:/config:ro",
                   "--volume", f"{name}-ws:/workspace", "--volume", f"{name}-state:/state", "--env", f"PICOCLAW_HEALTH_PORT={health_port}",
                   "--health-interval", "2s", "--entrypoint", "sh", args.image,
                   "-c", "sleep 3; exec picoclaw gateway")  # fmt: skip
            pids = container_pids(name)
            strace = subprocess.Popen(["strace", "-f", "-qq", "-o", str(trace_file),
                                       *[a for pid in pids for a in ("-p", pid)]])  # fmt: skip
            drive(urls, tls_port, health_port)
            docker("stop", "--time", "20", name, timeout=60)
            strace.wait(timeout=60)
            names = traced_names(trace_file)
        finally:
            docker("rm", "--force", "--volumes", name, check=False)
            docker("volume", "rm", "--force", f"{name}-ws", f"{name}-state", check=False)
            simulator.terminate()
    report(names, args.seccomp, args.out)


if __name__ == "__main__":
    main()
