"""Telegram channel: aiogram 3 Bot over httpx, our own long-polling loop.

Our loop (rather than aiogram's Dispatcher) lets /ready say exactly whether the last
getUpdates succeeded, and makes intake poison-proof: getUpdates keeps its updates as raw
JSON, each update's sender is checked against allowed_users on the raw id, and only then is
the message decoded, one update at a time. An update the pinned aiogram cannot decode (Telegram
adds union variants every few months) is logged by type and id, skipped and acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, BinaryIO

from picoclaw_gateway.channels._aiogram_lazy import import_aiogram
from picoclaw_gateway.channels.base import Channel, OnMessage, backoff
from picoclaw_gateway.channels.text_split import split_text, utf16_len
from picoclaw_gateway.config import ChannelConfig
from picoclaw_gateway.formatting.render import TelegramHTML
from picoclaw_gateway.formatting.split import Part

import_aiogram()  # must run before any other aiogram import

from aiogram import Bot  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.exceptions import (  # noqa: E402
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (  # noqa: E402
    EditMessageText,
    GetFile,
    GetMe,
    GetUpdates,
    SendDocument,
    SendMessage,
)
from aiogram.types import Message  # noqa: E402

from picoclaw_gateway.channels._aiogram_httpx_session import HttpxSession, StreamedFile  # noqa: E402
from picoclaw_gateway.channels.telegram_groups import is_group, signals, without_mention  # noqa: E402
from picoclaw_gateway.channels.telegram_media import telegram_media  # noqa: E402
from picoclaw_gateway.media.download import MediaUnavailable  # noqa: E402
from picoclaw_gateway.media.ref import MediaRef  # noqa: E402

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096  # UTF-16 code units
POLL_TIMEOUT_S = 25
TYPING_INTERVAL_S = 4.0
TYPING_TIMEOUT_S = 10
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # the Bot API's getFile limit
MAX_UPLOAD_BYTES = 50 * 1000 * 1000  # the Bot API's limit for a file sent as multipart
UPLOAD_TIMEOUT_S = 600
CAPTION_LIMIT = 1024


class SendMessageUnparsed(SendMessage):
    """sendMessage whose result stays a dict: we never use the sent Message, and parsing
    it would build aiogram's largest schema (~2 MB RSS) just to throw it away."""

    __returning__ = dict


class SendDocumentUnparsed(SendDocument):
    """sendDocument whose result (the sent Message) stays a dict, like SendMessageUnparsed."""

    __returning__ = dict


class GetMeRaw(GetMe):
    """getMe whose result stays a dict (only the username is used)."""

    __returning__ = dict


class GetFileRaw(GetFile):
    """getFile whose result stays a dict (only file_path is used)."""

    __returning__ = dict


class EditMessageTextUnparsed(EditMessageText):
    """editMessageText whose result (the edited Message) stays a dict, like SendMessageUnparsed."""

    __returning__ = dict[str, Any] | bool  # type: ignore[assignment]


class GetUpdatesRaw(GetUpdates):
    """getUpdates whose updates stay dicts: one undecodable update must not fail the whole batch."""

    __returning__ = list[dict[str, Any]]  # type: ignore[assignment]


def raw_sender_id(update: dict[str, Any]) -> int | None:
    """The sender of an update's message, read without decoding anything else."""
    message = update.get("message")
    sender = message.get("from") if isinstance(message, dict) else None
    user_id = sender.get("id") if isinstance(sender, dict) else None
    return user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None


def update_kind(update: dict[str, Any]) -> str:
    """The update's type (its payload key), for a log line that carries no content."""
    return next((key for key in update if key != "update_id"), "empty")


