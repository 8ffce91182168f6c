"""Photos and voice notes on the real gateway process, over real HTTP: Telegram getFile and file
download (fake Bot API), the image part in the LLM request (fake OpenAI-compatible and Anthropic
servers), and a fake OpenAI-compatible transcription endpoint."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.conftest import ALLOWED_USER, StartGateway
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.transcription_api import FakeTranscription

TRANSCRIBE_KEY = "sk-transcribe-test-0123456789abcdef"
STICKER = {
    "sticker": {"file_id": "CAAC1", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512,
                "is_animated": False, "is_video": False}
}  # fmt: skip


def png(width: int, height: int) -> bytes:
    """A real PNG (one grey row repeated), as a phone or a screenshot tool would send."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def photo_sizes(telegram: FakeTelegram, image: bytes, width: int, height: int) -> dict[str, Any]:
    """Telegram's photo field: a thumbnail and the full size (here both the same bytes)."""
    thumb = telegram.add_file(image, "photos")
    full = telegram.add_file(image, "photos")
    return {
        "photo": [
            {"file_id": thumb, "file_unique_id": "t1", "width": 90, "height": 90, "file_size": len(image)},
            {
                "file_id": full,
                "file_unique_id": "f1",
                "width": width,
                "height": height,
                "file_size": len(image),
            },
        ]
    }


async def send_media(telegram: FakeTelegram, fields: dict[str, Any], caption: str | None = None) -> str:
    before = len(telegram.sent_to(ALLOWED_USER))
    await telegram.push_media(ALLOWED_USER, fields, caption)
    sent = await telegram.wait_for_sent(before + 1, chat_id=ALLOWED_USER, wait_s=20)
    return sent[before].text


def user_messages(body: dict[str, Any]) -> list[Any]:
    return [m["content"] for m in body["messages"] if m["role"] == "user"]


@pytest.fixture
async def transcription() -> AsyncIterator[FakeTranscription]:
    fake = await FakeTranscription(api_key=TRANSCRIBE_KEY).start()
    yield fake
    await fake.close()


