"""replies.live on Discord (PATCH /channels/{id}/messages/{id}) and Slack (chat.update): the answer
streams into one message, edited no faster than the platform's floor, which ends as the formatted
reply; a long one is split to the platform's limit; a 429 on an edit skips a preview, never the
answer."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.e2e.conftest import LaunchGateway, openrouter_llm
from tests.e2e.test_discord import ALLOWED as DISCORD_USER
from tests.e2e.test_discord import discord_channel
from tests.e2e.test_slack import ALLOWED as SLACK_USER
from tests.e2e.test_slack import DM, slack_channel
from tests.fakes import llm_script
from tests.fakes.discord_api import MAX_MESSAGE_CHARS, FakeDiscord
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import MAX_TEXT_CHARS, FakeSlack

LIVE = {"live": True, "live_interval_s": 0.5}  # below both platforms' floors: the floor wins
DISCORD_FLOOR_S, SLACK_FLOOR_S = 1.0, 1.2
STEPS = " ".join(f"**step {i}** done & checked." for i in range(40))  # ~1,100 characters
LONG = "\n\n".join(f"Paragraph {i}: " + "words " * 60 for i in range(25))  # ~9,300 characters


async def _until(check: Callable[[], Any], what: str, wait_s: float = 30.0) -> Any:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if found := check():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _preview_gaps(first_at: float, edits: list[tuple[str, float]]) -> list[float]:
    previews = [at for text, at in edits if text.endswith(" …")]
    return [b - a for a, b in itertools.pairwise([first_at, *previews])]


@pytest.fixture
def start_discord(
    launch_gateway: LaunchGateway, discord_fake: FakeDiscord, openai_fake: FakeOpenAI
) -> Callable[[], Awaitable[None]]:
    async def start() -> None:
        config = {
            "llm": openrouter_llm(openai_fake),
            "channels": [discord_channel(discord_fake)],
            "replies": LIVE,
        }
        gateway = await launch_gateway(config)
        await gateway.wait_status("/ready", 200, wait_s=30)
        await discord_fake.wait_connected()

    return start


@pytest.fixture
def start_slack(
    launch_gateway: LaunchGateway, slack_fake: FakeSlack, openai_fake: FakeOpenAI
) -> Callable[[], Awaitable[None]]:
    async def start() -> None:
        config = {
            "llm": openrouter_llm(openai_fake),
            "channels": [slack_channel(slack_fake)],
            "replies": LIVE,
        }
        gateway = await launch_gateway(config)
        await gateway.wait_status("/ready", 200, wait_s=30)
        await slack_fake.wait_connected()

    return start


async def test_discord_streams_into_one_message_that_ends_as_the_formatted_answer(
    start_discord: Callable[[], Awaitable[None]], discord_fake: FakeDiscord, openai_fake: FakeOpenAI
) -> None:
    await start_discord()
    openai_fake.script.add(llm_script.streamed(STEPS, pieces=12, piece_delay_s=0.35))
    await discord_fake.push_message(DISCORD_USER, "live please")
    [reply] = await _until(
        lambda: [m for m in discord_fake.sent_to(DISCORD_USER) if not m.content.endswith(" …")], "the answer"
    )
    assert reply.content == STEPS, "Discord markdown: **bold** stays, & is not escaped"
    assert len(discord_fake.sent_to(DISCORD_USER)) == 1, "one message: the preview, edited into the reply"
    assert len(reply.edits) >= 3 and reply.edits[-1][0] == STEPS
    assert reply.body["allowed_mentions"]["parse"] == [], "no pings from an LLM's text"
    gaps = _preview_gaps(reply.at, reply.edits)
    assert gaps and all(gap >= DISCORD_FLOOR_S - 0.05 for gap in gaps), gaps
    assert openai_fake.script.requests[-1].body["stream"] is True


async def test_discord_long_answer_is_split_and_a_429_on_an_edit_loses_nothing(
    start_discord: Callable[[], Awaitable[None]], discord_fake: FakeDiscord, openai_fake: FakeOpenAI
) -> None:
    await start_discord()
    discord_fake.rate_limit_next_edits(2, retry_after=1.5)  # the first preview edit, or the answer's
    openai_fake.script.add(llm_script.streamed(LONG, pieces=8, piece_delay_s=0.3))
    await discord_fake.push_message(DISCORD_USER, "long live please")
    sent = await _until(
        lambda: (
            (m := discord_fake.sent_to(DISCORD_USER))
            and len(m) >= 5
            and m[-1].content.endswith("words")
            and m
        ),
        "all parts",
    )
    await asyncio.sleep(0.5)
    assert discord_fake.edit_limit_remaining == 0, "both 429s were answered"
    assert len(discord_fake.sent_to(DISCORD_USER)) == len(sent), "no part twice"
    assert all(len(m.content) <= MAX_MESSAGE_CHARS and not m.content.endswith(" …") for m in sent)
    assert sent[0].edits and all(not m.edits for m in sent[1:]), "the preview became the first part"
    assert " ".join(" ".join(m.content.split()) for m in sent) == " ".join(LONG.split())


async def test_slack_streams_into_one_message_that_ends_as_mrkdwn(
    start_slack: Callable[[], Awaitable[None]], slack_fake: FakeSlack, openai_fake: FakeOpenAI
) -> None:
    await start_slack()
    openai_fake.script.add(llm_script.streamed(STEPS, pieces=12, piece_delay_s=0.4))
    await slack_fake.push_dm(SLACK_USER, "live please", channel=DM)
    expected = " ".join(f"*step {i}* done &amp; checked." for i in range(40))
    [reply] = await _until(lambda: [p for p in slack_fake.posted_to(DM) if p.text == expected], "the answer")
    assert len(slack_fake.posted_to(DM)) == 1, "one message: the preview, updated into the reply"
    assert len(reply.edits) >= 3 and reply.edits[-1][0] == expected
    assert all(text.endswith(" …") for text, _at in reply.edits[:-1])
    gaps = _preview_gaps(reply.at, reply.edits)
    assert gaps and all(gap >= SLACK_FLOOR_S - 0.05 for gap in gaps), gaps


async def test_slack_long_answer_is_split_and_a_429_on_the_final_update_loses_nothing(
    start_slack: Callable[[], Awaitable[None]], slack_fake: FakeSlack, openai_fake: FakeOpenAI
) -> None:
    await start_slack()
    # Fast: the preview is posted, no edit is due before the answer is complete, and the answer's
    # chat.update meets the 429: it is retried after Retry-After, not dropped.
    slack_fake.rate_limit_next_updates(1, retry_after=1)
    openai_fake.script.add(llm_script.streamed(LONG, pieces=3, piece_delay_s=0.2))
    await slack_fake.push_dm(SLACK_USER, "long live please", channel=DM)
    posted = await _until(
        lambda: (p := slack_fake.posted_to(DM)) and len(p) >= 3 and p[-1].text.endswith("words") and p,
        "all parts",
    )
    await asyncio.sleep(1.5)
    assert slack_fake.update_limit_remaining == 0 and len(slack_fake.posted_to(DM)) == len(posted)
    assert all(len(p.text) <= MAX_TEXT_CHARS and not p.text.endswith(" …") for p in posted)
    assert [bool(p.edits) for p in posted] == [True] + [False] * (len(posted) - 1)
    assert " ".join(" ".join(p.text.split()) for p in posted) == " ".join(LONG.split())
