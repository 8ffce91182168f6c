"""Per-chat ordering and independence, commands, history persistence — with the real LLM fake."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace

from picoclaw_gateway.agent.loop import AgentLoop
from picoclaw_gateway.agent.tools import build_registry
from picoclaw_gateway.channels.base import Channel, IncomingMessage, OnMessage
from picoclaw_gateway.config import ChannelConfig, ExecConfig, LLMConfig
from picoclaw_gateway.core import ChatCore
from picoclaw_gateway.delivery import Journal
from picoclaw_gateway.delivery.outbox import Outbox
from picoclaw_gateway.providers.openai_compat import OpenAICompatProvider
from picoclaw_gateway.router import ChatRouter
from picoclaw_gateway.sessions import SessionStore
from tests.conftest import OPENROUTER_KEY
from tests.fakes import llm_script
from tests.fakes.openai_api import FakeOpenAI


class InMemoryChannel(Channel):
    """Our own channel interface, recording what the router sends."""

    name = "telegram"

    def __init__(self) -> None:
        super().__init__(ChannelConfig("telegram", "unused"))
        self.sent: list[tuple[str, str, float]] = []

    async def run(self, on_message: OnMessage) -> None:
        await asyncio.Event().wait()

    async def send_chunk(self, chat_id: str, text: str) -> None:
        self.sent.append((chat_id, text, time.monotonic()))

    async def wait_sent(self, count: int, wait_s: float = 10) -> None:
        deadline = time.monotonic() + wait_s
        while len(self.sent) < count:
            assert time.monotonic() < deadline, self.sent
            await asyncio.sleep(0.01)


def make_router(
    fake: FakeOpenAI, workspace: Path
) -> tuple[ChatRouter, InMemoryChannel, OpenAICompatProvider]:
    provider = OpenAICompatProvider(LLMConfig("openrouter", OPENROUTER_KEY, "m", fake.base_url + "/api/v1"))
    agent = AgentLoop(provider, build_registry(workspace, ExecConfig()), "sys", 5)
    channel = InMemoryChannel()
    journal = Journal(workspace.parent / f"{workspace.name}-state" / "journal")
    core = ChatCore(agent, SessionStore(workspace, 50), journal)
    router = ChatRouter(core, {channel.name: channel}, idle_timeout_s=0.3)
    return router, channel, provider


def msg(channel: Channel, chat: str, text: str) -> IncomingMessage:
    return IncomingMessage(channel, chat, "42", text)


async def test_slow_chat_does_not_block_another_and_order_is_kept(
    openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    openai_fake.script.add(llm_script.text("slow answer", delay_s=1.5), match="slow", times=1)
    router, channel, provider = make_router(openai_fake, tmp_path)
    await router.submit(msg(channel, "A", "slow question"))
    await router.submit(msg(channel, "A", "second in A"))
    await router.submit(msg(channel, "B", "quick in B"))
    await channel.wait_sent(3)
    order = [(chat, text) for chat, text, _ in channel.sent]
    assert order[0] == ("B", "echo: quick in B"), "B was not held up by A's slow answer"
    assert order[1:] == [("A", "slow answer"), ("A", "echo: second in A")], "A's replies in order"
    await router.shutdown(2)
    await provider.close()


async def test_history_commands_and_idle_worker_exit(openai_fake: FakeOpenAI, tmp_path: Path) -> None:
    router, channel, provider = make_router(openai_fake, tmp_path)
    await router.submit(msg(channel, "A", "remember me"))
    await channel.wait_sent(1)
    await router.submit(msg(channel, "A", "again"))
    await channel.wait_sent(2)
    # The second request carried the first exchange as history.
    contents = [m["content"] for m in openai_fake.script.requests[-1].body["messages"]]
    assert contents == ["sys", "remember me", "echo: remember me", "again"]
    await asyncio.sleep(0.6)
    assert router.active_chats == 0, "idle worker exited"
    # History survives the worker (and a restart): it is on disk.
    await router.submit(msg(channel, "A", "third"))
    await channel.wait_sent(3)
    assert len(openai_fake.script.requests[-1].body["messages"]) == 6
    await router.submit(msg(channel, "A", "/reset"))
    await router.submit(msg(channel, "A", "/help"))
    await router.submit(msg(channel, "A", "/start@PicoBot"))
    await router.submit(msg(channel, "A", "fresh"))
    await channel.wait_sent(7)
    texts = [t for _, t, _ in channel.sent[3:]]
    assert texts[0].startswith("History cleared")
    assert "/reset" in texts[1] and texts[2].startswith("Hello")
    assert [m["content"] for m in openai_fake.script.requests[-1].body["messages"]] == ["sys", "fresh"]
    await router.shutdown(2)
    await provider.close()


async def test_shutdown_finishes_in_flight_turn(openai_fake: FakeOpenAI, tmp_path: Path) -> None:
    openai_fake.script.add(llm_script.text("done late", delay_s=0.5), times=1)
    router, channel, provider = make_router(openai_fake, tmp_path)
    await router.submit(msg(channel, "A", "work"))
    await asyncio.sleep(0.1)
    await router.shutdown(5)
    assert [t for _, t, _ in channel.sent] == ["done late"]
    await provider.close()


class FlakyChannel(InMemoryChannel):
    """Splits at 10 characters; the send of one chosen part fails once with a transient error."""

    message_limit = 10

    def __init__(self, fail_part: str) -> None:
        super().__init__()
        self.fail_part = fail_part
        self.attempts: list[str] = []

    async def send_chunk(self, chat_id: str, text: str) -> None:
        self.attempts.append(text)
        if text == self.fail_part and self.attempts.count(text) == 1:
            raise ConnectionError("connection reset")  # not a refusal: tried again later
        await super().send_chunk(chat_id, text)


async def test_a_resumed_split_reply_sends_only_the_parts_not_recorded(tmp_path: Path) -> None:
    reply = "\n".join(f"part {n:04d}" for n in range(5))  # five 9-character parts
    channel = FlakyChannel(fail_part="part 0003")
    with Journal(tmp_path / "journal") as journal:
        received = SimpleNamespace(channel="telegram", chat_id="C", user_id="42", text="hi")
        entry_id = journal.record(received, "u1")
        assert entry_id is not None
        journal.reply_ready(entry_id, reply)
        journal.mark_part_sent(entry_id, 2)  # a previous run had sent parts 1 and 2, then died
        entry = journal.get(entry_id)
        assert entry is not None
        await Outbox(journal).deliver(entry, channel)
        assert journal.get(entry_id) is None, "finished"
    assert [text for _, text, _ in channel.sent] == ["part 0002", "part 0003", "part 0004"]
    assert channel.attempts == ["part 0002", "part 0003", "part 0003", "part 0004"], (
        "a failed part is tried again; parts accepted before it are not"
    )
    with Journal(tmp_path / "journal") as reopened:
        assert reopened.unfinished() == [] and reopened.seen("telegram", "u1")


async def test_history_is_read_inside_the_turn_slot_kept_while_queued_and_never_for_commands(
    openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    loads: list[tuple[str, bool]] = []  # (chat, whether the one turn slot was held while reading)

    class RecordingCore(ChatCore):
        def load_history(self, channel: str, chat_id: str) -> list[dict]:
            loads.append((chat_id, self._turns.locked()))
            return super().load_history(channel, chat_id)

    openai_fake.script.add(llm_script.text("slow answer", delay_s=1.0), match="slow", times=1)
    provider = OpenAICompatProvider(
        LLMConfig("openrouter", OPENROUTER_KEY, "m", openai_fake.base_url + "/api/v1")
    )
    agent = AgentLoop(provider, build_registry(tmp_path, ExecConfig()), "sys", 5)
    channel = InMemoryChannel()
    journal = Journal(tmp_path.parent / f"{tmp_path.name}-state" / "journal")
    core = RecordingCore(agent, SessionStore(tmp_path, 50), journal, max_concurrent_turns=1)
    router = ChatRouter(core, {channel.name: channel}, idle_timeout_s=5)
    await router.submit(msg(channel, "A", "slow question"))
    await router.submit(msg(channel, "A", "second in A"))  # queued behind it: A's history stays
    await router.submit(msg(channel, "B", "quick in B"))  # waits for the slot without a history
    for command in ("/help", "/start", "/reset"):
        await router.submit(msg(channel, "C", command))
    await channel.wait_sent(6)
    assert sorted(loads) == [("A", True), ("B", True)], loads
    # A's queue is empty now: its history was dropped and is read again for the next turn
    # (after the worker has recorded the last send; a message queued before that keeps it).
    await asyncio.sleep(0.5)
    await router.submit(msg(channel, "A", "third in A"))
    await channel.wait_sent(7)
    assert loads[-1] == ("A", True) and len(loads) == 3, loads
    contents = [m["content"] for m in openai_fake.script.requests[-1].body["messages"]]
    assert contents == [
        "sys",
        "slow question",
        "slow answer",
        "second in A",
        "echo: second in A",
        "third in A",
    ]
    await router.shutdown(2)
    await provider.close()
