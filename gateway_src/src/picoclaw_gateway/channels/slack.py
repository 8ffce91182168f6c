"""Slack channel: slack_sdk Socket Mode (aiohttp) for events, AsyncWebClient for replies.

Answers direct messages (message events in an "im" channel) and app_mention events. Every
envelope is acknowledged before anything else is done with it. Slack may deliver one user
message twice (as message and app_mention, or again as a retry when an ack was late): a
bounded cache of recently seen (channel, ts) and event ids answers it once.

A chat is a DM channel ("D123") or, for mentions, the thread the answer goes into
("C123:1700000000.000100"), so each thread keeps its own history.

Advanced, for tests and self-hosted proxies: `api_base` replaces https://slack.com/api; the
Socket Mode websocket URL comes from apps.connections.open on that base.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from picoclaw_gateway.channels.base import Channel, IncomingMessage, OnMessage
from picoclaw_gateway.channels.text_split import split_text
from picoclaw_gateway.config import ChannelConfig

log = logging.getLogger(__name__)

# chat.postMessage truncates text beyond 40,000 chars and advises at most 4,000: stay below.
MESSAGE_LIMIT = 3900
DEDUPE_SIZE = 512
RETRY_DELAY_S = 5.0
THREAD_SEPARATOR = ":"
# Plain messages, messages with a file (their text is answered) and "also send to channel" replies.
ANSWERED_SUBTYPES = (None, "file_share", "thread_broadcast")
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def is_allowed(allowed_users: tuple[str, ...], user_id: str) -> bool:
    """Entries are Slack user ids (U…/W…); empty = open bot."""
    return not allowed_users or user_id in allowed_users


class RecentKeys:
    """A bounded set of recently seen keys (oldest forgotten first)."""

    def __init__(self, size: int = DEDUPE_SIZE) -> None:
        self._size = size
        self._keys: OrderedDict[str, None] = OrderedDict()

    def seen(self, *keys: str) -> bool:
        """True if any key was seen before; records all of them either way."""
        hit = any(key in self._keys for key in keys)
        for key in keys:
            self._keys[key] = None
            self._keys.move_to_end(key)
        while len(self._keys) > self._size:
            self._keys.popitem(last=False)
        return hit


def slack_escape(text: str) -> str:
    """Slack reads &, < and > as markup (<!channel> pings everyone): send them escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escaped_len(text: str) -> int:
    return len(slack_escape(text))


