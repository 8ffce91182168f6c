"""Discord channel: discord.py Client with minimal intents and trimmed caches.

Answers direct messages, and messages in server channels that mention the bot (the mention
is stripped). Both carry their content without the privileged message_content intent, so
the bot asks for none. discord.py honours REST rate limits (429 retry_after) and resumes
the gateway session after the websocket drops; sends that still fail with a 5xx are retried.

Live replies (replies.live): the preview is sent through discord.py, its edits (PATCH
/channels/{id}/messages/{id}) through a small session of our own: discord.py would sit out a 429
inside the call, where a preview edit is better skipped (the next one shows the latest text). The
answer itself is written into the preview through discord.py, which waits out any 429: it is
never lost.

Poison-proof intake: a MESSAGE_CREATE from a stranger is dropped on the raw author id before
discord.py builds anything from it, and a gateway event discord.py cannot parse is logged (type
and id, no content) and skipped instead of breaking the connection. Discord has no
acknowledgement: a message is received when on_message has been called with it.

Advanced, for tests and self-hosted proxies: `api_base` replaces the REST base
(`https://discord.com/api/v10`); the gateway websocket URL then comes from GET /gateway/bot
on that base. discord.py keeps both as process-wide settings, so all Discord channels of
one gateway share them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from typing import Any, BinaryIO

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from picoclaw_gateway.channels.attachments import DISCORD_FIELDS, checked_url, pick_attachment
from picoclaw_gateway.channels.base import Channel, OnMessage, backoff
from picoclaw_gateway.config import ChannelConfig
from picoclaw_gateway.config_validator import DEFAULTS
from picoclaw_gateway.formatting.render import DiscordMarkdown
from picoclaw_gateway.formatting.split import Part
from picoclaw_gateway.media.ref import MediaRef

log = logging.getLogger(__name__)

# The gateway has no voice support: silence discord.py's "PyNaCl/davey is not installed" warnings.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

MESSAGE_LIMIT = 2000
RETRY_DELAY_S = 5.0
TYPING_INTERVAL_S = 8.0  # the indicator lasts ~10 s
TYPING_TIMEOUT_S = 10.0
# Parsed even if broken: without them the session itself is not usable (reconnecting is the fix).
UNGUARDED_EVENTS = frozenset({"READY", "RESUMED"})
# Connection errors (also "not connected" while discord.py reconnects) and 5xx: retried.
TRANSIENT = (discord.DiscordServerError, aiohttp.ClientConnectionError, OSError, TimeoutError)
CDN_HOSTS = ("cdn.discordapp.com", "media.discordapp.net")
PREVIEW_TIMEOUT_S = 10.0
NO_MENTIONS = {"parse": []}  # an LLM's text never pings @everyone, roles or users (edits included)
NOT_TAKEN_NOTICE = "Sorry, I could not store your last message (a problem on my side). Please send it again."


def strip_mention(text: str, bot_id: int) -> str:
    return re.sub(rf"<@!?{bot_id}>", "", text).strip()


def minimal_intents() -> discord.Intents:
    """Guild and DM messages only: no members/presence, no message_content (privileged)."""
    intents = discord.Intents.none()
    intents.guilds = True  # discord.py's state handling expects it; not privileged
    intents.guild_messages = True
    intents.dm_messages = True
    return intents


def discord_media(message: discord.Message) -> MediaRef | None:
    """The first image or audio attachment (a voice message is an audio/ogg one with a duration), else
    the first other file (a document)."""
    items = [
        {
            "url": a.url,
            "content_type": a.content_type or "",
            "size": a.size,
            "width": a.width,
            "height": a.height,
            "duration": getattr(a, "duration", None),
            "filename": a.filename,
        }
        for a in message.attachments
    ]
    return pick_attachment(items, DISCORD_FIELDS)


def _snowflake(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class _Client(discord.Client):
    def __init__(self, channel: DiscordChannel, proxy: str | None) -> None:
        super().__init__(
            intents=minimal_intents(),
            max_messages=None,  # no message cache
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            # An LLM reply must never ping @everyone, roles or users.
            allowed_mentions=discord.AllowedMentions.none(),
            proxy=proxy,
        )
        self._channel = channel
        parsers = self._connection.parsers
        for event, parse in list(parsers.items()):
            if event not in UNGUARDED_EVENTS:
                parsers[event] = self._guarded(event, parse)

    def _guarded(self, event: str, parse: Callable[[Any], None]) -> Callable[[Any], None]:
        def guarded(data: Any) -> None:
            if event == "MESSAGE_CREATE" and not self._wanted(data):
                return
            try:
                parse(data)
            except Exception as exc:
                event_id = data.get("id") if isinstance(data, dict) else None
                log.warning(
                    "skipped discord %s event id=%s that discord.py cannot parse: %s",
                    event,
                    event_id,
                    type(exc).__name__,
                )

        return guarded

    def _wanted(self, data: Any) -> bool:
        """The raw MESSAGE_CREATE gate: only an allowed user's DM or mention is decoded."""
        if not isinstance(data, dict) or self.user is None:
            return False
        author = data.get("author")
        author_id = _snowflake(author.get("id")) if isinstance(author, dict) else None
        if author_id is None or author_id == self.user.id or author.get("bot"):
            return False
        mentions = data.get("mentions")
        mentioned = isinstance(mentions, list) and any(
            isinstance(m, dict) and _snowflake(m.get("id")) == self.user.id for m in mentions
        )
        if "guild_id" in data:  # a server channel: a group (a DM is always for the bot)
            referenced = data.get("referenced_message")
            replied_author = referenced.get("author") if isinstance(referenced, dict) else None
            replied = (
                isinstance(replied_author, dict) and _snowflake(replied_author.get("id")) == self.user.id
            )
            channel_id = str(data.get("channel_id"))
            if not self._channel.addressed(channel_id, group=True, mentioned=mentioned, replied=replied):
                return False  # server chatter not addressed to the bot
        return self._channel.admit(author_id)

    async def setup_hook(self) -> None:
        api_base = self._channel.config.api_base
        if api_base:
            # Route.BASE is already set; the gateway URL comes from that endpoint.
            _shards, url, _limits = await self.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

    async def on_ready(self) -> None:
        log.info("discord connected as bot user id=%s", self.user.id if self.user else "?")
        self._channel.set_ready()

    async def on_resumed(self) -> None:
        log.info("discord gateway session resumed")
        self._channel.set_ready()

    async def on_disconnect(self) -> None:
        self._channel.set_not_ready("discord gateway disconnected; reconnecting")

    async def on_message(self, message: discord.Message) -> None:
        await self._channel.dispatch(message)


