"""What every chat channel shares; a platform subclass only speaks its protocol.

Delivery contract of `Channel.run(on_message)`:
- `on_message(msg)` is awaited for each authorized text message, one at a time, in the order the
  platform delivered them.
- The platform learns that a message was received only AFTER `on_message(msg)` has returned:
  Telegram through the offset of the next getUpdates, Slack through the envelope ack. Discord has
  no acknowledgement: there, receipt is the call of `on_message`.
- If `on_message` raises, the message is not acknowledged: Telegram fetches it again after a
  backoff, Slack redelivers the envelope. So a durable `on_message` (a journal) makes intake
  at-least-once; `IncomingMessage.delivery_id` (Telegram update_id, Slack event id, Discord message
  id) lets it recognize a redelivery.
- What cannot become a message (a stranger, a bot, an update the library cannot decode) is
  acknowledged and skipped; it never blocks the messages behind it. Strangers are checked on the
  raw sender id before any expensive decoding.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

from picoclaw_gateway.channels.live import MORE, LivePreview
from picoclaw_gateway.channels.text_split import split_text, utf16_len
from picoclaw_gateway.config import ChannelConfig
from picoclaw_gateway.config_validator import DEFAULTS
from picoclaw_gateway.formatting.render import Renderer
from picoclaw_gateway.formatting.split import Part, format_parts
from picoclaw_gateway.media.download import MediaUnavailable
from picoclaw_gateway.media.ref import MediaRef

log = logging.getLogger(__name__)

NON_TEXT_REPLY = "I can only read text, photos, voice messages and files for now."
EMPTY_REPLY = "(empty reply)"
SEND_ATTEMPTS = 5
MAX_BACKOFF_S = 30.0
TYPING_INTERVAL_S = 4.0
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    channel: Channel  # the channel it came from, and where the answer goes
    chat_id: str
    user_id: str
    text: str
    delivery_id: str | None = None  # the platform's id of this delivery: the same on a redelivery
    media: MediaRef | None = None  # a photo or a recording; fetched only when its turn runs (media/)


OnMessage = Callable[[IncomingMessage], Awaitable[None]]


def is_allowed(allowed_users: tuple[str, ...], user_id: int | str) -> bool:
    """Entries are platform user ids (names can be changed and reused); empty = open bot."""
    return not allowed_users or str(user_id) in allowed_users


def backoff(failures: int) -> float:
    """Exponential with jitter: ~0.5, 1, 2, 4 … s, at most MAX_BACKOFF_S."""
    return min(MAX_BACKOFF_S, 2.0 ** min(failures, 6) / 2) * random.uniform(0.8, 1.2)  # noqa: S311


class Channel(abc.ABC):
    """A chat platform. Subclasses implement run() (receive) and send_chunk() (one message out)."""

    name: str
    message_limit: int = 4000  # per platform message, as counted by `length`
    typing_interval_s: float | None = None  # None: the platform has no typing indicator
    # (bytes, longer side in px) of media.image_*: a platform offering several sizes picks one that fits
    image_fit: tuple[int, int] = (DEFAULTS["image_max_bytes"], DEFAULTS["image_max_side_px"])
    renderer: Renderer | None = None  # writes the model's markdown in the platform's format
    edits_messages = False  # the platform can edit a sent message: live replies (replies.live)
    # The shortest time between two edits of a live reply, whatever replies.live_interval_s says.
    live_min_interval_s = 1.0
    max_download_bytes: int | None = None  # the most a bot may fetch of an attachment (Telegram: 20 MB)
    upload_max_bytes = 0  # the largest file send_file may send here (0: the platform takes none from us)

    def __init__(self, config: ChannelConfig) -> None:
        self.config = config
        self.formatted = config.reply_format == "markdown" and self.renderer is not None
        self._previews: dict[str, str] = {}  # chat -> live preview message the next send writes into
        self._last_parts: tuple[str | None, list[Part]] = (None, [])
        self.ready = False
        self.not_ready_reason = "starting"
        self._stopping = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()
        # FIFO: libraries that run a task per event still hand messages over in arrival order.
        self._intake = asyncio.Lock()

    # ---- readiness and lifecycle --------------------------------------------------------------
    def set_ready(self) -> None:
        self.ready = True
        self.not_ready_reason = ""

    def set_not_ready(self, reason: str) -> None:
        self.ready = False
        self.not_ready_reason = reason

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def sleep(self, seconds: float) -> None:
        """Sleep, but wake up at once when stop() is called."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def stop(self) -> None:
        """Stop receiving; run() returns soon after."""
        self._stopping.set()

    async def close(self) -> None:
        """Release connections (after run() has returned)."""
        self._stopping.set()
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @abc.abstractmethod
    async def run(self, on_message: OnMessage) -> None:
        """Connect and deliver authorized messages to `on_message` until stop(); see the module doc."""

    # ---- intake: the steps every platform shares ----------------------------------------------
    def admit(self, user_id: int | str) -> bool:
        """Authorization first: a stranger's message goes nowhere else (only their id is logged)."""
        if is_allowed(self.config.allowed_users, user_id):
            return True
        log.info(
            "ignored message from unauthorized %s user id=%s (add it to allowed_users to allow)",
            self.name,
            user_id,
        )
        return False

    def addressed(
        self,
        chat_id: str,
        *,
        group: bool,
        mentioned: bool = False,
        replied: bool = False,
        command: bool = False,
    ) -> bool:
        """Whether to answer: always in a private chat; in a group (channel.group_mode "mention")
        only when the bot is mentioned, replied to or given a command, in a group that
        allowed_groups lets in. A message not addressed to the bot never reaches the journal or
        the LLM. Each platform says what a group, a mention and a reply are."""
        if not group:
            return True
        if self.config.allowed_groups and chat_id not in self.config.allowed_groups:
            log.info("ignored a message in %s group %s (not in allowed_groups)", self.name, chat_id)
            return False
        return self.config.group_mode == "all" or mentioned or replied or command

    async def accept(
        self,
        on_message: OnMessage,
        chat_id: str,
        user_id: str,
        text: str,
        delivery_id: str | None = None,
        media: MediaRef | None = None,
    ) -> None:
        """Hand an admitted sender's message over; one with neither text nor a photo or recording
        (a sticker, a location) gets a short notice."""
        if not text and media is None:
            # In the background: a notice is not a message, it must not hold up the acknowledgement.
            self.notify(chat_id, NON_TEXT_REPLY)
            return
        async with self._intake:
            await on_message(IncomingMessage(self, chat_id, user_id, text, delivery_id, media))

    def notify(self, chat_id: str, text: str) -> None:
        """Send a notice in the background, best effort (never holds up intake)."""
        self.spawn(self._send_quietly(chat_id, text))

    def spawn(self, coro: Awaitable[None]) -> None:
        """Run a side job that close() cancels if it is still running."""
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _send_quietly(self, chat_id: str, text: str) -> None:
        try:
            await self.send(chat_id, text)
        except Exception as exc:
            log.warning("%s: could not send a notice to chat %s: %s", self.name, chat_id, type(exc).__name__)

    async def media_location(self, media: MediaRef) -> tuple[str, dict[str, str]]:
        """The URL of an attachment's bytes and the headers that fetch it (raises MediaUnavailable)."""
        raise MediaUnavailable(f"{self.name} attachments are not supported")

    def configure_files(self, discord_upload_max_bytes: int) -> None:  # noqa: B027 - optional hook
        """Apply media.documents' platform limits (Discord's depends on the server's boost level)."""

    async def send_file(self, chat_id: str, handle: BinaryIO, filename: str, size: int, caption: str) -> None:
        """One file as a document/attachment, streamed from `handle` (read from its start; a retry
        calls again); raises what retry_delay() and rejected() classify."""
        raise NotImplementedError(f"{self.name} cannot send files")

    # ---- output ---------------------------------------------------------------------------------
    def chunks(self, text: str) -> list[str]:
        """The platform messages a reply becomes, in order."""
        return split_text(text, self.message_limit)

    def parts(self, text: str) -> list[Part]:
        """What send() sends, in order. Deterministic: a resumed send skips parts by their index."""
        if self._last_parts[0] == text:  # the outbox counts the parts, then send() sends them
            return self._last_parts[1]
        if self.formatted and self.renderer is not None:
            parts = format_parts(text, self.renderer, self.message_limit)
        else:
            parts = [Part(chunk, chunk, False) for chunk in self.chunks(text)]
        parts = parts or [Part(EMPTY_REPLY, EMPTY_REPLY, False)]
        self._last_parts = (text, parts)
        return parts

    async def send(
        self,
        chat_id: str,
        text: str,
        *,
        skip_parts: int = 0,
        on_part_sent: Callable[[int], None] | None = None,
    ) -> None:
        """Send a reply (split to the platform limit, in order), retrying what is transient.

        `skip_parts`: the first parts were accepted before (a resumed send). `on_part_sent(n)` is
        called as soon as the platform accepted part n (1-based), so the caller can record it.
        """
        preview = self._previews.pop(chat_id, None)
        for index, part in enumerate(self.parts(text)):
            if index < skip_parts:
                continue
            if preview is None or not await self._replace_preview(chat_id, preview, part):
                await self.with_retries("send", lambda part=part: self._send_part(chat_id, part))
            preview = None
            if on_part_sent is not None:
                on_part_sent(index + 1)

    # ---- live replies ---------------------------------------------------------------------------
    def live(self, chat_id: str) -> LivePreview | None:
        """A live preview for this chat's next answer, or None (replies.live off, or no edits here)."""
        if self.config.live_interval_s is None or not self.edits_messages:
            return None
        return LivePreview(
            lambda text: self.send_preview(chat_id, text),
            lambda message_id, text: self.edit_preview(chat_id, message_id, text),
            max(self.config.live_interval_s, self.live_min_interval_s),
            self.preview_cut,
        )

    def preview_cut(self, text: str) -> str:
        """What of the answer so far fits in one preview message, " …" included."""
        return next(iter(split_text(text, self.message_limit - len(MORE), utf16_len)), "")

    def adopt_preview(self, chat_id: str, message_id: str | None) -> None:
        """The next send to this chat writes its first part into the preview message."""
        if message_id is not None:
            self._previews[chat_id] = message_id

    async def _replace_preview(self, chat_id: str, message_id: str, part: Part) -> bool:
        try:
            await self.with_retries("edit", lambda: self.edit_part(chat_id, message_id, part))
        except Exception as exc:  # deleted by the user, too old to edit...: a new message instead
            log.warning("%s: could not write the answer into its live preview (%s)", self.name, _brief(exc))
            return False
        return True

    async def send_preview(self, chat_id: str, text: str) -> str:
        """A plain message that live replies edit; returns its id."""
        raise NotImplementedError

    async def edit_preview(self, chat_id: str, message_id: str, text: str) -> float | None:
        """Replace the preview's text; returns a pause the platform asked for (flood control)."""
        raise NotImplementedError

    async def edit_part(self, chat_id: str, message_id: str, part: Part) -> None:
        """Write a reply part into the preview message (formatted, or plain when refused)."""
        raise NotImplementedError

    async def _send_part(self, chat_id: str, part: Part) -> None:
        """A formatted part the platform refuses (Telegram: "can't parse entities") goes as plain text."""
        if not part.markup:
            await self.send_chunk(chat_id, part.text)
            return
        try:
            await self.send_markup(chat_id, part.text)
        except Exception as exc:
            if not self.markup_refused(exc):
                raise
            log.warning(
                "%s refused the formatting of a reply (%s); sending it as plain text", self.name, _brief(exc)
            )
            await self.send_chunk(chat_id, part.plain)

    @abc.abstractmethod
    async def send_chunk(self, chat_id: str, text: str) -> None:
        """One platform message of plain text; raises what retry_delay() can classify."""

    async def send_markup(self, chat_id: str, text: str) -> None:
        """One platform message in the platform's format (the renderer's output)."""
        await self.send_chunk(chat_id, text)

    def markup_refused(self, exc: Exception) -> bool:
        """The platform refused a message for its markup: the same words as plain text will do."""
        return False

    def retry_delay(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before retrying after `exc` (a 429's retry_after, a 5xx's backoff), or None."""
        return None

    def rejected(self, exc: Exception) -> bool:
        """The platform refused this send for good (chat gone, bot blocked, bad request): trying
        again cannot help. Anything else is treated as transient and tried again later."""
        return False

    async def with_retries(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """Bounded attempts; every wait the platform asks for (429 retry_after) is honoured."""
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                return await call()
            except Exception as exc:
                delay = self.retry_delay(exc, attempt)
                if delay is None or attempt == SEND_ATTEMPTS:
                    raise
                log.warning("%s %s failed (%s); retrying in %.1f s", self.name, what, _brief(exc), delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises

    # ---- typing indicator (cosmetic: never delays an answer) -----------------------------------
    async def send_typing(self, chat_id: str) -> float | None:
        """Show "typing…" once; returns a pause the platform asked for (flood control), if any."""
        return None

    @contextlib.asynccontextmanager
    async def typing(self, chat_id: str) -> AsyncIterator[None]:
        """Repeat the indicator while the body runs. The body never waits for it: not at entry, not
        for a flood-control pause, not at exit (an in-flight call finishes in the background)."""
        if self.typing_interval_s is None:
            yield
            return
        done = asyncio.Event()
        self.spawn(self._keep_typing(chat_id, done, self.typing_interval_s))
        try:
            yield
        finally:
            done.set()  # an event, not cancel(): cancelling an in-flight request can spoil its connection

    async def _keep_typing(self, chat_id: str, done: asyncio.Event, interval_s: float) -> None:
        while not done.is_set():
            try:
                pause = await self.send_typing(chat_id)
            except Exception as exc:
                pause = None
                log.debug("typing indicator failed: %s", _brief(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=max(interval_s, pause or 0.0))


def _brief(exc: Any) -> str:
    """Exception type and message for a log line (library messages carry no message content)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__
