"""Tool calls through the OpenAI-compatible protocol, and recovery from provider/Telegram errors."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import OPENAI_KEY
from tests.e2e.conftest import ALLOWED_USER, AskFn, StartGateway
from tests.e2e.gateway_process import GatewayProcess
from tests.fakes import llm_script
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram


async def test_write_file_tool_call_leaves_the_file_in_the_workspace(
    gateway: GatewayProcess, ask: AskFn, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    content = "first line\nsecond line with ünïcode\n"
    openai_fake.script.add(llm_script.tool_call("write_file", {"path": "notes/todo.txt", "content": content}))
    openai_fake.script.add(llm_script.text("I saved your notes."))
    assert await ask("save my notes") == "I saved your notes."
    assert (workspace / "notes" / "todo.txt").read_text(encoding="utf-8") == content
    first, second = openai_fake.script.requests
    assert {t["function"]["name"] for t in first.body["tools"]} >= {"write_file", "read_file", "list_dir"}
    tool_messages = [m for m in second.body["messages"] if m["role"] == "tool"]
    assert len(tool_messages) == 1 and tool_messages[0]["tool_call_id"]
    assistant = [m for m in second.body["messages"] if m["role"] == "assistant"]
    assert assistant[-1]["tool_calls"][0]["function"]["name"] == "write_file"


async def test_tools_cannot_write_outside_the_workspace(
    gateway: GatewayProcess, ask: AskFn, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    escape = workspace.parent / "escaped.txt"
    openai_fake.script.add(llm_script.tool_call("write_file", {"path": "../escaped.txt", "content": "x"}))
    openai_fake.script.add(llm_script.tool_call("write_file", {"path": str(escape), "content": "x"}))
    openai_fake.script.add(llm_script.text("tried"))
    assert await ask("escape please") == "tried"
    assert not escape.exists()
    results = [m["content"] for m in openai_fake.script.requests[-1].body["messages"] if m["role"] == "tool"]
    assert len(results) == 2 and all("workspace" in r.lower() for r in results), results


async def test_telegram_flood_control_is_retried(
    gateway: GatewayProcess, ask: AskFn, telegram: FakeTelegram
) -> None:
    telegram.flood_next_sends(1, retry_after=1)
    assert await ask("flood me") == "echo: flood me"
    sends = telegram.calls_to("sendMessage")
    assert len(sends) == 2 and sends[1].at - sends[0].at >= 0.9, "must wait retry_after before resending"


async def test_provider_401_tells_the_user_and_gateway_stays_up(
    gateway: GatewayProcess, ask: AskFn, openai_fake: FakeOpenAI
) -> None:
    openai_fake.script.add(llm_script.error(401, "Invalid API key"), times=None)
    answer = await ask("hello?")
    assert "key" in answer.lower() and "echo" not in answer
    assert len(openai_fake.script.requests) == 1, "a rejected key must not be retried"
    assert await gateway.status("/health") == 200
    openai_fake.script.clear()
    assert await ask("and now?") == "echo: and now?"


async def test_provider_429_and_500_are_retried_transparently(
    gateway: GatewayProcess, ask: AskFn, openai_fake: FakeOpenAI
) -> None:
    openai_fake.script.add(llm_script.error(429, "slow down", retry_after=1))
    openai_fake.script.add(llm_script.error(500, "boom"))
    assert await ask("are you there", wait_s=20) == "echo: are you there"
    assert len(openai_fake.script.requests) == 3
    first, second, _third = openai_fake.script.requests
    assert second.received_at - first.received_at >= 0.9, "Retry-After must be honoured"


async def test_openai_provider_round_trip(
    start_gateway: StartGateway, ask: AskFn, openai_fake: FakeOpenAI
) -> None:
    await start_gateway("openai")
    assert await ask("via openai", user=ALLOWED_USER) == "echo: via openai"
    [request] = openai_fake.script.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert request.body["model"] == "gpt-test"


async def test_exec_tool_runs_in_the_workspace(
    gateway: GatewayProcess, ask: AskFn, openai_fake: FakeOpenAI, workspace: Path
) -> None:
    openai_fake.script.add(llm_script.tool_call("exec", {"command": "pwd && echo made > made.txt"}))
    openai_fake.script.add(llm_script.text("ran it"))
    assert await ask("run pwd") == "ran it"
    [result] = [m["content"] for m in openai_fake.script.requests[-1].body["messages"] if m["role"] == "tool"]
    assert str(workspace) in result  # tmp_path is already a resolved path
    assert (workspace / "made.txt").read_text().strip() == "made"