class DiscordChannel(Channel):
    name = "discord"
    message_limit = MESSAGE_LIMIT
    typing_interval_s = TYPING_INTERVAL_S
    renderer = DiscordMarkdown()  # the limit counts the markup too: the renderer prices it in
    edits_messages = True
    live_min_interval_s = 1.0  # message edits: 5 per 5 s in a channel
    upload_max_bytes = DEFAULTS["discord_upload_max_bytes"]  # media.documents.discord_upload_max_bytes

    def __init__(self, config: ChannelConfig) -> None:
        super().__init__(config)
        if config.api_base:
            Route.BASE = config.api_base.rstrip("/")
        self._client: _Client | None = None
        self._on_message: OnMessage | None = None
        self._edits: aiohttp.ClientSession | None = None  # live reply previews (see the module doc)

    async def run(self, on_message: OnMessage) -> None:
        self._on_message = on_message
        while not self.stopping:
            client = self._client = _Client(self, self.config.proxy)
            try:
                await client.start(self.config.token, reconnect=True)
            except asyncio.CancelledError:
                raise
            except discord.LoginFailure:
                self.set_not_ready("discord rejected the bot token (401): check channels[].token")
                log.error("discord rejected the bot token; retrying in 60 s")
                await self.sleep(60.0)
            except discord.PrivilegedIntentsRequired:
                self.set_not_ready("discord refused the intents")
                log.error("discord refused the requested intents; retrying in 60 s")
                await self.sleep(60.0)
            except Exception as exc:
                self.set_not_ready(f"discord connection failed: {type(exc).__name__}")
                log.warning(
                    "discord connection failed (%s); reconnecting in %.0f s",
                    exc,
                    RETRY_DELAY_S,
                    exc_info=not isinstance(exc, OSError | discord.HTTPException),
                )
                await self.sleep(RETRY_DELAY_S)
            finally:
                if not client.is_closed():
                    with contextlib.suppress(Exception):
                        await client.close()

    async def dispatch(self, message: discord.Message) -> None:
        """A message that passed the raw gate (allowed author, DM or mention), decoded."""
        client = self._client
        if client is None or client.user is None or self._on_message is None:
            return
        mentioned = any(user.id == client.user.id for user in message.mentions)
        text = strip_mention(message.content, client.user.id) if mentioned else message.content.strip()
        chat_id = str(message.channel.id)
        if message.guild is not None and not text and not mentioned:
            return  # group_mode "all": server chatter whose content Discord withholds (no intent)
        media = discord_media(message)
        try:
            await self.accept(self._on_message, chat_id, str(message.author.id), text, str(message.id), media)
        except Exception:
            # Nothing to acknowledge on Discord and no redelivery: tell the sender, say so loudly.
            log.exception("could not take discord message id=%s", message.id)
            self.notify(chat_id, NOT_TAKEN_NOTICE)

    async def media_location(self, media: MediaRef) -> tuple[str, dict[str, str]]:
        """Attachment URLs are signed CDN links: no token is sent with them."""
        return checked_url(media.ref, CDN_HOSTS, self.config.api_base), {}

    def _messageable(self, chat_id: str) -> discord.PartialMessageable:
        if self._client is None:
            raise ConnectionError("discord channel is not connected")  # transient: retried
        return self._client.get_partial_messageable(int(chat_id))

    async def send_chunk(self, chat_id: str, text: str) -> None:
        await self._messageable(chat_id).send(text)  # discord.py waits out 429s itself

    async def send_preview(self, chat_id: str, text: str) -> str:
        return str((await self._messageable(chat_id).send(text)).id)

    async def edit_preview(self, chat_id: str, message_id: str, text: str) -> float | None:
        if self._edits is None:
            self._edits = aiohttp.ClientSession(
                headers={"Authorization": f"Bot {self.config.token}", "User-Agent": "picoclaw-gateway"},
                timeout=aiohttp.ClientTimeout(total=PREVIEW_TIMEOUT_S),
            )
        url = f"{Route.BASE}/channels/{int(chat_id)}/messages/{int(message_id)}"
        body = {"content": text, "allowed_mentions": NO_MENTIONS}
        async with self._edits.patch(url, json=body, proxy=self.config.proxy) as response:
            if response.status == 429:  # skipped: no edits until then; the answer does not wait
                data = await response.json(content_type=None)
                retry_after = data.get("retry_after") if isinstance(data, dict) else None
                return float(retry_after) if isinstance(retry_after, int | float) else RETRY_DELAY_S
            response.raise_for_status()
        return None

    async def edit_part(self, chat_id: str, message_id: str, part: Part) -> None:
        # Markdown is the message's plain content: nothing for Discord to refuse.
        await self._messageable(chat_id).get_partial_message(int(message_id)).edit(content=part.text)

    def configure_files(self, discord_upload_max_bytes: int) -> None:
        self.upload_max_bytes = discord_upload_max_bytes

    async def send_file(self, chat_id: str, handle: BinaryIO, filename: str, size: int, caption: str) -> None:
        handle.seek(0)
        # A multipart message (payload_json + files[0]); discord.py streams the open file and
        # rewinds it for its own retries. A file object passed in is never closed by discord.py.
        attachment = discord.File(handle, filename=filename)
        await self._messageable(chat_id).send(content=caption[:MESSAGE_LIMIT] or None, file=attachment)

    def retry_delay(self, exc: Exception, attempt: int) -> float | None:
        if isinstance(exc, TRANSIENT):
            return backoff(attempt)  # discord.py retries 500/502/504 a few times, never 503
        if isinstance(exc, discord.HTTPException) and exc.status == 429:
            # A 429 discord.py did not take as Discord's (no Via header: Cloudflare in front).
            retry_after = _snowflake(exc.response.headers.get("Retry-After"))
            return float(retry_after) if retry_after is not None else backoff(attempt)
        return None

    def rejected(self, exc: Exception) -> bool:
        # 400 (bad request), 403 (no access to the channel), 404 (channel gone): never accepted later.
        return isinstance(exc, discord.HTTPException) and exc.status in (400, 403, 404)

    async def send_typing(self, chat_id: str) -> float | None:
        if self._client is None:
            return None
        # discord.py would sit out a 429 inside the call: bounded, and the answer never waits for it.
        await asyncio.wait_for(self._client.http.send_typing(int(chat_id)), TYPING_TIMEOUT_S)
        return None

    async def stop(self) -> None:
        await super().stop()
        if self._client is not None and not self._client.is_closed():
            with contextlib.suppress(Exception):
                await self._client.close()

    async def close(self) -> None:
        await self.stop()
        await super().close()
        if self._edits is not None:
            await self._edits.close()
