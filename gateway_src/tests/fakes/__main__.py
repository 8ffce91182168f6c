"""`python -m tests.fakes simulator`: run the platform and LLM fakes together until SIGTERM.

Telegram, OpenAI-compatible and Anthropic always run; Discord and Slack run when their port and
token(s) are given (the fleet scenario gives each host one channel).
"""

from __future__ import annotations

import argparse
import asyncio

from tests.fakes._server import RunningServer, serve_forever
from tests.fakes.anthropic_api import DEFAULT_MODELS as ANTHROPIC_MODELS
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.openai_api import DEFAULT_MODELS as OPENAI_MODELS
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser("simulator", help="serve the fakes until SIGTERM")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--telegram-port", type=int, default=8081)
    sim.add_argument("--openai-port", type=int, default=8082)
    sim.add_argument("--anthropic-port", type=int, default=8083)
    sim.add_argument(
        "--token", action="append", required=True, help="Telegram bot token to accept (repeatable)"
    )
    sim.add_argument("--api-key", default=None, help="LLM key the fakes require (default: any)")
    sim.add_argument(
        "--model",
        action="append",
        default=[],
        help="a model id the LLM fakes list (GET .../models) besides their defaults (repeatable)",
    )
    sim.add_argument("--discord-port", type=int, default=None)
    sim.add_argument("--discord-token", default=None, help="Discord bot token to accept")
    sim.add_argument("--slack-port", type=int, default=None)
    sim.add_argument("--slack-bot-token", default=None, help="Slack xoxb- token to accept")
    sim.add_argument("--slack-app-token", default=None, help="Slack xapp- token to accept")
    return parser


def main() -> None:
    parser = _parser()
    args = parser.parse_args()
    openai_models, anthropic_models = (*OPENAI_MODELS, *args.model), (*ANTHROPIC_MODELS, *args.model)
    servers = [
        RunningServer(FakeTelegram(args.token).app, args.host, args.telegram_port),
        RunningServer(FakeOpenAI(args.api_key, openai_models).app, args.host, args.openai_port),
        RunningServer(FakeAnthropic(args.api_key, anthropic_models).app, args.host, args.anthropic_port),
    ]
    if args.discord_port is not None:
        if not args.discord_token:
            parser.error("--discord-port needs --discord-token")
        servers.append(RunningServer(FakeDiscord(args.discord_token).app, args.host, args.discord_port))
    if args.slack_port is not None:
        if not (args.slack_bot_token and args.slack_app_token):
            parser.error("--slack-port needs --slack-bot-token and --slack-app-token")
        fake_slack = FakeSlack(args.slack_bot_token, args.slack_app_token)
        servers.append(RunningServer(fake_slack.app, args.host, args.slack_port))
    asyncio.run(serve_forever(servers))


if __name__ == "__main__":
    main()
