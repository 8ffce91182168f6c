"""`picoclaw` command line: gateway, agent, sandbox, check-config, doctor, healthcheck.

Each subcommand lives in its own module and is imported only when chosen, so
`picoclaw healthcheck` (run by Docker every few seconds) stays cheap.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

# Nothing heavy at module level: `picoclaw sandbox` runs no event loop and imports almost nothing.

DEFAULT_CONFIG = "/config/config.json"
DEFAULT_WORKSPACE = "/workspace"


def _health_port(value: str) -> int:
    import argparse

    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"health port must be a number, got {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"health port must be 1-65535, got {port}")
    return port


def _seconds(value: str) -> float:
    import argparse

    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"timeout must be a number of seconds, got {value!r}") from None
    if not 0.1 <= seconds <= 300:
        raise argparse.ArgumentTypeError(f"timeout must be 0.1-300 seconds, got {value}")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(prog="picoclaw", description="PicoClaw personal AI assistant gateway")
    sub = parser.add_subparsers(dest="command", required=True)

    def runtime_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", default=os.environ.get("PICOCLAW_CONFIG", DEFAULT_CONFIG))
        p.add_argument("--workspace", default=os.environ.get("PICOCLAW_WORKSPACE", DEFAULT_WORKSPACE))
        p.add_argument(
            "--sandbox-socket",
            default=os.environ.get("PICOCLAW_SANDBOX_SOCKET", ""),
            help="Unix socket of the tools sandbox container; overrides the config's tools.sandbox.socket "
            "(default: that, else a local, unisolated subprocess)",
        )

    from picoclaw_gateway.health import DEFAULT_HEALTH_PORT

    def health_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--health-port",
            type=_health_port,
            default=_health_port(os.environ.get("PICOCLAW_HEALTH_PORT", str(DEFAULT_HEALTH_PORT))),
        )

    gateway = sub.add_parser("gateway", help="run the long-lived gateway")
    runtime_options(gateway)
    health_option(gateway)
    gateway.add_argument(
        "--state-dir",
        default=os.environ.get("PICOCLAW_STATE_DIR") or None,
        help="the gateway's own state (delivery journal), outside the workspace; default: a sibling "
        "of the workspace named state (/workspace -> /state)",
    )

    agent = sub.add_parser("agent", help="run the agent once and print the answer")
    runtime_options(agent)
    agent.add_argument("-m", "--message", required=True)

    sandbox = sub.add_parser("sandbox", help="run the tools sandbox (its own container) on a Unix socket")
    sandbox.add_argument("--socket", required=True, help="socket path on the volume shared with the gateway")
    sandbox.add_argument("--workspace", default=os.environ.get("PICOCLAW_WORKSPACE", DEFAULT_WORKSPACE))
    sandbox.add_argument(
        "--kill-all-others",
        action="store_true",
        help="after each exec call kill every process in the pid namespace but pid 1 and the sandbox "
        "(only in its own container; refused when other processes exist at start)",
    )

    check = sub.add_parser("check-config", help="validate a config file (exit 2 when invalid)")
    check.add_argument("path")

    doctor = sub.add_parser(
        "doctor",
        help="validate the config, then ask the LLM provider and the chat platforms whether the key, "
        "model and tokens are good (no tokens spent); exit 0 ok, 1 a check failed, 2 invalid config",
    )
    doctor.add_argument("--config", default=os.environ.get("PICOCLAW_CONFIG", DEFAULT_CONFIG))
    doctor.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    doctor.add_argument(
        "--timeout", type=_seconds, default=10.0, help="seconds each request may take (default 10)"
    )

    health = sub.add_parser("healthcheck", help="exit 0 only when every channel is connected (GET /ready)")
    health_option(health)
    health.add_argument("--live", action="store_true", help="only check that the gateway runs (GET /health)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sandbox"]:  # parsed by hand: the sandbox's idle RSS budget is 16 MB
        from picoclaw_gateway.sandbox.server import main as sandbox_main

        return sandbox_main(argv[1:])
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage; keep that code
        return int(exc.code or 0)
    if args.command == "check-config":
        from picoclaw_gateway.check_config import run as run_check

        return run_check(args.path)
    if args.command == "doctor":
        from picoclaw_gateway.doctor import run as run_doctor

        return run_doctor(args.config, as_json=args.json, deadline_s=args.timeout)
    if args.command == "healthcheck":
        from picoclaw_gateway.health import run_healthcheck

        return run_healthcheck(args.health_port, path="/health" if args.live else "/ready")
    if args.sandbox_socket:  # read by sandbox/local.py when the gateway opens its tools
        os.environ["PICOCLAW_SANDBOX_SOCKET"] = args.sandbox_socket
    if args.command == "agent":
        from picoclaw_gateway.app import run_agent_once

        return run_agent_once(args.config, args.workspace, args.message)
    from picoclaw_gateway.app import run_gateway

    return run_gateway(args.config, args.workspace, args.health_port, args.state_dir)


if __name__ == "__main__":
    sys.exit(main())