async def test_photo_goes_to_a_vision_model_as_an_image_part_and_history_keeps_a_placeholder(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    await start_gateway(extra={"media": {"vision": True}})
    image = png(640, 480)
    sizes = photo_sizes(telegram, image, 640, 480)
    assert await send_media(telegram, sizes, caption="what is this?") == "echo: what is this?"
    # The largest size within the caps, not the thumbnail.
    assert [c.params["file_id"] for c in telegram.calls_to("getFile")] == [sizes["photo"][1]["file_id"]]
    content = user_messages(openai_fake.script.requests[-1].body)[-1]
    assert content[0] == {"type": "text", "text": "what is this?"}
    assert content[1]["type"] == "image_url"
    assert content[1]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(image).decode()

    # The next turn's history has the placeholder, not the image.
    before = len(telegram.sent_to(ALLOWED_USER))
    await telegram.push_update(ALLOWED_USER, "and now?")
    await telegram.wait_for_sent(before + 1, chat_id=ALLOWED_USER, wait_s=20)
    body = openai_fake.script.requests[-1].body
    assert user_messages(body) == ["[image] what is this?", "and now?"]
    assert "base64" not in str(body)


async def test_photo_with_a_text_only_model_tells_the_user_and_sends_nothing(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    await start_gateway()  # model "test/model" with vision "auto": taken as text-only
    image = png(32, 32)
    reply = await send_media(telegram, photo_sizes(telegram, image, 32, 32))
    assert "cannot look at images" in reply and "media.vision" in reply
    assert openai_fake.script.requests == [] and telegram.calls_to("getFile") == []


async def test_over_cap_images_are_refused_with_a_notice(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    await start_gateway(
        extra={"media": {"vision": True, "image_max_bytes": 20000, "image_max_side_px": 1000}}
    )
    big = png(900, 900) + b"\x00" * 30000  # a valid header, 30 KB over the byte cap
    document = {
        "document": {"file_id": telegram.add_file(big), "file_unique_id": "d1", "mime_type": "image/png"}
    }
    reply = await send_media(telegram, document)  # no size announced: the download stops at the cap
    assert "too large" in reply and "limit is 19 KB" in reply
    wide = png(1600, 10)
    document = {
        "document": {"file_id": telegram.add_file(wide), "file_unique_id": "d2", "mime_type": "image/png"}
    }
    reply = await send_media(telegram, document)
    assert "1600x10 px" in reply and "limit is 1000 px" in reply
    pdf = telegram.add_file(b"%PDF-1.7 " * 10)
    not_image = {"document": {"file_id": pdf, "file_unique_id": "d3", "mime_type": "image/png"}}
    assert "PNG, JPEG, GIF or WebP" in await send_media(telegram, not_image)
    assert openai_fake.script.requests == []
    # A sticker is still neither text, photo nor voice.
    assert "only read text, photos, voice messages and files" in await send_media(telegram, STICKER)


async def test_photo_to_anthropic_is_an_image_block(
    start_gateway: StartGateway, telegram: FakeTelegram, anthropic_fake: FakeAnthropic
) -> None:
    await start_gateway("anthropic")  # "auto": Claude models read images
    image = png(100, 50)
    assert (
        await send_media(telegram, photo_sizes(telegram, image, 100, 50), caption="describe")
        == "echo: describe"
    )
    blocks = anthropic_fake.script.requests[-1].body["messages"][-1]["content"]
    assert blocks[0] == {"type": "text", "text": "describe"}
    assert blocks[1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(image).decode()},
    }


async def test_voice_note_is_transcribed_answered_and_kept_as_its_transcript(
    start_gateway: StartGateway,
    telegram: FakeTelegram,
    openai_fake: FakeOpenAI,
    transcription: FakeTranscription,
) -> None:
    settings = {"api_base": f"{transcription.base_url}/v1", "api_key": TRANSCRIBE_KEY, "model": "whisper-1"}
    gateway = await start_gateway(extra={"media": {"transcription": settings}})
    audio = b"OggS" + bytes(range(256)) * 40
    transcription.transcripts[audio] = "remind me to buy milk"
    voice = {"voice": {"file_id": telegram.add_file(audio, "voice"), "file_unique_id": "v1", "duration": 3,
                       "mime_type": "audio/ogg", "file_size": len(audio)}}  # fmt: skip
    assert await send_media(telegram, voice) == "echo: [voice] remind me to buy milk"
    upload = transcription.uploads[-1]
    assert upload.data == audio and upload.model == "whisper-1" and upload.filename == "voice.ogg"
    assert upload.authorization == f"Bearer {TRANSCRIBE_KEY}"

    before = len(telegram.sent_to(ALLOWED_USER))
    await telegram.push_update(ALLOWED_USER, "what did I say?")
    await telegram.wait_for_sent(before + 1, chat_id=ALLOWED_USER, wait_s=20)
    assert user_messages(openai_fake.script.requests[-1].body) == [
        "[voice] remind me to buy milk",
        "what did I say?",
    ]
    # Too long for the configured cap: a notice, no upload. The key never reaches the logs.
    long_voice = {"voice": {**voice["voice"], "duration": 3600}}
    assert "too long" in await send_media(telegram, long_voice)
    assert len(transcription.uploads) == 1
    assert TRANSCRIBE_KEY not in gateway.output()


async def test_voice_note_without_transcription_tells_the_user(
    start_gateway: StartGateway, telegram: FakeTelegram, openai_fake: FakeOpenAI
) -> None:
    await start_gateway()
    voice = {
        "voice": {"file_id": telegram.add_file(b"OggS...", "voice"), "file_unique_id": "v2", "duration": 2}
    }
    assert "no transcription service is configured" in await send_media(telegram, voice)
    assert openai_fake.script.requests == []
