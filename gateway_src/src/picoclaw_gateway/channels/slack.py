"""Slack channel: slack_sdk Socket Mode (aiohttp) for events, AsyncWebClient for replies.

Answers direct messages (message events in an "im" channel) and app_mention events. An
envelope is acknowledged once on_message has taken its message (or once it is known not to
carry one: a stranger, an edit, an event that cannot be decoded); if on_message fails it is left
unacknowledged and Slack delivers it again. Slack may deliver one user message twice (as message
and app_mention, or again as a retry when an ack was late): a bounded cache of recently seen
(channel, ts) and event ids answers it once.

Live replies (replies.live): the preview is a chat.postMessage whose ts chat.update edits; a 429
on an edit skips it (the next edit shows the latest text), and the answer is written into the
preview with the usual retries (429 Retry-After waited out), so it is never lost.

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
from typing import Any, BinaryIO

import aiohttp
import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from picoclaw_gateway.channels.attachments import SLACK_FIELDS, checked_url, pick_attachment
from picoclaw_gateway.channels.base import Channel, OnMessage, backoff
from picoclaw_gateway.channels.live import MORE
from picoclaw_gateway.channels.text_split import split_text
from picoclaw_gateway.config import ChannelConfig
from picoclaw_gateway.formatting.render import SlackMrkdwn, slack_escape
from picoclaw_gateway.formatting.split import Part
from picoclaw_gateway.http_client import shared_ssl_context
from picoclaw_gateway.media.ref import MediaRef

log = logging.getLogger(__name__)

# chat.postMessage truncates text beyond 40,000 chars and advises at most 4,000: stay below.
MESSAGE_LIMIT = 3900
DEDUPE_SIZE = 512
RETRY_DELAY_S = 5.0
THREAD_SEPARATOR = ":"
# Plain messages, messages with a file (their text is answered) and "also send to channel" replies.
ANSWERED_SUBTYPES = (None, "file_share", "thread_broadcast")
FILE_HOSTS = ("files.slack.com",)
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # Slack's file size limit
UPLOAD_TIMEOUT_S = 600.0
UPLOAD_CHUNK = 64 * 1024
# Channel messages (the app subscribed to message.channels/groups/mpim): a group chat, answered
# when it mentions the bot (also an app_mention: the same message, answered once) or replies in a
# thread the bot started, or always with group_mode "all".
GROUP_CHANNEL_TYPES = ("channel", "group", "mpim")
AUTH_ERRORS = ("invalid_auth", "not_authed", "account_inactive", "token_revoked")
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


class SlackUploadError(Exception):
    """The upload URL did not take the bytes (a retry asks for a new URL)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"Slack's file host answered HTTP {status} to the upload")
        self.status = status


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

    def forget(self, *keys: str) -> None:
        for key in keys:
            self._keys.pop(key, None)


def slack_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escaped_len(text: str) -> int:
    return len(slack_escape(text))


