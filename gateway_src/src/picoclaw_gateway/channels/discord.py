"""Discord channel: discord.py Client with minimal intents and trimmed caches.

Answers direct messages, and messages in server channels that mention the bot (the mention
is stripped). Both carry their content without the privileged message_content intent, so
the bot asks for none. discord.py honours REST rate limits (429 retry_after) and resumes
the gateway session after the websocket drops.

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
from collections.abc import AsyncIterator

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from picoclaw_gateway.channels.base import Channel, IncomingMessage, OnMessage
from picoclaw_gateway.channels.text_split import split_text
from picoclaw_gateway.config import ChannelConfig

log = logging.getLogger(__name__)

# The gateway has no voice support: silence discord.py's "PyNaCl/davey is not installed" warnings.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

MESSAGE_LIMIT = 2000
RETRY_DELAY_S = 5.0


def is_allowed(allowed_users: tuple[str, ...], user_id: int) -> bool:
    """Entries are Discord user ids (snowflakes); empty = open bot."""
    return not allowed_users or str(user_id) in allowed_users


def strip_mention(text: str, bot_id: int) -> str:
    return re.sub(rf"<@!?{bot_id}>", "", text).strip()


def minimal_intents() -> discord.Intents:
    """Guild and DM messages only: no members/presence, no message_content (privileged)."""
    intents = discord.Intents.none()
    intents.guilds = True  # discord.py's state handling expects it; not privileged
    intents.guild_messages = True
    intents.dm_messages = True
    return intents


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

    def __init__(self, config: ChannelConfig) -> None:
        super().__init__()
        self.config = config
        if config.api_base:
            Route.BASE = config.api_base.rstrip("/")
        self._client: _Client | None = None
        self._on_message: OnMessage | None = None
        self._stopping = asyncio.Event()

    async def run(self, on_message: OnMessage) -> None:
        self._on_message = on_message
        while not self._stopping.is_set():
            client = self._client = _Client(self, self.config.proxy)
            try:
                await client.start(self.config.token, reconnect=True)
            except asyncio.CancelledError:
                raise
            except discord.LoginFailure:
                self.set_not_ready("discord rejected the bot token (401): check channels[].token")
                log.error("discord rejected the bot token; retrying in 60 s")
                await self._sleep(60.0)
            except discord.PrivilegedIntentsRequired:
                self.set_not_ready("discord refused the intents")
                log.error("discord refused the requested intents; retrying in 60 s")
                await self._sleep(60.0)
            except Exception as exc:
                self.set_not_ready(f"discord connection failed: {type(exc).__name__}")
                log.warning(
                    "discord connection failed (%s); reconnecting in %.0f s",
                    exc,
                    RETRY_DELAY_S,
                    exc_info=not isinstance(exc, OSError | discord.HTTPException),
                )
                await self._sleep(RETRY_DELAY_S)
            finally:
                if not client.is_closed():
                    with contextlib.suppress(Exception):
                        await client.close()

    async def dispatch(self, message: discord.Message) -> None:
        client = self._client
        if client is None or client.user is None or self._on_message is None:
            return
        author = message.author
        if author.bot or author.id == client.user.id:
            return
        # A server the bot has not cached yet gives a PartialMessageable, not a guild: test for DMs.
        is_dm = isinstance(message.channel, discord.DMChannel)
        mentioned = any(user.id == client.user.id for user in message.mentions)
        if not is_dm and not mentioned:
            return
        # Authorization first: a stranger's message goes nowhere else.
        if not is_allowed(self.config.allowed_users, author.id):
            log.info(
                "ignored message from unauthorized discord user id=%s (add it to allowed_users to allow)",
                author.id,
            )
            return
        text = strip_mention(message.content, client.user.id) if mentioned else message.content.strip()
        if not text:
            await self.send(str(message.channel.id), "I can only read text messages for now.")
            return
        await self._on_message(
            IncomingMessage(
                channel=self.name, chat_id=str(message.channel.id), user_id=str(author.id), text=text
            )
        )

    def _messageable(self, chat_id: str) -> discord.PartialMessageable:
        if self._client is None:
            raise RuntimeError("discord channel is not connected")
        return self._client.get_partial_messageable(int(chat_id))

    async def send(self, chat_id: str, text: str) -> None:
        target = self._messageable(chat_id)
        for chunk in split_text(text, MESSAGE_LIMIT) or ["(empty reply)"]:
            await target.send(chunk)  # discord.py waits out 429s itself

    @contextlib.asynccontextmanager
    async def typing(self, chat_id: str) -> AsyncIterator[None]:
        try:
            indicator = self._messageable(chat_id).typing()
            await indicator.__aenter__()
        except Exception as exc:  # the indicator is cosmetic: never fail the answer for it
            log.debug("typing indicator failed: %s", exc)
            yield
            return
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await indicator.__aexit__(None, None, None)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def stop(self) -> None:
        self._stopping.set()
        if self._client is not None and not self._client.is_closed():
            with contextlib.suppress(Exception):
                await self._client.close()

    async def close(self) -> None:
        await self.stop()
