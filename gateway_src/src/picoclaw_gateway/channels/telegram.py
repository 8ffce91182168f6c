"""Telegram channel: aiogram 3 Bot over httpx, our own long-polling loop.

Our loop (rather than aiogram's Dispatcher) lets /ready say exactly whether the last
getUpdates succeeded, and checks the sender against allowed_users before anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from typing import Any

from picoclaw_gateway.channels._aiogram_lazy import import_aiogram
from picoclaw_gateway.channels.base import Channel, IncomingMessage, OnMessage
from picoclaw_gateway.channels.text_split import split_text, utf16_len
from picoclaw_gateway.config import ChannelConfig

import_aiogram()  # must run before any other aiogram import

from aiogram import Bot  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.exceptions import (  # noqa: E402
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage  # noqa: E402
from aiogram.types import Message, Update  # noqa: E402

from picoclaw_gateway.channels._aiogram_httpx_session import HttpxSession  # noqa: E402

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096  # UTF-16 code units
POLL_TIMEOUT_S = 25
TYPING_INTERVAL_S = 4.0
MAX_BACKOFF_S = 30.0
SEND_ATTEMPTS = 5


class SendMessageUnparsed(SendMessage):
    """sendMessage whose result stays a dict: we never use the sent Message, and parsing
    it would build aiogram's largest schema (~2 MB RSS) just to throw it away."""

    __returning__ = dict


def is_allowed(allowed_users: tuple[str, ...], user_id: int) -> bool:
    """Entries are numeric user ids (usernames can be changed and reused); empty = open bot."""
    return not allowed_users or str(user_id) in allowed_users


class TelegramChannel(Channel):
    name = "telegram"

    def __init__(self, config: ChannelConfig, poll_timeout_s: int = POLL_TIMEOUT_S) -> None:
        super().__init__()
        self._config = config
        self._poll_timeout_s = poll_timeout_s
        api = TelegramAPIServer.from_base(config.api_base) if config.api_base else None
        session = HttpxSession(proxy=config.proxy, timeout=poll_timeout_s + 30.0)
        if api is not None:
            session.api = api
        self.bot = Bot(token=config.token, session=session)
        self._stopping = asyncio.Event()

    async def run(self, on_message: OnMessage) -> None:
        offset: int | None = None
        failures = 0
        while not self._stopping.is_set():
            # Until a poll has succeeded, poll without waiting: /ready turns 200 as soon as
            # Telegram answers, not after a full long-poll interval.
            wait_s = self._poll_timeout_s if self.ready else 0
            try:
                updates: list[Update] = await self.bot.get_updates(
                    offset=offset,
                    timeout=wait_s,
                    allowed_updates=["message"],
                    request_timeout=self._poll_timeout_s + 30,
                )
            except asyncio.CancelledError:
                raise
            except TelegramUnauthorizedError:
                self.set_not_ready("telegram rejected the bot token (401): check channels[].token")
                log.error("telegram rejected the bot token (401); retrying in 60 s")
                await self._sleep(60.0)
                continue
            except TelegramConflictError:
                # A webhook is set or another poller runs: polling cannot work until it is removed.
                self.set_not_ready("telegram reports a conflict (webhook set or another instance polling)")
                log.warning("getUpdates conflict: deleting any webhook and retrying")
                with contextlib.suppress(Exception):
                    await self.bot.delete_webhook()
                await self._sleep(self._backoff(failures := failures + 1))
                continue
            except TelegramRetryAfter as exc:
                self.set_not_ready(f"telegram flood control: retry after {exc.retry_after} s")
                await self._sleep(float(exc.retry_after))
                continue
            except (TelegramNetworkError, TelegramServerError) as exc:
                failures += 1
                delay = self._backoff(failures)
                self.set_not_ready(f"telegram unreachable: {type(exc).__name__}")
                log.warning("telegram polling failed (%s); reconnecting in %.1f s", exc, delay)
                await self._sleep(delay)
                continue
            except Exception as exc:  # unknown API error: keep polling, never crash
                failures += 1
                delay = self._backoff(failures)
                self.set_not_ready(f"telegram polling error: {type(exc).__name__}")
                log.exception("telegram polling error; retrying in %.1f s", delay)
                await self._sleep(delay)
                continue
            failures = 0
            if not self.ready:
                log.info("telegram connected and polling")
            self.set_ready()
            for update in updates:
                offset = update.update_id + 1
                if update.message is not None:
                    try:
                        await self._dispatch(update.message, on_message)
                    except Exception:
                        log.exception("failed to handle telegram update %s", update.update_id)

    async def _dispatch(self, message: Message, on_message: OnMessage) -> None:
        sender = message.from_user
        if sender is None:
            return
        # Authorization first: a stranger's message goes nowhere else.
        if not is_allowed(self._config.allowed_users, sender.id):
            log.info(
                "ignored message from unauthorized telegram user id=%s (add it to allowed_users to allow)",
                sender.id,
            )
            return
        text = message.text or message.caption
        if not text:
            await self.send(str(message.chat.id), "I can only read text messages for now.")
            return
        await on_message(
            IncomingMessage(
                channel=self.name, chat_id=str(message.chat.id), user_id=str(sender.id), text=text
            )
        )

    @staticmethod
    def _backoff(failures: int) -> float:
        return min(MAX_BACKOFF_S, 2.0 ** min(failures, 6) / 2) * random.uniform(0.8, 1.2)  # noqa: S311

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _call(self, what: str, make_call: Any) -> Any:
        """Run a Bot API call, honouring flood control and retrying network errors."""
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                return await make_call()
            except TelegramRetryAfter as exc:
                log.warning("telegram flood control on %s: waiting %s s", what, exc.retry_after)
                await asyncio.sleep(float(exc.retry_after))
            except (TelegramNetworkError, TelegramServerError) as exc:
                if attempt == SEND_ATTEMPTS:
                    raise
                delay = self._backoff(attempt)
                log.warning("telegram %s failed (%s); retrying in %.1f s", what, exc, delay)
                await asyncio.sleep(delay)
        raise RuntimeError(f"telegram {what}: still flood-limited after {SEND_ATTEMPTS} attempts")

    async def send(self, chat_id: str, text: str) -> None:
        for chunk in split_text(text, MESSAGE_LIMIT, utf16_len) or ["(empty reply)"]:
            await self._call(
                "sendMessage",
                lambda chunk=chunk: self.bot(SendMessageUnparsed(chat_id=int(chat_id), text=chunk)),
            )

    @contextlib.asynccontextmanager
    async def typing(self, chat_id: str) -> AsyncIterator[None]:
        done = asyncio.Event()

        async def keep_typing() -> None:
            while not done.is_set():
                try:
                    await self.bot.send_chat_action(int(chat_id), "typing", request_timeout=10)
                except TelegramRetryAfter as exc:
                    await asyncio.sleep(float(exc.retry_after))
                    continue
                except Exception as exc:  # the indicator is cosmetic: never fail the answer for it
                    log.debug("typing indicator failed: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), timeout=TYPING_INTERVAL_S)

        # Stopped by an event, not cancel(): cancelling an in-flight httpx request can
        # leave its pooled connection unusable.
        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            done.set()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=15)

    async def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        await self.bot.session.close()
