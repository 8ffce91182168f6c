"""The LLM is untrusted input: huge answers, echoed secrets, odd shapes, too-long conversations."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import ANTHROPIC_KEY, OPENROUTER_KEY
from tests.e2e.conftest import ALLOWED_USER, AskFn, StartGateway
from tests.e2e.gateway_process import GatewayProcess
from tests.fakes import llm_script
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram, SentMessage

CONTAINER_LIMIT_MB = 128
CUT_NOTE = "the model's response was larger than"


def peak_rss_mb(pid: int) -> float:
    """VmHWM (the highest RSS the process ever had) from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM in /proc/{pid}/status")


async def wait_for_text(
    telegram: FakeTelegram, needle: str, chat: int = ALLOWED_USER, wait_s: float = 60.0
) -> list[SentMessage]:
    """Every message sent to `chat` until one contains `needle`."""
    deadline = time.monotonic() + wait_s
    while True:
        sent = telegram.sent_to(chat)
        if any(needle in m.text for m in sent):
            return sent
        await telegram.wait_for_sent(
            len(sent) + 1, chat_id=chat, wait_s=max(0.1, deadline - time.monotonic())
        )


def request_chars(body: dict) -> int:
    return len(json.dumps(body))


@pytest.mark.parametrize("provider", ["openrouter", "anthropic"])
async def test_a_20_mb_reply_is_cut_and_memory_stays_under_the_container_limit(
    provider: str,
    start_gateway: StartGateway,
    ask: AskFn,
    telegram: FakeTelegram,
    openai_fake: FakeOpenAI,
    anthropic_fake: FakeAnthropic,
) -> None:
    gateway = await start_gateway(provider)
    fake = anthropic_fake if provider == "anthropic" else openai_fake
    huge = ("all work and no play makes a dull bot " * 3 + "\n") * (20 * 2**20 // 115)
    assert len(huge) >= 20 * 10**6
    fake.script.add(llm_script.text(huge))
    await telegram.push_update(ALLOWED_USER, "tell me everything")
    sent = await wait_for_text(telegram, CUT_NOTE)
    peak = peak_rss_mb(gateway.pid)
    print(f"{provider}: 20 MB reply -> {len(sent)} messages, gateway peak RSS {peak:.1f} MB")
    assert peak < CONTAINER_LIMIT_MB, f"peak RSS {peak:.1f} MB"
    assert 1 < len(sent) <= 12, "a cut reply of ~32k characters, not thousands of messages"
    assert sent[0].text.startswith("all work and no play")
    assert sum(len(m.text) for m in sent) < 34_000
    # The gateway is still fine, and the next turn's request carries the cut answer, not 20 MB.
    assert await ask("still there?") == "echo: still there?"
    assert request_chars(fake.script.requests[-1].body) < 40_000


async def test_a_provider_error_echoing_the_api_key_is_masked_in_the_chat(
    gateway: GatewayProcess, ask: AskFn, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    openai_fake.script.add(llm_script.error(400, f"invalid request made with key {OPENROUTER_KEY}"))
    answer = await ask("hello")
    assert "***" in answer and OPENROUTER_KEY not in answer, answer
    assert "invalid request made with key" in answer
    # A reply the LLM writes with the key in it is masked too, in the chat and in the session file.
    openai_fake.script.add(llm_script.text(f"your key is {OPENROUTER_KEY}, keep it safe"))
    assert await ask("what is my key?") == "your key is ***, keep it safe"
    sessions = "".join(p.read_text() for p in (workspace.parent / "state" / "sessions").iterdir())
    assert "keep it safe" in sessions and OPENROUTER_KEY not in sessions
    assert OPENROUTER_KEY not in gateway.output()


async def test_anthropic_error_echoing_the_api_key_is_masked_in_the_chat(
    start_gateway: StartGateway, ask: AskFn, anthropic_fake: FakeAnthropic
) -> None:
    await start_gateway("anthropic")
    anthropic_fake.script.add(llm_script.error(400, f"bad request for x-api-key {ANTHROPIC_KEY}"))
    answer = await ask("hello")
    assert "***" in answer and ANTHROPIC_KEY not in answer, answer


def completion(message: object, **extra: object) -> dict:
    return {"choices": [{"message": message, **extra}]}


async def test_openai_compatible_shapes_real_servers_send(
    gateway: GatewayProcess, ask: AskFn, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    # content as a list of parts (strings, text and output_text parts; an image part is skipped)
    parts = [
        {"type": "text", "text": "Hello "},
        {"type": "image_url", "image_url": {"url": "data:,"}},
        "from ",
        {"type": "output_text", "text": "parts"},
    ]
    openai_fake.script.add(llm_script.raw(completion({"role": "assistant", "content": parts})))
    assert await ask("parts?") == "Hello from parts"
    # message as a plain string; no id, usage, finish_reason or role anywhere
    openai_fake.script.add(llm_script.raw(completion("just a string")))
    assert await ask("string?") == "just a string"
    # a tool call with only a function name and arguments (no id, no type), content missing
    (workspace / "seen.txt").write_text("seen it")
    call = {"function": {"name": "read_file", "arguments": json.dumps({"path": "seen.txt"})}}
    openai_fake.script.add(llm_script.raw(completion({"tool_calls": [call]})))
    openai_fake.script.add(llm_script.text("read it"))
    assert await ask("read seen.txt") == "read it"
    tool_results = [m for m in openai_fake.script.requests[-1].body["messages"] if m["role"] == "tool"]
    assert tool_results[-1]["content"] == "seen it"
    # a tool call without arguments at all: the tool runs with {} and reports what is missing
    openai_fake.script.add(llm_script.raw(completion({"tool_calls": [{"function": {"name": "list_dir"}}]})))
    openai_fake.script.add(llm_script.text("listed"))
    assert await ask("list") == "listed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (completion({"tool_calls": [{"id": "c1", "function": {"arguments": "{}"}}]}), "function.name"),
        (completion({"tool_calls": [{"id": "c1", "type": "function"}]}), "tool_calls[0].function"),
        (completion({"content": 42}), "choices[0].message.content"),
        ({"object": "chat.completion"}, "choices"),
    ],
)
async def test_unusable_openai_shapes_are_named_in_a_clear_error(
    body: dict, field: str, gateway: GatewayProcess, ask: AskFn, openai_fake: FakeOpenAI
) -> None:
    openai_fake.script.add(llm_script.raw(body))
    answer = await ask("go")
    assert field in answer and "fix:" in answer, answer
    assert "Traceback" not in gateway.output()
    assert await ask("and now?") == "echo: and now?"


async def test_context_length_error_drops_old_turns_and_retries_once(
    gateway: GatewayProcess, ask: AskFn, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    for n in range(4):
        assert await ask(f"turn {n}") == f"echo: turn {n}"
    too_long = "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens."
    openai_fake.script.add(llm_script.error(400, too_long))
    before = len(openai_fake.script.requests)
    assert await ask("turn 4") == "echo: turn 4"
    failed, retried = openai_fake.script.requests[before:]
    assert len(retried.body["messages"]) < len(failed.body["messages"])
    assert retried.body["messages"][-1] == {"role": "user", "content": "turn 4"}
    users = [m["content"] for m in retried.body["messages"] if m["role"] == "user"]
    assert "turn 0" not in users and "turn 3" in users, users
    # The shortened history sticks: the next turn does not send the dropped turns again (an idle
    # chat's history is read from disk, so the shortening is stored there too).
    assert await ask("turn 5") == "echo: turn 5"
    users = [m["content"] for m in openai_fake.script.requests[-1].body["messages"] if m["role"] == "user"]
    assert "turn 0" not in users
    stored = (workspace.parent / "state" / "sessions" / f"telegram_{ALLOWED_USER}.jsonl").read_text()
    assert '"turn 0"' not in stored and '"turn 5"' in stored
    # Still too long after dropping: one retry only, then the user is told plainly what to do.
    openai_fake.script.add(llm_script.error(413, "request too large"), times=None)
    before = len(openai_fake.script.requests)
    answer = await ask("turn 6")
    assert "too long" in answer and "/reset" in answer, answer
    assert len(openai_fake.script.requests) - before == 2


async def test_a_huge_reply_in_history_does_not_block_later_turns(
    start_gateway: StartGateway,
    ask: AskFn,
    openai_fake: FakeOpenAI,
    telegram: FakeTelegram,
    workspace: Path,
) -> None:
    # A 1.1 MB answer stored by an older gateway (before replies were cut, in the workspace, where
    # histories were kept before the state directory: moved there on start) ...
    sessions = workspace / "sessions"
    sessions.mkdir()
    old = [{"role": "user", "content": "write a novel"}, {"role": "assistant", "content": "n" * 1_100_000}]
    (sessions / f"telegram_{ALLOWED_USER}.jsonl").write_text("".join(json.dumps(m) + "\n" for m in old))
    await start_gateway()
    assert await ask("short question") == "echo: short question"
    assert request_chars(openai_fake.script.requests[-1].body) < 100_000
    # ... and one the LLM sends now (under the body cap, over the reply limit).
    openai_fake.script.add(llm_script.text("m" * 1_100_000))
    await telegram.push_update(ALLOWED_USER, "another novel please")
    sent = await wait_for_text(telegram, "[reply cut:")
    assert sent[1].text.startswith("mmm") and len(sent) <= 12
    for n in range(3):
        assert await ask(f"later {n}") == f"echo: later {n}"
        assert request_chars(openai_fake.script.requests[-1].body) < 100_000
