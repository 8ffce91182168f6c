"""The same conversation through the Anthropic Messages protocol (one shared gateway)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ANTHROPIC_KEY
from tests.e2e.conftest import AskFn
from tests.e2e.gateway_process import GatewayProcess
from tests.fakes import llm_script
from tests.fakes.anthropic_api import FakeAnthropic


async def test_anthropic_reply(
    anthropic_gateway: GatewayProcess, ask: AskFn, anthropic_fake: FakeAnthropic
) -> None:
    assert await ask("bonjour") == "echo: bonjour"
    [request] = anthropic_fake.script.requests
    assert request.headers["x-api-key"] == ANTHROPIC_KEY
    assert request.headers["anthropic-version"]
    assert request.body["model"] == "claude-test"
    assert request.body["messages"][-1]["role"] == "user"
    assert isinstance(request.body.get("system"), str | list) and request.body["system"]


async def test_anthropic_tool_use_writes_the_file(
    anthropic_gateway: GatewayProcess, ask: AskFn, anthropic_fake: FakeAnthropic, workspace: Path
) -> None:
    anthropic_fake.script.add(llm_script.tool_call("write_file", {"path": "a.md", "content": "# hi\n"}))
    anthropic_fake.script.add(llm_script.text("written"))
    assert await ask("write a.md") == "written"
    assert (workspace / "a.md").read_text() == "# hi\n"
    first, second = anthropic_fake.script.requests
    assert {t["name"] for t in first.body["tools"]} >= {"write_file", "read_file"}
    last_turn = second.body["messages"][-1]
    assert last_turn["role"] == "user"
    assert [b["type"] for b in last_turn["content"]] == ["tool_result"]
    tool_use = second.body["messages"][-2]["content"]
    assert any(
        b["type"] == "tool_use" and b["id"] == last_turn["content"][0]["tool_use_id"] for b in tool_use
    )


async def test_anthropic_401_tells_the_user(
    anthropic_gateway: GatewayProcess, ask: AskFn, anthropic_fake: FakeAnthropic
) -> None:
    gateway = anthropic_gateway
    anthropic_fake.script.add(llm_script.error(401, "invalid x-api-key"), times=None)
    answer = await ask("hi")
    assert "key" in answer.lower()
    assert await gateway.status("/health") == 200
    anthropic_fake.script.clear()
    assert await ask("again") == "echo: again"


async def test_anthropic_529_then_ok_is_retried(
    anthropic_gateway: GatewayProcess, ask: AskFn, anthropic_fake: FakeAnthropic
) -> None:
    anthropic_fake.script.add(llm_script.error(529, "Overloaded"))
    assert await ask("busy?", wait_s=20) == "echo: busy?"
    assert len(anthropic_fake.script.requests) == 2
