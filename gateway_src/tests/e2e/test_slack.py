"""The gateway as a subprocess on a Slack channel, against the fake Slack Web API + Socket Mode."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from picoclaw_gateway.config_validator import validate
from tests.conftest import BOT_TOKEN, OPENROUTER_KEY
from tests.e2e.conftest import SLACK_APP_TOKEN, SLACK_BOT_TOKEN, LaunchGateway, openrouter_llm
from tests.e2e.gateway_process import GATEWAY_SRC, GatewayProcess, free_port, gateway_env
from tests.fakes import llm_script
from tests.fakes._server import EMPTY_504, HTML_502
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import MAX_TEXT_CHARS, FakeSlack
from tests.fakes.telegram_api import FakeTelegram

ALLOWED = "U0ALLOWED01"
STRANGER = "U0STRANGER9"
DM = "D0ALLOWED01"
CHANNEL = "C0GENERAL01"
TELEGRAM_USER = 111

Start = Callable[..., Awaitable[GatewayProcess]]
Ask = Callable[..., Awaitable[str]]


def slack_channel(fake: FakeSlack) -> dict[str, Any]:
    return {
        "type": "slack",
        "bot_token": SLACK_BOT_TOKEN,
        "app_token": SLACK_APP_TOKEN,
        "allowed_users": [ALLOWED],
        "api_base": fake.api_base,
    }


@pytest.fixture(autouse=True)
def _api_base_reaches_the_channel(slack_fake: FakeSlack) -> None:
    """Fail fast (not with a 30 s timeout) if the config layer drops the slack channel's api_base."""
    config = {
        "llm": {"provider": "openrouter", "api_key": OPENROUTER_KEY, "model": "m"},
        "channels": [slack_channel(slack_fake)],
    }
    result = validate(config)
    assert result.valid, [str(e) for e in result.errors]
    assert result.normalized is not None
    if result.normalized["channels"][0]["api_base"] is None:
        pytest.fail(
            "config_validator drops channels[].api_base for slack: the gateway would dial the real service"
        )


@pytest.fixture
def start(launch_gateway: LaunchGateway, slack_fake: FakeSlack, openai_fake: FakeOpenAI) -> Start:
    async def start(channels: list[dict[str, Any]] | None = None) -> GatewayProcess:
        config = {"llm": openrouter_llm(openai_fake), "channels": channels or [slack_channel(slack_fake)]}
        connections = slack_fake.connections
        gateway = await launch_gateway(config)
        await gateway.wait_status("/ready", 200, wait_s=30)
        # This process's socket, not a previous one's.
        await slack_fake.wait_for_connections(connections + 1)
        await slack_fake.wait_connected()
        return gateway

    return start


@pytest.fixture
def ask(slack_fake: FakeSlack) -> Ask:
    async def ask(text: str, user: str = ALLOWED, wait_s: float = 15.0) -> str:
        before = len(slack_fake.posted_to(DM))
        await slack_fake.push_dm(user, text, channel=DM)
        sent = await slack_fake.wait_for_sent(before + 1, DM, wait_s=wait_s)
        return sent[before].text

    return ask


async def test_allowed_user_dm_is_answered_and_acked(
    start: Start, ask: Ask, slack_fake: FakeSlack, openai_fake: FakeOpenAI
) -> None:
    gateway = await start()
    assert await ask("hello slack") == "echo: hello slack"
    assert [r.last_user_text for r in openai_fake.script.requests] == ["hello slack"]
    [post] = slack_fake.posted_to(DM)
    assert post.thread_ts is None, "a DM is answered in the conversation itself"
    assert slack_fake.acks == [e["envelope_id"] for e in slack_fake.sent_envelopes]
    output = gateway.output()
    assert SLACK_BOT_TOKEN not in output and SLACK_APP_TOKEN not in output


