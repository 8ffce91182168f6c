"""A message with a photo, a voice note or a document becomes what the LLM reads, or a notice.

Photos: fetched (byte cap, time limit), checked to be PNG/JPEG/GIF/WebP within the pixel cap, and
sent as one image part of the user message; the stored history keeps "[image] caption" only, so
the bytes live for one turn. Voice notes and audio: fetched, transcribed, and answered like text;
the history keeps "[voice] transcript". Documents: saved into the workspace (media/documents.py).
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from picoclaw_gateway.media.documents import NO_DOCUMENTS, save_document
from picoclaw_gateway.media.documents import size_text as _size
from picoclaw_gateway.media.download import MediaTooLarge, MediaUnavailable, fetch_capped
from picoclaw_gateway.media.image_info import image_info
from picoclaw_gateway.media.ref import MediaRef

if TYPE_CHECKING:
    from picoclaw_gateway.channels.base import Channel
    from picoclaw_gateway.config import GatewayConfig, MediaConfig
    from picoclaw_gateway.media.transcribe import Transcriber

log = logging.getLogger(__name__)

IMAGE_MARK = "[image]"
VOICE_MARK = "[voice]"
NO_VISION = (
    "I cannot look at images: the language model I use reads text only. Describe the picture in "
    "words, or ask the owner to switch to a vision-capable model (media.vision in the config)."
)
NO_TRANSCRIPTION = (
    "I cannot listen to voice messages: no transcription service is configured. Please type your "
    "message (the owner can set media.transcription in the config)."
)
IMAGE_FORMATS = "PNG, JPEG, GIF or WebP"


@dataclass(frozen=True, slots=True)
class Prepared:
    """content: the user message for the LLM (a string, or text + image parts); stored: what the
    history keeps of it; notice: the outcome instead of a turn (then content is unused)."""

    content: str | list[dict[str, Any]] = ""
    stored: str = ""
    notice: str | None = None


class MediaTurns:
    def __init__(self, config: MediaConfig, vision: bool, workspace: Path | None = None) -> None:
        self.config = config
        self.vision = vision
        self.workspace = workspace  # where documents are saved (None: documents get a notice)
        self._transcriber: Transcriber | None = None
        if config.transcription is not None:
            from picoclaw_gateway.media.transcribe import Transcriber  # only when configured

            t = config.transcription
            self._transcriber = Transcriber(t.api_base, t.api_key, t.model, config.download_timeout_s * 2)

    async def prepare(self, text: str, media: MediaRef, channel: Channel, chat_id: str = "") -> Prepared:
        if media.kind == "image":
            return await self._image(text, media, channel)
        if media.kind == "document":
            if self.workspace is None:
                return Prepared(notice=NO_DOCUMENTS)
            content, notice = await save_document(self.config, self.workspace, text, media, channel, chat_id)
            return Prepared(notice=notice) if content is None else Prepared(content, content)
        return await self._audio(text, media, channel)

    async def _fetch(self, media: MediaRef, channel: Channel, max_bytes: int) -> bytearray:
        url, headers = await channel.media_location(media)
        return await fetch_capped(
            url,
            headers=headers,
            max_bytes=max_bytes,
            timeout_s=self.config.download_timeout_s,
            proxy=channel.config.proxy,
        )

    def _too_big(self, what: str, size: int, cap: int) -> Prepared:
        return Prepared(notice=f"This {what} is too large for me ({_size(size)}; the limit is {_size(cap)}).")

    async def _image(self, text: str, media: MediaRef, channel: Channel) -> Prepared:
        if not self.vision:
            return Prepared(notice=NO_VISION)
        cap, side = self.config.image_max_bytes, self.config.image_max_side_px
        if media.size is not None and media.size > cap:
            return self._too_big("image", media.size, cap)
        wide = max(media.width or 0, media.height or 0)
        if wide > side:
            return Prepared(
                notice=f"This image is too large for me ({wide} px wide; the limit is {side} px)."
            )
        try:
            data = await self._fetch(media, channel, cap)
        except MediaTooLarge as exc:
            return self._too_big("image", int(exc.args[0]), cap)
        except MediaUnavailable as exc:
            log.warning("%s: could not fetch an image: %s", channel.name, exc)
            return Prepared(
                notice=f"I could not fetch that image from {channel.name} ({exc}). Please send it again."
            )
        info = image_info(data)
        if info is None:
            return Prepared(notice=f"I can read images in {IMAGE_FORMATS} format only.")
        mime, width, height = info
        if max(width, height) > side:
            return Prepared(
                notice=f"This image is too large for me ({width}x{height} px; the limit is {side} px "
                "on the longer side). Send it as a photo (compressed) or scaled down."
            )
        caption = text.strip()
        parts: list[dict[str, Any]] = [
            {"type": "text", "text": caption or "(the user sent this image without a caption)"},
            {"type": "image", "mime": mime, "data": base64.b64encode(data).decode("ascii")},
        ]
        return Prepared(parts, f"{IMAGE_MARK} {caption}".rstrip())

    async def _audio(self, text: str, media: MediaRef, channel: Channel) -> Prepared:
        if self._transcriber is None:
            return Prepared(notice=NO_TRANSCRIPTION)
        t = self.config.transcription
        assert t is not None  # a transcriber exists only with its config
        if media.seconds is not None and media.seconds > t.max_seconds:
            return Prepared(
                notice=f"This recording is too long for me ({media.seconds} s; "
                f"the limit is {t.max_seconds} s)."
            )
        if media.size is not None and media.size > t.max_bytes:
            return self._too_big("recording", media.size, t.max_bytes)
        from picoclaw_gateway.media.transcribe import TranscriptionError

        try:
            data = await self._fetch(media, channel, t.max_bytes)
            transcript = await self._transcriber.transcribe(bytes(data), _filename(media.mime), media.mime)
        except MediaTooLarge as exc:
            return self._too_big("recording", int(exc.args[0]), t.max_bytes)
        except (MediaUnavailable, TranscriptionError) as exc:
            log.warning("%s: could not transcribe a recording: %s", channel.name, exc)
            return Prepared(
                notice=f"I could not transcribe that recording ({exc}). Please try again or type it."
            )
        if not transcript:
            return Prepared(notice="I could not make out any words in that recording.")
        caption = text.strip()
        content = f"{VOICE_MARK} {transcript}" + (f"\n{caption}" if caption else "")
        return Prepared(content, content)


def _filename(mime: str) -> str:
    """Transcription services pick the decoder from the file name's extension."""
    ext = {
        "audio/ogg": "ogg", "audio/opus": "ogg", "audio/mpeg": "mp3", "audio/mp3": "mp3",
        "audio/mp4": "m4a", "audio/x-m4a": "m4a", "audio/m4a": "m4a", "audio/aac": "aac",
        "audio/wav": "wav", "audio/x-wav": "wav", "audio/webm": "webm", "audio/flac": "flac",
        "video/mp4": "mp4", "video/webm": "webm",
    }.get(mime.split(";", 1)[0].strip().lower(), "ogg")  # fmt: skip
    return f"voice.{ext}"


def media_turns(config: GatewayConfig) -> MediaTurns:
    """The gateway's photo and voice handling, as configured (media.vision resolved once here)."""
    from picoclaw_gateway.media.vision import vision_enabled

    vision = vision_enabled(config.media.vision, config.llm.provider, config.llm.model)
    log.info(
        "photos: %s; voice messages: %s",
        "sent to the model" if vision else f"refused (model {config.llm.model} is taken as text-only)",
        "transcribed" if config.media.transcription is not None else "refused (no transcription configured)",
    )
    return MediaTurns(config.media, vision, config.workspace)
