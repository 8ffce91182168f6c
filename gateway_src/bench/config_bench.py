"""How long the config validator takes on big configs (it must stay linear: issue 12).

Each case builds one config as JSON text, then times `validate_text` (what `picoclaw check-config`
and the Ansible module run) plus `as_dict()` (the module's redacted output). Prints one JSON line
per case: bytes, CPU seconds (best of --repeat), errors and warnings found.

Run from gateway_src: `python -m bench.config_bench [--users 100000] [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from picoclaw_gateway.config_validator import MAX_CONFIG_BYTES, validate_text

TELEGRAM_TOKEN = "123456789:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"
LLM = {"provider": "openrouter", "api_key": "sk-or-v1-" + "0" * 64, "model": "openai/gpt-4o-mini"}


def _stack(users: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "llm": LLM,
        "channel": {"type": "telegram", "token": TELEGRAM_TOKEN, "allowed_users": users},
        **extra,
    }


def _fill(build: Callable[[int], dict[str, Any]], limit: int = MAX_CONFIG_BYTES) -> str:
    """The biggest config from `build(n)` that stays within `limit` bytes (binary search on n)."""
    low, high = 1, 1
    while len(json.dumps(build(high))) <= limit:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if len(json.dumps(build(middle))) <= limit:
            low = middle
        else:
            high = middle
    return json.dumps(build(low))


def cases(users: int) -> dict[str, str]:
    many = list(range(1, users + 1))  # short ids: 100k of them fit in 1 MiB
    return {
        f"{users} allowed users": json.dumps(_stack(many)),
        f"{users} allowed users, every 2nd a duplicate": json.dumps(
            _stack([u for u in many[: users // 2] for _ in (0, 1)])
        ),
        "1 MiB of allowed users": _fill(lambda n: _stack(list(range(100_000_000, 100_000_000 + n)))),
        "1 MiB of allowed users as strings (upstream)": _fill(
            lambda n: {
                "agents": {"defaults": {"model": "openai/gpt-4o-mini"}},
                "providers": {"openrouter": {"api_key": LLM["api_key"]}},
                "channels": {
                    "telegram": {
                        "enabled": True,
                        "token": TELEGRAM_TOKEN,
                        "allow_from": [f"{100_000_000 + i}|user{i}" for i in range(n)],
                    }
                },
            }
        ),
        "1 MiB of unknown keys": _fill(lambda n: _stack([1], **{f"extra_setting_{i}": i for i in range(n)})),
        "1 MiB of duplicate keys": _fill(
            lambda n: {"llm": LLM, "pad": [{"a": 1} for _ in range(n)]}, limit=MAX_CONFIG_BYTES * 10 // 18
        ).replace('{"a": 1}', '{"a": 1, "a": 2}'),
        "1 MiB of channels": _fill(
            lambda n: {
                "llm": LLM,
                "channels": [
                    {
                        "type": "telegram",
                        "token": f"{i + 1}:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789",
                        "allowed_users": [1],
                    }
                    for i in range(n)
                ],
            }
        ),
        "1 MiB user id of digits": json.dumps(_stack(["1" * (MAX_CONFIG_BYTES - 300)])),
        "1 MiB api_key": json.dumps(
            _stack([1]) | {"llm": LLM | {"api_key": "-xxx" * ((MAX_CONFIG_BYTES - 300) // 4)}}
        ),
        "1 MiB integer": json.dumps(_stack([1])).replace("[1]", "[" + "7" * (MAX_CONFIG_BYTES - 300) + "]"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000, help="allowed users in the first two cases")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best is printed")
    args = parser.parse_args()
    for name, text in cases(args.users).items():
        best = float("inf")
        for _ in range(args.repeat):
            start = time.process_time()  # CPU time: the machine may be shared
            result = validate_text(text)
            result.as_dict()
            best = min(best, time.process_time() - start)
        line = {
            "case": name,
            "bytes": len(text.encode("utf-8")),
            "seconds": round(best, 4),
            "errors": len(result.errors),
            "warnings": len(result.warnings),
        }
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