def reply_chunks(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Escaped chunks of at most `limit` characters, in order, cut on line boundaries when possible."""
    return [slack_escape(chunk) for chunk in split_text(text, limit, escaped_len)]


def event_of(payload: Any) -> dict[str, Any] | None:
    """The event of an events_api payload if it has the shape we read, else None (poison)."""
    event = payload.get("event") if isinstance(payload, dict) else None
    if not isinstance(event, dict):
        return None
    for key in ("type", "subtype", "channel", "channel_type", "user", "text", "ts", "thread_ts"):
        if event.get(key) is not None and not isinstance(event[key], str):
            return None
    return event


def slack_media(event: dict[str, Any]) -> MediaRef | None:
    """The first image or audio file shared with the message (audio clips are audio/webm or mp4), else
    the first other file (a document)."""
    files = event.get("files")
    if not isinstance(files, list):
        return None
    items = [
        {**f, "seconds": f["duration_ms"] / 1000}
        if isinstance(f, dict) and isinstance(f.get("duration_ms"), int)
        else f
        for f in files
    ]
    return pick_attachment(items, SLACK_FIELDS)


def chat_for(event: dict[str, Any]) -> str | None:
    """The chat id an event is answered in, or None if the event is not for us."""
    channel = event.get("channel")
    if not isinstance(channel, str):
        return None
    kind = event.get("type")
    if kind == "message" and event.get("channel_type") == "im":
        thread = event.get("thread_ts")
        return f"{channel}{THREAD_SEPARATOR}{thread}" if thread else channel
    if kind == "app_mention" or (kind == "message" and event.get("channel_type") in GROUP_CHANNEL_TYPES):
        return f"{channel}{THREAD_SEPARATOR}{event.get('thread_ts') or event.get('ts')}"
    return None


class SlackChannel(Channel):
    name = "slack"
    message_limit = MESSAGE_LIMIT  # Slack has no typing indicator for bot users over the Web API
    renderer = SlackMrkdwn()
    edits_messages = True
    live_min_interval_s = 1.2  # chat.update is a Tier 3 method: about 50 calls a minute
    upload_max_bytes = MAX_UPLOAD_BYTES

    def __init__(self, config: ChannelConfig) -> None:
        super().__init__(config)
        if not config.app_token:
            raise ValueError("a slack channel needs app_token (xapp-...) for Socket Mode")
        base_url = (config.api_base or "https://slack.com/api").rstrip("/") + "/"
        self.web = AsyncWebClient(
            token=config.token,
            base_url=base_url,
            proxy=config.proxy,
            # 429 and 5xx: Channel.with_retries (slack_sdk's handler reads one digit of Retry-After).
            retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=3)],
        )
        self._socket: SocketModeClient | None = None
        self._on_message: OnMessage | None = None
        self._recent = RecentKeys()
        self._bot_user_id = ""

    async def run(self, on_message: OnMessage) -> None:
        self._on_message = on_message
        while not self.stopping:
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
                if error in AUTH_ERRORS:
                    self.set_not_ready(f"slack rejected a token ({error}): check bot_token/app_token")
                    log.error("slack rejected a token (%s); retrying in 60 s", error)
                    await self.sleep(60.0)
                    continue
                self.set_not_ready(f"slack connection failed: {type(exc).__name__}")
                log.warning("slack connection failed (%s); retrying in %.0f s", exc, RETRY_DELAY_S)
                await self.sleep(RETRY_DELAY_S)
            finally:
                await self._close_socket()

    async def _on_ws_message(self, _message: Any) -> None:
        # Any frame on a (re)connected socket means it is up again.
        if not self.ready and not self.stopping:
            self.set_ready()

    async def _on_request(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        # The ack tells Slack the message was received: only after on_message has taken it.
        if request.type == "events_api" and self._on_message is not None:
            try:
                await self._take(request, self._on_message)
            except Exception:
                log.exception(
                    "could not take slack envelope %s; Slack will deliver it again", request.envelope_id
                )
                return
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    async def _take(self, request: SocketModeRequest, on_message: OnMessage) -> None:
        event = event_of(request.payload)
        if event is None:
            log.warning(
                "skipped slack envelope %s (%s) that cannot be decoded", request.envelope_id, request.type
            )
            return
        if event.get("subtype") not in ANSWERED_SUBTYPES or event.get("bot_id"):
            return  # edits, deletions, joins, bot messages (including our own)
        chat_id = chat_for(event)
        user = event.get("user")
        if chat_id is None or not isinstance(user, str) or user == self._bot_user_id:
            return
        keys = [f"ts:{event.get('channel')}:{event.get('ts')}"]
        event_id = request.payload.get("event_id") if isinstance(request.payload, dict) else None
        if isinstance(event_id, str) and event_id:
            keys.append(f"event:{event_id}")
        if isinstance(event.get("client_msg_id"), str):
            keys.append(f"msg:{event['client_msg_id']}")
        if self._recent.seen(*keys):
            log.debug("duplicate slack delivery of %s ignored", keys[0])
            return
        if not self.admit(user):
            return
        if event.get("channel_type") != "im" and not self._addressed(event):
            return
        text = slack_unescape(_MENTION.sub("", event.get("text") or "")).strip()
        media = slack_media(event)
        try:
            # (channel, ts) names the user's message in every event and retry that carries it.
            await self.accept(on_message, chat_id, user, text, keys[0], media)
        except Exception:
            self._recent.forget(*keys)  # not taken: its redelivery must not count as a duplicate
            raise

    async def media_location(self, media: MediaRef) -> tuple[str, dict[str, str]]:
        """url_private needs the bot token; it is sent only to Slack's file host (or api_base's)."""
        url = checked_url(media.ref, FILE_HOSTS, self.config.api_base)
        return url, {"Authorization": f"Bearer {self.config.token}"}

    def _addressed(self, event: dict[str, Any]) -> bool:
        """A message in a channel: the group policy of Channel.addressed."""
        raw_text = event.get("text") or ""
        return self.addressed(
            str(event.get("channel")),
            group=True,
            mentioned=event.get("type") == "app_mention" or f"<@{self._bot_user_id}" in raw_text,
            replied=bool(self._bot_user_id) and event.get("parent_user_id") == self._bot_user_id,
            command=raw_text.startswith("/"),
        )

    def chunks(self, text: str) -> list[str]:
        return reply_chunks(text)

    async def send_chunk(self, chat_id: str, text: str) -> None:
        await self._post(chat_id, text, mrkdwn=False)  # mrkdwn off for a literal reply

    async def send_markup(self, chat_id: str, text: str) -> None:
        await self._post(chat_id, text, mrkdwn=True)

    async def _post(self, chat_id: str, text: str, *, mrkdwn: bool) -> str:
        channel, _, thread_ts = chat_id.partition(THREAD_SEPARATOR)
        response = await self.web.chat_postMessage(
            channel=channel, text=text, thread_ts=thread_ts or None, mrkdwn=mrkdwn, unfurl_links=False
        )
        return str(response.get("ts") or "")

    def preview_cut(self, text: str) -> str:
        # Counted escaped: "&" is sent as "&amp;".
        return next(iter(split_text(text, self.message_limit - len(MORE), escaped_len)), "")

    async def send_preview(self, chat_id: str, text: str) -> str:
        # mrkdwn on: chat.update cannot switch it, and the formatted answer is written into it.
        return await self._post(chat_id, slack_escape(text), mrkdwn=True)

    async def edit_preview(self, chat_id: str, message_id: str, text: str) -> float | None:
        try:
            await self._update(chat_id, message_id, slack_escape(text))
        except SlackApiError as exc:
            if getattr(exc.response, "status_code", None) != 429:
                raise
            return self.retry_delay(exc, 1)  # skipped: no edits until then; the answer does not wait
        return None

    async def edit_part(self, chat_id: str, message_id: str, part: Part) -> None:
        # The parts are escaped (plain) or mrkdwn already; Slack refuses no markup.
        await self._update(chat_id, message_id, part.text)

    async def _update(self, chat_id: str, ts: str, text: str) -> None:
        channel = chat_id.partition(THREAD_SEPARATOR)[0]
        await self.web.chat_update(channel=channel, ts=ts, text=text)

    async def send_file(self, chat_id: str, handle: BinaryIO, filename: str, size: int, caption: str) -> None:
        """Slack's upload flow (what slack_sdk's files_upload_v2 does, but streamed: it would read the
        whole file into memory): files.getUploadURLExternal, the bytes POSTed to the upload URL
        (which carries no token: it is only ever sent to Slack's file host or api_base's), then
        files.completeUploadExternal shares it in the chat (the thread, for a mention's chat)."""
        channel, _, thread_ts = chat_id.partition(THREAD_SEPARATOR)
        ticket = await self.web.files_getUploadURLExternal(filename=filename, length=size)
        upload_url = checked_url(str(ticket.get("upload_url") or ""), FILE_HOSTS, self.config.api_base)
        handle.seek(0)

        async def body() -> AsyncIterator[bytes]:
            left = size
            while left > 0 and (chunk := handle.read(min(UPLOAD_CHUNK, left))):
                left -= len(chunk)
                yield chunk

        async with httpx.AsyncClient(
            timeout=httpx.Timeout(UPLOAD_TIMEOUT_S, connect=15.0),
            verify=shared_ssl_context(),
            proxy=self.config.proxy,
            follow_redirects=False,
        ) as client:
            response = await client.post(
                upload_url,
                content=body(),
                headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
            )
        if response.status_code != 200:
            raise SlackUploadError(response.status_code)
        await self.web.files_completeUploadExternal(
            files=[{"id": str(ticket.get("file_id")), "title": filename}],
            channel_id=channel,
            thread_ts=thread_ts or None,
            initial_comment=caption or None,
        )

    def retry_delay(self, exc: Exception, attempt: int) -> float | None:
        if isinstance(exc, httpx.TransportError) or (isinstance(exc, SlackUploadError) and exc.status >= 500):
            return backoff(attempt)
        if isinstance(exc, aiohttp.ClientConnectionError | TimeoutError):
            return backoff(attempt)
        if not isinstance(exc, SlackApiError):
            return None
        # A SlackResponse, or aiohttp's response when the body was not JSON (a proxy's HTML page).
        status = getattr(exc.response, "status_code", None) or getattr(exc.response, "status", None)
        if status == 429:
            retry_after = getattr(exc.response, "headers", {}).get("Retry-After", "")
            return float(retry_after) if str(retry_after).isdigit() else backoff(attempt)
        if isinstance(status, int) and status >= 500:
            return backoff(attempt)
        return None

    def rejected(self, exc: Exception) -> bool:
        # Slack answers most refusals (channel_not_found, not_in_channel, msg_too_long) with HTTP 200
        # and ok=false; a token problem is fixed by the owner, so those are tried again later.
        if not isinstance(exc, SlackApiError) or self.retry_delay(exc, 1) is not None:
            return False
        error = getattr(exc.response, "get", lambda _k: None)("error")
        return error not in AUTH_ERRORS

    async def _close_socket(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            with contextlib.suppress(Exception):
                await socket.close()

    async def close(self) -> None:
        await super().close()
        await self._close_socket()
        session = getattr(self.web, "session", None)
        if session is not None and not session.closed:
            await session.close()