async def test_mention_is_answered_in_its_thread_once(
    start: Start, slack_fake: FakeSlack, openai_fake: FakeOpenAI
) -> None:
    await start()
    # Delivered twice: as a channel message event and as app_mention.
    event = await slack_fake.push_mention(ALLOWED, "summarize please", CHANNEL, also_as_message=True)
    [reply] = await slack_fake.wait_for_sent(1, CHANNEL)
    assert reply.text == "echo: summarize please"
    assert reply.thread_ts == event["ts"]
    await slack_fake.wait_for_acks(2)
    # A follow-up mention inside the thread continues that thread's history.
    await slack_fake.push_mention(ALLOWED, "and more", CHANNEL, thread_ts=event["ts"])
    sent = await slack_fake.wait_for_sent(2, CHANNEL)
    assert sent[1].thread_ts == event["ts"]
    await asyncio.sleep(0.5)
    assert len(slack_fake.posted_to(CHANNEL)) == 2
    assert [r.last_user_text for r in openai_fake.script.requests] == ["summarize please", "and more"]
    contents = [m.get("content") for m in openai_fake.script.requests[-1].body["messages"]]
    assert "summarize please" in contents


async def test_retried_delivery_and_edits_are_not_answered_again(
    start: Start, ask: Ask, slack_fake: FakeSlack, openai_fake: FakeOpenAI
) -> None:
    await start()
    await slack_fake.push_dm(ALLOWED, "only once", channel=DM)
    await slack_fake.wait_for_sent(1, DM)
    await slack_fake.redeliver(slack_fake.sent_envelopes[-1])  # same event_id, new envelope
    await slack_fake.wait_for_acks(2)
    # An edit is a message event with a subtype: not a new question.
    edit = {"type": "message", "subtype": "message_changed", "channel_type": "im", "channel": DM,
            "ts": slack_fake.new_ts(), "message": {"user": ALLOWED, "text": "only once!"}}  # fmt: skip
    await slack_fake.push_event(edit)
    assert await ask("next") == "echo: next"
    assert [p.text for p in slack_fake.posted_to(DM)] == ["echo: only once", "echo: next"]
    assert [r.last_user_text for r in openai_fake.script.requests] == ["only once", "next"]


async def test_stranger_is_ignored_with_zero_llm_requests(
    start: Start, ask: Ask, slack_fake: FakeSlack, openai_fake: FakeOpenAI
) -> None:
    gateway = await start()
    await slack_fake.push_dm(STRANGER, "let me in", channel="D0STRANGER9")
    await slack_fake.push_mention(STRANGER, "me too", CHANNEL)
    assert await ask("after stranger") == "echo: after stranger"
    assert [r.last_user_text for r in openai_fake.script.requests] == ["after stranger"]
    assert slack_fake.posted_to("D0STRANGER9") == [] and slack_fake.posted_to(CHANNEL) == []
    assert len(slack_fake.acks) == 3, "strangers' envelopes are acknowledged too"
    assert f"id={STRANGER}" in gateway.output()


