"""Is each chat platform token valid? One cheap, read-only call per token, over plain httpx.

Telegram getMe, Discord GET /users/@me, Slack auth.test (bot token). Slack's app token is only
shape-checked (by the validator): its one API call, apps.connections.open, hands out a Socket
Mode connection, which a check must not do behind the running gateway's back.
"""

from __future__ import annotations

import httpx

from picoclaw_gateway.config import ChannelConfig
from picoclaw_gateway.config_validator import DEFAULT_CHANNEL_API_BASES
from picoclaw_gateway.doctor.probe import (
    SMALL_BODY_BYTES,
    Unreachable,
    fetch,
    json_body,
    unexpected_status,
    unreachable,
)
from picoclaw_gateway.doctor.report import FAIL, OK, SKIP, Check
from picoclaw_gateway.http_client import CappedAsyncClient, shared_ssl_context

_TOKEN_FIX = {
    "telegram": "put the token @BotFather gives (/mybots > your bot > API Token) in {name}",
    "discord": "reset the token in the Discord Developer Portal (your app > Bot > Reset Token) "
    "and put it in {name}",
    "slack": "put the Bot User OAuth Token (xoxb-, your app > OAuth & Permissions) in {name}; "
    "reinstall the app to the workspace if it was revoked",
}
# auth.test errors that mean "this token is no good" (others are reported as they come).
_SLACK_BAD_TOKEN = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}


class ChannelTarget:
    """One channel as the messages name it: `prefix` is where it sits in the config
    (channel, channels[1], channels.telegram), `shown_base` its display-safe API base."""

    def __init__(self, channel: ChannelConfig, prefix: str, shown_base: str | None) -> None:
        self.channel = channel
        self.type = channel.type
        self.base = (channel.api_base or DEFAULT_CHANNEL_API_BASES[channel.type]).rstrip("/")
        self.shown_base = (shown_base or DEFAULT_CHANNEL_API_BASES[channel.type]).rstrip("/")
        self.token_name = f"{prefix}.{'bot_token' if channel.type == 'slack' else 'token'}"
        self.app_token_name = f"{prefix}.app_token"
        self.base_name = f"{prefix}.api_base"
        self.route = f"{prefix}.proxy" if channel.proxy else self.base_name  # what to check when unreachable

    def rejected(self, detail: str) -> Check:
        return Check(
            self.token_name,
            FAIL,
            f"{self.type} rejected the bot token ({detail})",
            _TOKEN_FIX[self.type].format(name=self.token_name),
        )

    def accepted(self, who: str) -> Check:
        return Check(self.token_name, OK, f"{self.type} accepted the bot token ({who})")


def _telegram(target: ChannelTarget, response: httpx.Response) -> Check:
    body = json_body(response)
    # Telegram answers 401 for an unknown token and 404 for one that is not a token at all.
    if response.status_code in (401, 404) and isinstance(body, dict) and body.get("ok") is False:
        return target.rejected(f"{response.status_code} {body.get('description', '')}".strip())
    result = body.get("result") if isinstance(body, dict) else None
    if response.status_code != 200 or not isinstance(result, dict):
        return unexpected_status(target.token_name, target.type, response, target.base_name)
    return target.accepted(f"bot @{result.get('username', '?')}")


def _discord(target: ChannelTarget, response: httpx.Response) -> Check:
    if response.status_code == 401:
        return target.rejected("401 Unauthorized")
    body = json_body(response)
    if response.status_code != 200 or not isinstance(body, dict):
        return unexpected_status(target.token_name, target.type, response, target.base_name)
    return target.accepted(f"bot {body.get('username', '?')}")


def _slack(target: ChannelTarget, response: httpx.Response) -> Check:
    body = json_body(response)
    if response.status_code != 200 or not isinstance(body, dict):
        return unexpected_status(target.token_name, target.type, response, target.base_name)
    if body.get("ok") is not True:
        error = str(body.get("error", "no error given"))[:80]
        if error in _SLACK_BAD_TOKEN:
            return target.rejected(error)
        return Check(target.token_name, FAIL, f"slack auth.test failed ({error})", "check the bot token")
    return target.accepted(f"team {body.get('team', '?')}, bot user {body.get('user_id', '?')}")


async def check_channel(target: ChannelTarget, deadline_s: float) -> list[Check]:
    channel = target.channel
    headers: dict[str, str] = {}
    if target.type == "telegram":
        method, url = "GET", f"{target.base}/bot{channel.token}/getMe"
    elif target.type == "discord":
        method, url, headers = "GET", f"{target.base}/users/@me", {"Authorization": f"Bot {channel.token}"}
    else:
        method, url = "POST", f"{target.base}/auth.test"
        headers = {"Authorization": f"Bearer {channel.token}"}
    async with CappedAsyncClient(
        max_response_bytes=SMALL_BODY_BYTES,
        timeout=httpx.Timeout(deadline_s),
        headers=headers,
        proxy=channel.proxy,
        trust_env=True,
        verify=shared_ssl_context(),
    ) as client:
        answer = await fetch(client, method, url, deadline_s)
    if isinstance(answer, Unreachable):
        what = f"the {target.type} API"
        return [unreachable(target.base_name, what, target.shown_base, answer, target.route)]
    judge = {"telegram": _telegram, "discord": _discord, "slack": _slack}[target.type]
    checks = [judge(target, answer)]
    if target.type == "slack":
        checks.append(
            Check(
                target.app_token_name,
                SKIP,
                "shape checked only (Slack's one app-token call opens a Socket Mode connection)",
            )
        )
    return checks
