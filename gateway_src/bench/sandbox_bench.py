"""Idle RSS of the tools sandbox and the round-trip overhead a tool call pays for going through it.

Starts the real `python -m picoclaw_gateway sandbox` subprocess (MALLOC_ARENA_MAX=2, like the image)
on a Unix socket and prints one JSON line:
- `rss_idle_mb` (VmRSS 1 s after the socket appeared, before any call; also RssAnon/RssFile),
  `rss_after_calls_mb` (after all calls), against the 16 MB idle target;
- per tool (`read_file` of a 1 KB file, `list_dir`, `exec` of `true`): p50/p99 of N calls made
  in-process (the tool object called directly) and through the sandbox (connect, request, answer),
  and `overhead_p50_ms` = sandbox p50 - in-process p50, against the 5 ms target;
- first, the verdicts: `overhead_p50_ms_worst` (the largest of the three), `overhead_within_target`
  and `rss_idle_within_target`.

Run from gateway_src: `make bench-sandbox` or `python -m bench.sandbox_bench [--calls 500]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.proc_memory import status_kib
from picoclaw_gateway.agent.tools import build_registry
from picoclaw_gateway.config import ExecConfig
from picoclaw_gateway.sandbox.client import SandboxClient

RSS_TARGET_MB = 16
OVERHEAD_TARGET_MS = 5.0
CASES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("read_file", {"path": "note.txt"}),
    ("list_dir", {"path": "."}),
    ("exec", {"command": "true"}),
)


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
    }


async def _timed(call: Callable[[], Awaitable[str]], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        result = await call()
        samples.append(time.perf_counter() - start)
        if result.startswith("error:"):
            raise RuntimeError(result)
    return samples


def _mem(pid: int) -> dict[str, float]:
    return {k: round(status_kib(pid, k) / 1024, 1) for k in ("VmRSS", "RssAnon", "RssFile")}


async def run(calls: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="picoclaw-bench-") as tmp:
        workspace = Path(tmp) / "ws"
        workspace.mkdir()
        (workspace / "note.txt").write_text("x" * 1024)
        sock = Path(tmp) / "tools.sock"
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "PYTHONPATH", "TMPDIR")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "picoclaw_gateway",
            "sandbox",
            "--socket",
            str(sock),
            "--workspace",
            str(workspace),
            env=env | {"MALLOC_ARENA_MAX": "2", "PICOCLAW_LOG_LEVEL": "WARNING"},
        )
        try:
            while not sock.exists():
                if proc.returncode is not None:
                    raise RuntimeError(f"sandbox exited {proc.returncode}")
                await asyncio.sleep(0.01)
            await asyncio.sleep(1.0)
            idle = _mem(proc.pid)
            exec_config = ExecConfig()
            local = build_registry(workspace, exec_config)
            client = SandboxClient(str(sock))
            tools: dict[str, Any] = {}
            for name, args in CASES:
                count = calls if name != "exec" else max(calls // 5, 20)

                def direct(name: str = name, args: dict[str, Any] = args) -> Awaitable[str]:
                    return local.run(name, args)

                def remote(name: str = name, args: dict[str, Any] = args) -> Awaitable[str]:
                    return client.call(name, args, exec_config, 30.0)

                await _timed(direct, 5)  # warm-up: imports, caches
                await _timed(remote, 5)
                inproc = _ms(await _timed(direct, count))
                sandboxed = _ms(await _timed(remote, count))
                tools[name] = {
                    "calls": count,
                    "in_process": inproc,
                    "sandbox": sandboxed,
                    "overhead_p50_ms": round(sandboxed["p50_ms"] - inproc["p50_ms"], 2),
                }
            after = _mem(proc.pid)
        finally:
            proc.terminate()
            await proc.wait()
    worst = max(tool["overhead_p50_ms"] for tool in tools.values())
    return {
        # The verdicts first: what the budgets ask (idle RSS <= 16 MB, p50 overhead <= 5 ms).
        "overhead_p50_ms_worst": worst,
        "overhead_within_target": worst <= OVERHEAD_TARGET_MS,
        "rss_idle_within_target": idle["VmRSS"] <= RSS_TARGET_MB,
        "rss_idle_mb": idle["VmRSS"],
        "rss_anon_idle_mb": idle["RssAnon"],
        "rss_file_idle_mb": idle["RssFile"],
        "rss_after_calls_mb": after["VmRSS"],
        "rss_target_mb": RSS_TARGET_MB,
        "overhead_target_p50_ms": OVERHEAD_TARGET_MS,
        "tools": tools,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="calls per tool (exec: a fifth)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.calls))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