async def test_tool_call_writes_a_file(
    start: Start, ask: Ask, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    await start()
    openai_fake.script.add(
        llm_script.tool_call("write_file", {"path": "s/notes.txt", "content": "from slack"})
    )
    openai_fake.script.add(llm_script.text("saved"))
    assert await ask("save it") == "saved"
    assert (workspace / "s" / "notes.txt").read_text() == "from slack"


async def test_long_reply_is_split_in_order(
    start: Start, slack_fake: FakeSlack, openai_fake: FakeOpenAI
) -> None:
    await start()
    answer = "\n".join(f"line {i:04d} " + "abcdefghij" * 6 for i in range(200))
    assert len(answer) > 3 * MAX_TEXT_CHARS
    openai_fake.script.add(llm_script.text(answer))
    await slack_fake.push_dm(ALLOWED, "long please", channel=DM)
    await slack_fake.wait_for_sent(4, DM)
    await asyncio.sleep(0.5)
    chunks = [p.text for p in slack_fake.posted_to(DM)]
    assert all(len(c) < MAX_TEXT_CHARS for c in chunks)
    assert "\n".join(chunks) == answer, "chunks cut on line boundaries, in order"


async def test_markdown_is_posted_as_mrkdwn_and_split_within_the_limit(
    start: Start, slack_fake: FakeSlack, openai_fake: FakeOpenAI
) -> None:
    await start()
    bold = "**" + " ".join(f"w{i:04d} <&>" for i in range(900)) + "**"  # escaping grows it past the limit
    openai_fake.script.add(
        llm_script.text(f"See [docs](https://example.com/x) and `code`.\n\n{bold}\n\nDone.")
    )
    await slack_fake.push_dm(ALLOWED, "format please", channel=DM)
    while not any(p.text.endswith("Done.") for p in slack_fake.posted_to(DM)):
        await slack_fake.wait_for_sent(len(slack_fake.posted_to(DM)) + 1, DM)
    posts = slack_fake.posted_to(DM)
    assert all(p.mrkdwn and len(p.text) <= MAX_TEXT_CHARS for p in posts) and len(posts) >= 3
    assert posts[0].text.startswith("See <https://example.com/x|docs> and `code`.")
    for post in posts:
        for line in post.text.split("\n"):
            if "w0" in line:  # every piece of the bold span is bold on its own
                assert line.startswith("*w") and line.endswith("*"), line
    words = " ".join(p.text for p in posts)
    assert all(f"w{i:04d} &lt;&amp;&gt;" in words for i in range(900))


async def test_rate_limited_post_is_retried(start: Start, ask: Ask, slack_fake: FakeSlack) -> None:
    await start()
    slack_fake.rate_limit_next_posts(1, retry_after=1)
    assert await ask("rate limited") == "echo: rate limited"
    posts = [at for method, at in slack_fake.calls if method == "chat.postMessage"]
    assert len(posts) == 2 and posts[1] - posts[0] >= 0.9


async def test_reconnects_after_the_socket_drops_mid_session(
    start: Start, ask: Ask, slack_fake: FakeSlack
) -> None:
    await start()
    assert await ask("before drop") == "echo: before drop"
    connections = slack_fake.connections
    await slack_fake.drop_socket()
    await slack_fake.push_dm(ALLOWED, "while down", channel=DM)  # waits for the next socket
    sent = await slack_fake.wait_for_sent(2, DM, wait_s=40)
    assert sent[1].text == "echo: while down"
    assert slack_fake.connections > connections
    assert await ask("after drop") == "echo: after drop"


async def test_history_survives_a_restart(start: Start, ask: Ask, openai_fake: FakeOpenAI) -> None:
    first = await start()
    assert await ask("remember the word otter") == "echo: remember the word otter"
    assert await first.stop() == 0
    await start()
    assert await ask("which word") == "echo: which word"
    contents = [m.get("content") for m in openai_fake.script.requests[-1].body["messages"]]
    assert "remember the word otter" in contents and contents[-1] == "which word"


async def test_telegram_and_slack_in_one_gateway(
    start: Start, ask: Ask, slack_fake: FakeSlack, telegram: FakeTelegram
) -> None:
    telegram_channel = {
        "type": "telegram",
        "token": BOT_TOKEN,
        "allowed_users": [TELEGRAM_USER],
        "api_base": telegram.base_url,
    }
    await start([telegram_channel, slack_channel(slack_fake)])
    assert await ask("from slack") == "echo: from slack"
    await telegram.push_update(TELEGRAM_USER, "from telegram")
    [reply] = await telegram.wait_for_sent(1, chat_id=TELEGRAM_USER, wait_s=15)
    assert reply.text == "echo: from telegram"


async def test_standalone_fake_round_trip_over_http_control(
    tmp_path: Path, workspace: Path, openai_fake: FakeOpenAI
) -> None:
    """The fake as its own process (how a deployed gateway is tested), driven over its HTTP control API."""
    port = free_port()
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.slack_api", "--port", str(port),
        "--bot-token", SLACK_BOT_TOKEN, "--app-token", SLACK_APP_TOKEN,
        stdout=asyncio.subprocess.PIPE, cwd=GATEWAY_SRC, env=gateway_env(),
    )  # fmt: skip
    try:
        assert fake.stdout is not None
        line = await asyncio.wait_for(fake.stdout.readline(), 20)
        assert line.decode().split() == ["listening", "slack", f"http://127.0.0.1:{port}"]
        config = {
            "llm": {"provider": "openrouter", "api_key": OPENROUTER_KEY, "model": "test/model",
                    "api_base": f"{openai_fake.base_url}/api/v1"},
            "channel": {"type": "slack", "bot_token": SLACK_BOT_TOKEN, "app_token": SLACK_APP_TOKEN,
                        "allowed_users": [ALLOWED], "api_base": f"http://127.0.0.1:{port}/api"},
        }  # fmt: skip
        (tmp_path / "standalone.json").write_text(json.dumps(config))
        gateway = await GatewayProcess(tmp_path / "standalone.json", workspace, tmp_path).start()
        try:
            await gateway.wait_status("/ready", 200, wait_s=30)
            control = f"http://127.0.0.1:{port}/_control"
            async with aiohttp.ClientSession() as http:
                body = {"user": ALLOWED, "text": "over http", "channel": CHANNEL}
                async with http.post(f"{control}/mention", json=body) as r:
                    assert r.status == 200
                    thread = (await r.json())["ts"]
                query = {"channel": CHANNEL, "count": "1", "timeout": "15"}
                async with http.get(f"{control}/sent", params=query) as r:
                    assert r.status == 200
                    [posted] = await r.json()
                    assert (posted["text"], posted["thread_ts"]) == ("echo: over http", thread)
                async with http.get(f"{control}/acks") as r:
                    acks = await r.json()
                    assert len(acks["acked"]) == acks["sent"] == 1
        finally:
            assert await gateway.stop() == 0
    finally:
        fake.terminate()
        assert await fake.wait() == 0


