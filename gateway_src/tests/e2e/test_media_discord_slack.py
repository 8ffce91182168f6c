"""Photos and voice messages on Discord (signed CDN attachment URLs, no token) and Slack (url_private,
fetched with the bot token), on the real gateway process against the platform fakes."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.conftest import LaunchGateway, openrouter_llm
from tests.e2e.gateway_process import GatewayProcess
from tests.e2e.test_discord import ALLOWED as DISCORD_USER
from tests.e2e.test_discord import DISCORD_TOKEN, discord_channel
from tests.e2e.test_media import TRANSCRIBE_KEY, png
from tests.e2e.test_slack import ALLOWED as SLACK_USER
from tests.e2e.test_slack import DM, SLACK_APP_TOKEN, SLACK_BOT_TOKEN, slack_channel
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.fakes.transcription_api import FakeTranscription


@pytest.fixture
async def transcription() -> AsyncIterator[FakeTranscription]:
    fake = await FakeTranscription(api_key=TRANSCRIBE_KEY).start()
    yield fake
    await fake.close()


def media_section(transcription: FakeTranscription) -> dict[str, Any]:
    settings = {"api_base": f"{transcription.base_url}/v1", "api_key": TRANSCRIBE_KEY}
    return {"vision": True, "transcription": settings}


def image_part(openai_fake: FakeOpenAI) -> str:
    content = [m for m in openai_fake.script.requests[-1].body["messages"] if m["role"] == "user"][-1][
        "content"
    ]
    return str(content[1]["image_url"]["url"])


async def test_discord_photo_and_voice_message(
    launch_gateway: LaunchGateway, openai_fake: FakeOpenAI, transcription: FakeTranscription
) -> None:
    fake = await FakeDiscord(DISCORD_TOKEN).start()
    try:
        config = {"llm": openrouter_llm(openai_fake), "channels": [discord_channel(fake)],
                  "media": media_section(transcription)}  # fmt: skip
        gateway: GatewayProcess = await launch_gateway(config)
        await gateway.wait_status("/ready", 200, wait_s=30)
        await fake.wait_connected()
        image = png(300, 200)
        photo = fake.add_attachment(DISCORD_USER, image, "cat.png", "image/png", width=300, height=200)
        await fake.push_message(DISCORD_USER, "a cat?", extra={"attachments": [photo]})
        [reply] = await fake.wait_for_sent(1, DISCORD_USER, wait_s=20)
        assert reply.content == "echo: a cat?"
        assert image_part(openai_fake) == "data:image/png;base64," + base64.b64encode(image).decode()

        audio = b"OggS" + b"\x01" * 3000
        transcription.transcripts[audio] = "call mom at six"
        voice = fake.add_attachment(
            DISCORD_USER, audio, "voice-message.ogg", "audio/ogg", duration_secs=2.5, flags=8192
        )
        await fake.push_message(DISCORD_USER, "", extra={"attachments": [voice], "flags": 8192})
        sent = await fake.wait_for_sent(2, DISCORD_USER, wait_s=20)
        # Discord markdown: the reply escapes the brackets (\\[voice\\]); Discord shows them plain
        assert sent[1].content.replace("\\", "") == "echo: [voice] call mom at six"
        assert transcription.uploads[-1].data == audio
    finally:
        await fake.close()


async def test_slack_photo_is_fetched_with_the_bot_token_and_voice_clip_transcribed(
    launch_gateway: LaunchGateway, openai_fake: FakeOpenAI, transcription: FakeTranscription
) -> None:
    fake = await FakeSlack(SLACK_BOT_TOKEN, SLACK_APP_TOKEN).start()
    try:
        config = {"llm": openrouter_llm(openai_fake), "channels": [slack_channel(fake)],
                  "media": media_section(transcription)}  # fmt: skip
        gateway: GatewayProcess = await launch_gateway(config)
        await gateway.wait_status("/ready", 200, wait_s=30)
        await fake.wait_connected()
        image = png(64, 64)
        photo = fake.add_file(image, "screenshot.png", "image/png", original_w=64, original_h=64)
        await fake.push_dm(SLACK_USER, "what does it say?", channel=DM, files=[photo])
        [reply] = await fake.wait_for_sent(1, DM, wait_s=20)
        assert reply.text == "echo: what does it say?"
        assert image_part(openai_fake) == "data:image/png;base64," + base64.b64encode(image).decode()
        assert fake.file_fetches == [f"Bearer {SLACK_BOT_TOKEN}"]

        audio = b"\x1aE\xdf\xa3" + b"\x02" * 2000  # a WebM clip
        transcription.transcripts[audio] = "book the meeting room"
        clip = fake.add_file(
            audio, "audio_message.webm", "audio/webm", duration_ms=4200, subtype="slack_audio"
        )
        await fake.push_dm(SLACK_USER, "", channel=DM, files=[clip])
        sent = await fake.wait_for_sent(2, DM, wait_s=20)
        assert sent[1].text == "echo: [voice] book the meeting room"
        assert transcription.uploads[-1].filename == "voice.webm"
        assert SLACK_BOT_TOKEN not in gateway.output() and TRANSCRIBE_KEY not in gateway.output()
    finally:
        await fake.close()