def reply_chunks(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Escaped chunks of at most `limit` characters, in order, cut on line boundaries when possible."""
    return [slack_escape(chunk) for chunk in split_text(text, limit, escaped_len)]


def chat_for(event: dict[str, Any]) -> str | None:
    """The chat id an event is answered in, or None if the event is not for us."""
    channel = event.get("channel")
    if not isinstance(channel, str):
        return None
    kind = event.get("type")
    if kind == "message" and event.get("channel_type") == "im":
        thread = event.get("thread_ts")
        return f"{channel}{THREAD_SEPARATOR}{thread}" if thread else channel
    if kind == "app_mention":
        return f"{channel}{THREAD_SEPARATOR}{event.get('thread_ts') or event.get('ts')}"
    return None


class SlackChannel(Channel):
    name = "slack"

    def __init__(self, config: ChannelConfig) -> None:
        super().__init__()
        if not config.app_token:
            raise ValueError("a slack channel needs app_token (xapp-...) for Socket Mode")
        self.config = config
        base_url = (config.api_base or "https://slack.com/api").rstrip("/") + "/"
        self.web = AsyncWebClient(
            token=config.token,
            base_url=base_url,
            proxy=config.proxy,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(max_retry_count=3),
                AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            ],
        )
        self._socket: SocketModeClient | None = None
        self._on_message: OnMessage | None = None
        self._recent = RecentKeys()
        self._bot_user_id = ""
        self._stopping = asyncio.Event()

    async def run(self, on_message: OnMessage) -> None:
        self._on_message = on_message
        while not self._stopping.is_set():
            try:
                auth = await self.web.auth_test()
                self._bot_user_id = str(auth.get("user_id") or "")
                socket = self._socket = SocketModeClient(
                    app_token=self.config.app_token or "",
                    web_client=self.web,
                    proxy=self.config.proxy,
                    auto_reconnect_enabled=True,
                )
                socket.socket_mode_request_listeners.append(self._on_request)
                socket.on_message_listeners.append(self._on_ws_message)
                # Opened here, not inside connect(): connect() retries a rejected app token forever.
                opened = await self.web.apps_connections_open(app_token=self.config.app_token or "")
                socket.wss_uri = opened["url"]
                await socket.connect()
                log.info("slack connected over Socket Mode as bot user id=%s", self._bot_user_id)
                self.set_ready()
                await self._stopping.wait()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = getattr(getattr(exc, "response", None), "get", lambda _k: None)("error")
                if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked"):
                    self.set_not_ready(f"slack rejected a token ({error}): check bot_token/app_token")
                    log.error("slack rejected a token (%s); retrying in 60 s", error)
                    await self._sleep(60.0)
                    continue
                self.set_not_ready(f"slack connection failed: {type(exc).__name__}")
                log.warning("slack connection failed (%s); retrying in %.0f s", exc, RETRY_DELAY_S)
                await self._sleep(RETRY_DELAY_S)
            finally:
                await self._close_socket()

    async def _on_ws_message(self, _message: Any) -> None:
        # Any frame on a (re)connected socket means it is up again.
        if not self.ready and not self._stopping.is_set():
            self.set_ready()

    async def _on_request(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        # Ack first: Slack retries envelopes that are not acknowledged within 3 seconds.
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        if request.type != "events_api":
            return
        payload = request.payload or {}
        event = payload.get("event") or {}
        try:
            await self._dispatch(event, str(payload.get("event_id") or ""))
        except Exception:
            log.exception("failed to handle a slack event")

    async def _dispatch(self, event: dict[str, Any], event_id: str) -> None:
        if event.get("subtype") not in ANSWERED_SUBTYPES or event.get("bot_id"):
            return  # edits, deletions, joins, bot messages (including our own)
        chat_id = chat_for(event)
        user = event.get("user")
        if chat_id is None or not isinstance(user, str) or user == self._bot_user_id:
            return
        keys = [f"ts:{event.get('channel')}:{event.get('ts')}"]
        if event_id:
            keys.append(f"event:{event_id}")
        if event.get("client_msg_id"):
            keys.append(f"msg:{event['client_msg_id']}")
        if self._recent.seen(*keys):
            log.debug("duplicate slack delivery of %s ignored", keys[0])
            return
        # Authorization first: a stranger's message goes nowhere else.
        if not is_allowed(self.config.allowed_users, user):
            log.info(
                "ignored message from unauthorized slack user id=%s (add it to allowed_users to allow)", user
            )
            return
        text = slack_unescape(_MENTION.sub("", str(event.get("text") or ""))).strip()
        if not text:
            await self.send(chat_id, "I can only read text messages for now.")
            return
        if self._on_message is not None:
            await self._on_message(
                IncomingMessage(channel=self.name, chat_id=chat_id, user_id=user, text=text)
            )

    async def send(self, chat_id: str, text: str) -> None:
        channel, _, thread_ts = chat_id.partition(THREAD_SEPARATOR)
        for chunk in reply_chunks(text) or ["(empty reply)"]:
            # mrkdwn off for a literal reply; the retry handlers wait out 429 Retry-After.
            await self.web.chat_postMessage(
                channel=channel, text=chunk, thread_ts=thread_ts or None, mrkdwn=False, unfurl_links=False
            )

    @contextlib.asynccontextmanager
    async def typing(self, chat_id: str) -> AsyncIterator[None]:
        # Slack has no typing indicator for bot users over the Web API.
        yield

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _close_socket(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            with contextlib.suppress(Exception):
                await socket.close()

    async def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        self._stopping.set()
        await self._close_socket()
        session = getattr(self.web, "session", None)
        if session is not None and not session.closed:
            await session.close()