class TelegramChannel(Channel):
    name = "telegram"
    message_limit = MESSAGE_LIMIT
    typing_interval_s = TYPING_INTERVAL_S
    renderer = TelegramHTML()
    edits_messages = True
    max_download_bytes = MAX_DOWNLOAD_BYTES
    upload_max_bytes = MAX_UPLOAD_BYTES

    def __init__(self, config: ChannelConfig, poll_timeout_s: int = POLL_TIMEOUT_S) -> None:
        super().__init__(config)
        self._poll_timeout_s = poll_timeout_s
        api = TelegramAPIServer.from_base(config.api_base) if config.api_base else None
        session = HttpxSession(proxy=config.proxy, timeout=poll_timeout_s + 30.0)
        if api is not None:
            session.api = api
        self.bot = Bot(token=config.token, session=session)
        self._bot_id = int(config.token.split(":", 1)[0]) if config.token.split(":", 1)[0].isdigit() else 0
        self._username: str | None = None  # from getMe, once a group message needs it

    async def run(self, on_message: OnMessage) -> None:
        offset: int | None = None
        failures = 0
        while not self.stopping:
            # Until a poll has succeeded, poll without waiting: /ready turns 200 as soon as
            # Telegram answers, not after a full long-poll interval.
            wait_s = self._poll_timeout_s if self.ready else 0
            try:
                # `offset` acknowledges every update before it: only those on_message has taken.
                updates = await self.bot(
                    GetUpdatesRaw(offset=offset, timeout=wait_s, allowed_updates=["message"]),
                    request_timeout=self._poll_timeout_s + 30,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                await self._poll_failed(exc, failures)
                continue
            failures = 0
            if not self.ready:
                log.info("telegram connected and polling")
            self.set_ready()
            for update in updates:
                update_id = update.get("update_id")
                if not isinstance(update_id, int):
                    log.warning("skipped a telegram update without an update_id")
                    continue
                try:
                    await self._take(update, on_message)
                except Exception:
                    # on_message failed: leave this update unacknowledged, fetch it again later.
                    log.exception("could not take telegram update %s; fetching it again", update_id)
                    await self.sleep(backoff(1))
                    break
                offset = update_id + 1

    async def _poll_failed(self, exc: Exception, failures: int) -> None:
        """Readiness, a log line and the wait before the next getUpdates."""
        if isinstance(exc, TelegramUnauthorizedError):
            self.set_not_ready("telegram rejected the bot token (401): check channels[].token")
            log.error("telegram rejected the bot token (401); retrying in 60 s")
            await self.sleep(60.0)
        elif isinstance(exc, TelegramConflictError):
            # A webhook is set or another poller runs: polling cannot work until it is removed.
            self.set_not_ready("telegram reports a conflict (webhook set or another instance polling)")
            log.warning("getUpdates conflict: deleting any webhook and retrying")
            with contextlib.suppress(Exception):
                await self.bot.delete_webhook()
            await self.sleep(backoff(failures))
        elif isinstance(exc, TelegramRetryAfter):
            self.set_not_ready(f"telegram flood control: retry after {exc.retry_after} s")
            await self.sleep(float(exc.retry_after))
        elif isinstance(exc, TelegramNetworkError | TelegramServerError):
            delay = backoff(failures)
            self.set_not_ready(f"telegram unreachable: {type(exc).__name__}")
            log.warning("telegram polling failed (%s); reconnecting in %.1f s", exc, delay)
            await self.sleep(delay)
        else:  # unknown API error: keep polling, never crash
            delay = backoff(failures)
            self.set_not_ready(f"telegram polling error: {type(exc).__name__}")
            log.exception("telegram polling error; retrying in %.1f s", delay, exc_info=exc)
            await self.sleep(delay)

    async def _take(self, update: dict[str, Any], on_message: OnMessage) -> None:
        """One raw update: stranger check, then decoding, then on_message (whose errors propagate)."""
        sender_id = raw_sender_id(update)
        if sender_id is None or not self.admit(sender_id):
            return  # not a user's message (allowed_updates is only a request), or a stranger
        raw = update["message"]
        group = is_group(raw)
        if group:
            found = signals(raw, self._bot_id, await self._bot_username())
            chat_id = str(raw["chat"].get("id"))
            if not self.addressed(
                chat_id, group=True, mentioned=found.mentioned, replied=found.replied, command=found.command
            ):
                return  # group chatter not for the bot: acknowledged, never decoded
        try:
            message = Message.model_validate(update["message"], context={"bot": self.bot})
        except Exception as exc:
            # No content in the log: the error text quotes the update's values.
            log.warning(
                "skipped telegram update %s (%s) that this aiogram cannot decode: %s",
                update["update_id"],
                update_kind(update),
                type(exc).__name__,
            )
            return
        text = message.text or message.caption or ""
        if group:
            text = without_mention(text, self._username)
        media = telegram_media(raw, self.image_fit)
        chat_id = str(message.chat.id)
        await self.accept(on_message, chat_id, str(sender_id), text, str(update["update_id"]), media)

    async def media_location(self, media: MediaRef) -> tuple[str, dict[str, str]]:
        """getFile, then the file URL (it holds the bot token: never logged). Bot API limit: 20 MB."""
        try:
            found = await self.bot(GetFileRaw(file_id=media.ref), request_timeout=TYPING_TIMEOUT_S * 3)
        except (TelegramBadRequest, TelegramNotFound) as exc:
            raise MediaUnavailable(f"Telegram refused to hand it over: {exc.message}") from exc
        except Exception as exc:
            raise MediaUnavailable(f"Telegram getFile failed ({type(exc).__name__})") from exc
        path = found.get("file_path") if isinstance(found, dict) else None
        if not isinstance(path, str) or not path:
            raise MediaUnavailable("Telegram gave no file path (the file may be over the 20 MB bot limit)")
        return self.bot.session.api.file_url(self.bot.token, path), {}

    async def _bot_username(self) -> str | None:
        """The bot's @username (getMe), asked until it is known; None while Telegram cannot say."""
        if self._username is None:
            try:
                me = await self.bot(GetMeRaw(), request_timeout=TYPING_TIMEOUT_S)
            except Exception as exc:
                log.warning(
                    "telegram getMe failed (%s): mentions by @username are not seen yet", type(exc).__name__
                )
                return None
            username = me.get("username") if isinstance(me, dict) else None
            self._username = username if isinstance(username, str) and username else None
        return self._username

    def chunks(self, text: str) -> list[str]:
        return split_text(text, MESSAGE_LIMIT, utf16_len)

    async def send_chunk(self, chat_id: str, text: str) -> None:
        await self.bot(SendMessageUnparsed(chat_id=int(chat_id), text=text))

    async def send_markup(self, chat_id: str, text: str) -> None:
        await self.bot(SendMessageUnparsed(chat_id=int(chat_id), text=text, parse_mode="HTML"))

    async def send_file(self, chat_id: str, handle: BinaryIO, filename: str, size: int, caption: str) -> None:
        handle.seek(0)
        document = StreamedFile(handle, filename)
        method = SendDocumentUnparsed(
            chat_id=int(chat_id), document=document, caption=caption[:CAPTION_LIMIT] or None
        )
        await self.bot(method, request_timeout=UPLOAD_TIMEOUT_S)

    async def send_preview(self, chat_id: str, text: str) -> str:
        result = await self.bot(SendMessageUnparsed(chat_id=int(chat_id), text=text))
        return str(result["message_id"])

    async def edit_preview(self, chat_id: str, message_id: str, text: str) -> float | None:
        try:
            await self.bot(
                EditMessageTextUnparsed(chat_id=int(chat_id), message_id=int(message_id), text=text)
            )
        except TelegramRetryAfter as exc:
            return float(exc.retry_after)  # no edits until then; the answer does not wait
        return None

    async def edit_part(self, chat_id: str, message_id: str, part: Part) -> None:
        if part.markup:
            try:
                await self.bot(
                    EditMessageTextUnparsed(
                        chat_id=int(chat_id), message_id=int(message_id), text=part.text, parse_mode="HTML"
                    )
                )
                return
            except Exception as exc:
                if not self.markup_refused(exc):
                    raise
        await self.bot(
            EditMessageTextUnparsed(chat_id=int(chat_id), message_id=int(message_id), text=part.plain)
        )

    def markup_refused(self, exc: Exception) -> bool:
        # The Bot API's answers to markup it cannot take: 400 "Bad Request: can't parse entities: ..."
        # and 400 "ENTITIES_TOO_LONG" (the entities of one message, link targets included, are capped).
        text = str(exc).lower()
        return isinstance(exc, TelegramBadRequest) and (
            "parse entities" in text or "entities_too_long" in text
        )

    def retry_delay(self, exc: Exception, attempt: int) -> float | None:
        if isinstance(exc, TelegramRetryAfter):
            return float(exc.retry_after)
        if isinstance(exc, TelegramEntityTooLarge):
            return None
        if isinstance(exc, TelegramNetworkError | TelegramServerError):
            return backoff(attempt)
        return None

    def rejected(self, exc: Exception) -> bool:
        # 400 (chat not found, text refused), 403 (bot blocked), 404, 413: never accepted later either.
        kinds = TelegramBadRequest | TelegramForbiddenError | TelegramNotFound | TelegramEntityTooLarge
        return isinstance(exc, kinds)

    async def send_typing(self, chat_id: str) -> float | None:
        try:
            await self.bot.send_chat_action(int(chat_id), "typing", request_timeout=TYPING_TIMEOUT_S)
        except TelegramRetryAfter as exc:
            return float(exc.retry_after)  # no indicator until then; the answer does not wait
        return None

    async def close(self) -> None:
        await super().close()
        await self.bot.session.close()
