"""`python -m tests.fakes simulator`: run the Telegram, OpenAI-compatible and Anthropic fakes together."""

from __future__ import annotations

import argparse
import asyncio

from tests.fakes._server import RunningServer, serve_forever
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser("simulator", help="serve all fakes until SIGTERM")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--telegram-port", type=int, default=8081)
    sim.add_argument("--openai-port", type=int, default=8082)
    sim.add_argument("--anthropic-port", type=int, default=8083)
    sim.add_argument("--token", action="append", required=True, help="bot token to accept (repeatable)")
    sim.add_argument("--api-key", default=None, help="LLM key the fakes require (default: any)")
    args = parser.parse_args()
    servers = [
        RunningServer(FakeTelegram(args.token).app, args.host, args.telegram_port),
        RunningServer(FakeOpenAI(api_key=args.api_key).app, args.host, args.openai_port),
        RunningServer(FakeAnthropic(api_key=args.api_key).app, args.host, args.anthropic_port),
    ]
    asyncio.run(serve_forever(servers))


if __name__ == "__main__":
    main()
