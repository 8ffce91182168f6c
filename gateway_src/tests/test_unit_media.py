"""Photos and voice notes, the parts without a network: image headers, the vision rule, which
Telegram attachment is taken, the journal keeping a reference (never bytes), the media config."""

from __future__ import annotations

import struct
from pathlib import Path
from types import SimpleNamespace

import pytest

from picoclaw_gateway.channels.telegram_media import telegram_media
from picoclaw_gateway.config_validator import redact, validate
from picoclaw_gateway.delivery import Journal
from picoclaw_gateway.media.image_info import image_info
from picoclaw_gateway.media.ref import MediaRef
from picoclaw_gateway.media.vision import vision_enabled
from tests.e2e.test_media import png

TG_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png(640, 480), ("image/png", 640, 480)),
        (jpeg(4032, 3024), ("image/jpeg", 4032, 3024)),
        (b"GIF89a" + struct.pack("<HH", 20, 10) + b"\x00" * 8, ("image/gif", 20, 10)),
        (
            b"RIFF\x00\x00\x00\x00WEBPVP8X"
            + b"\x00" * 8
            + (99).to_bytes(3, "little")
            + (49).to_bytes(3, "little"),
            ("image/webp", 100, 50),
        ),
        (b"%PDF-1.7 not an image", None),
        (b"\xff\xd8\xff\xe0\x00", None),  # a cut JPEG
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
    ],
)
def test_image_info_reads_format_and_size_from_the_header(data: bytes, expected: object) -> None:
    assert image_info(data) == expected


def test_vision_rule() -> None:
    assert vision_enabled("auto", "anthropic", "claude-whatever")
    assert vision_enabled("auto", "openrouter", "openai/gpt-4o-mini")
    assert vision_enabled("auto", "openai", "qwen2.5-vl-7b-instruct")
    assert not vision_enabled("auto", "openrouter", "deepseek/deepseek-chat")
    assert vision_enabled(True, "openrouter", "my-local-model")
    assert not vision_enabled(False, "anthropic", "claude-sonnet-4")


def test_telegram_takes_the_largest_photo_size_within_the_caps() -> None:
    sizes = [
        {"file_id": "small", "width": 90, "height": 67, "file_size": 1200},
        {"file_id": "big", "width": 2560, "height": 1920, "file_size": 900000},
        {"file_id": "mid", "width": 1280, "height": 960, "file_size": 300000},
    ]
    assert telegram_media({"photo": sizes}, (5_000_000, 2048)) == MediaRef(
        "image", "mid", "image/jpeg", size=300000, width=1280, height=960
    )
    assert telegram_media({"photo": sizes}, (5_000_000, 4096)).ref == "big"  # type: ignore[union-attr]
    assert telegram_media({"photo": sizes}, (1000, 4096)).ref == "small"  # none fits: the turn refuses it
    voice = telegram_media({"voice": {"file_id": "v", "duration": 7, "file_size": 5000}}, (1, 1))
    assert voice == MediaRef("audio", "v", "audio/ogg", size=5000, seconds=7)
    assert telegram_media({"document": {"file_id": "d", "mime_type": "image/png"}}, (1, 1)).kind == "image"  # type: ignore[union-attr]
    pdf = {"file_id": "d", "mime_type": "application/pdf", "file_name": "a.pdf", "file_size": 9}
    assert telegram_media({"document": pdf}, (1, 1)) == MediaRef(
        "document", "d", "application/pdf", size=9, name="a.pdf"
    )
    assert telegram_media({"sticker": {"file_id": "s"}}, (1, 1)) is None


def test_the_journal_keeps_a_reference_across_a_restart(tmp_path: Path) -> None:
    ref = MediaRef("image", "AgACAgIAAxkBAAI", "image/jpeg", size=123456, width=1280, height=960)
    message = SimpleNamespace(channel="telegram", chat_id="1", user_id="1", text="caption", media=ref)
    with Journal(tmp_path) as journal:
        entry_id = journal.record(message)
    with Journal(tmp_path) as journal:
        entry = journal.get(entry_id)
        assert entry is not None and entry.media == ref and entry.text == "caption"
    assert b"AgACAgIAAxkBAAI" in b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())


def _config(media: object) -> dict:
    return {
        "llm": {"provider": "openrouter", "api_key": "sk-or-v1-" + "a" * 64, "model": "openai/gpt-4o"},
        "channel": {"type": "telegram", "token": TG_TOKEN, "allowed_users": [1]},
        "media": media,
    }


def test_media_config_is_normalized_and_its_key_masked() -> None:
    key = "gsk_" + "b" * 48
    result = validate(
        _config(
            {
                "vision": True,
                "transcription": {
                    "api_base": "https://api.groq.com/openai/v1/",
                    "api_key": key,
                    "model": "whisper-large-v3",
                    "max_seconds": 300,
                },
            }
        )
    )
    assert result.valid, [str(e) for e in result.errors]
    assert result.normalized is not None
    assert result.normalized["media"]["transcription"] == {
        "api_base": "https://api.groq.com/openai/v1",
        "api_key": key,
        "model": "whisper-large-v3",
        "max_bytes": 4194304,
        "max_seconds": 300,
    }
    assert key not in str(redact(result.normalized)) and key not in str(result.as_dict())


@pytest.mark.parametrize(
    ("media", "path", "words"),
    [
        ({"vision": "yes"}, "$.media.vision", 'write "auto"'),
        ({"vision": 1}, "$.media.vision", 'write "auto"'),
        ({"image_max_bytes": 10}, "$.media.image_max_bytes", "must be from"),
        ({"transcription": {"model": "whisper-1"}}, "$.media.transcription.api_base", 'add "api_base"'),
        (
            {"transcription": {"api_base": "ftp://x", "api_key": "k" * 20}},
            "$.media.transcription.api_base",
            "http",
        ),
        (
            {"transcription": {"api_base": "http://127.0.0.1:9000/v1", "api_key": "<your key>"}},
            "$.media.transcription.api_key",
            "paste",
        ),
        (
            {"transcription": {"api_base": "http://127.0.0.1:9000/v1", "max_seconds": 0}},
            "$.media.transcription.max_seconds",
            "from 1",
        ),
        ({"vison": True}, "$.media.vison", "vision"),
    ],
)
def test_media_config_errors_say_where_and_how_to_fix(media: dict, path: str, words: str) -> None:
    result = validate(_config(media))
    problems = result.errors + result.warnings
    assert any(p.path == path and words in str(p) for p in problems), [str(p) for p in problems]
    assert "Traceback" not in str([str(p) for p in problems])
