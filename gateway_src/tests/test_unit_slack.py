"""Slack channel pieces that need no network: dedupe cache, which events are answered where."""

from __future__ import annotations

from picoclaw_gateway.channels.base import is_allowed
from picoclaw_gateway.channels.slack import RecentKeys, SlackChannel, chat_for, reply_chunks, slack_unescape
from picoclaw_gateway.config import ChannelConfig


def test_recent_keys_detect_repeats_and_stay_bounded() -> None:
    recent = RecentKeys(size=3)
    assert not recent.seen("a", "event:1")
    assert recent.seen("a")
    assert recent.seen("x", "event:1"), "any shared key is a duplicate"
    for key in ("b", "c", "d", "e"):
        recent.seen(key)
    assert len(recent._keys) == 3
    assert not recent.seen("a"), "oldest keys are forgotten"


def test_dm_is_answered_in_the_conversation() -> None:
    event = {"type": "message", "channel_type": "im", "channel": "D1", "ts": "1.1", "user": "U1"}
    assert chat_for(event) == "D1"
    assert chat_for({**event, "thread_ts": "0.5"}) == "D1:0.5"


def test_mention_is_answered_in_its_thread() -> None:
    event = {"type": "app_mention", "channel": "C1", "ts": "2.2", "user": "U1"}
    assert chat_for(event) == "C1:2.2"
    assert chat_for({**event, "thread_ts": "1.0"}) == "C1:1.0"


def test_channel_messages_go_to_their_thread_and_are_answered_only_when_addressed() -> None:
    event = {"type": "message", "channel_type": "channel", "channel": "C1", "ts": "1.5", "user": "U1"}
    assert chat_for(event) == "C1:1.5"  # the same chat as the app_mention of that message
    assert chat_for({"type": "reaction_added", "channel": "C1"}) is None
    channel = SlackChannel(ChannelConfig("slack", "xoxb-1-2-abc", app_token="xapp-1-A-1-abc"))
    channel._bot_user_id = "UBOT"
    assert not channel._addressed({**event, "text": "chatter"})
    assert channel._addressed({**event, "text": "<@UBOT> hi"})
    assert channel._addressed({"type": "app_mention", "channel": "C1", "text": "hi"})
    assert channel._addressed({**event, "text": "more", "thread_ts": "1.0", "parent_user_id": "UBOT"})
    assert not channel._addressed({**event, "text": "more", "thread_ts": "1.0", "parent_user_id": "U2"})
    listed = SlackChannel(
        ChannelConfig(
            "slack", "xoxb-1-2-abc", app_token="xapp-1-A-1-abc", group_mode="all", allowed_groups=("C2",)
        )
    )
    assert listed._addressed({**event, "channel": "C2", "text": "no mention needed"})
    assert not listed._addressed({**event, "text": "<@UBOT> not an allowed channel"})


def test_allowed_users_by_slack_id() -> None:
    assert is_allowed(("U0ALLOWED01",), "U0ALLOWED01")
    assert not is_allowed(("U0ALLOWED01",), "U0STRANGER9")
    assert is_allowed((), "U0ANYONE001")


def test_replies_are_escaped_and_stay_under_the_limit() -> None:
    text = "\n".join(["<!channel> & friends > all"] * 50 + ["&" * 5000])
    chunks = reply_chunks(text, limit=3900)
    assert all(len(c) <= 3900 for c in chunks)
    assert "<" not in "".join(chunks) and "&lt;!channel&gt;" in chunks[0]
    assert slack_unescape("".join(chunks)).replace("\n", "") == text.replace("\n", "")


def test_incoming_entities_are_unescaped() -> None:
    assert slack_unescape("a &lt;b&gt; &amp;amp;") == "a <b> &amp;"