async def test_rejected_app_token_keeps_gateway_up_but_not_ready(
    tmp_path: Path, workspace: Path, slack_fake: FakeSlack, openai_fake: FakeOpenAI
) -> None:
    channel = {**slack_channel(slack_fake), "app_token": SLACK_APP_TOKEN[:-4] + "ffff"}
    config = {
        "llm": {"provider": "openrouter", "api_key": OPENROUTER_KEY, "model": "test/model",
                "api_base": f"{openai_fake.base_url}/api/v1"},
        "channels": [channel],
    }  # fmt: skip
    (tmp_path / "bad.json").write_text(json.dumps(config))
    gateway = await GatewayProcess(tmp_path / "bad.json", workspace, tmp_path).start()
    try:
        await gateway.wait_status("/health", 200)
        for _ in range(100):
            if "slack rejected a token (invalid_auth)" in gateway.output():
                break
            await asyncio.sleep(0.1)
        assert "slack rejected a token (invalid_auth)" in gateway.output()
        assert await gateway.status("/ready") == 503
        assert slack_fake.connections == 0
        assert channel["app_token"] not in gateway.output()
    finally:
        assert await gateway.stop() == 0


def rich_text_dm(user: str, secret: str, ts: str) -> dict[str, Any]:
    """A DM whose text is an object: a shape the gateway cannot read as a message."""
    return {"type": "message", "channel_type": "im", "channel": DM, "user": user, "ts": ts,
            "text": {"rich": secret}}  # fmt: skip


async def test_undecodable_events_are_acknowledged_and_skipped(
    start: Start, ask: Ask, slack_fake: FakeSlack, openai_fake: FakeOpenAI
) -> None:
    gateway = await start()
    stranger = await slack_fake.push_event(rich_text_dm(STRANGER, "stranger-secret-31", slack_fake.new_ts()))
    owner = await slack_fake.push_event(rich_text_dm(ALLOWED, "owner-secret-59", slack_fake.new_ts()))
    assert await ask("after the poison") == "echo: after the poison"
    assert [r.last_user_text for r in openai_fake.script.requests] == ["after the poison"]
    acked = await slack_fake.wait_for_acks(3)
    assert {slack_fake.envelope_of(e)["envelope_id"] for e in (stranger, owner)} <= set(acked)
    output = gateway.output()
    assert f"skipped slack envelope {slack_fake.envelope_of(owner)['envelope_id']} (events_api)" in output
    assert "stranger-secret-31" not in output and "owner-secret-59" not in output


async def test_post_answered_by_a_502_html_page_then_an_empty_504_is_delivered_once(
    start: Start, ask: Ask, slack_fake: FakeSlack
) -> None:
    await start()
    slack_fake.fail_next("chat.postMessage", HTML_502, EMPTY_504)
    assert await ask("through the proxy") == "echo: through the proxy"
    assert len([m for m, _ in slack_fake.calls if m == "chat.postMessage"]) == 3
    assert [p.text for p in slack_fake.posted_to(DM)] == ["echo: through the proxy"]
