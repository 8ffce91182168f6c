"""Limits set in the config file change what the running gateway does (defaults: test_llm_bounds)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import AskFn, StartGateway
from tests.e2e.test_llm_bounds import wait_for_text
from tests.fakes import llm_script
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram
from tests.sandbox.conftest import start_sandbox, stop


async def test_configured_limits_cut_replies_bodies_history_and_file_reads(
    start_gateway: StartGateway,
    ask: AskFn,
    telegram: FakeTelegram,
    openai_fake: FakeOpenAI,
    workspace: Path,
    tmp_path: Path,
) -> None:
    socket = tmp_path / "sandbox" / "tools.sock"
    socket.parent.mkdir()
    sandbox = await start_sandbox(socket, workspace)  # the "container" named by tools.sandbox.socket
    try:
        gateway = await start_gateway(
            extra={
                "llm": {"max_response_bytes": 65536},
                "agent": {"max_reply_chars": 200, "history_max_chars": 1000},
                "tools": {"files": {"max_read_chars": 1000}, "sandbox": {"socket": str(socket)}},
            }
        )
        assert f"tools run in the sandbox at {socket}" in gateway.output()
        assert "tools are not isolated" not in gateway.output()

        # agent.max_reply_chars: a 1,000-character answer arrives cut at 200, with the note.
        openai_fake.script.add(llm_script.text("a" * 1000))
        assert await ask("long answer please") == "a" * 200 + "\n\n[reply cut: 800 more characters not shown]"

        # llm.max_response_bytes: a 200 KB body is read only up to 64 KiB, and the note says so.
        openai_fake.script.add(llm_script.text("b" * 200_000))
        await telegram.push_update(111, "huge answer please")
        sent = await wait_for_text(telegram, "larger than 64 KiB")
        assert sent[-1].text.startswith("b" * 200) and "[reply cut:" in sent[-1].text

        # tools.files.max_read_chars, enforced by the sandbox at tools.sandbox.socket.
        (workspace / "big.txt").write_text("c" * 5000)
        openai_fake.script.add(llm_script.tool_call("read_file", {"path": "big.txt"}))
        openai_fake.script.add(llm_script.text("read"))
        assert await ask("read big.txt") == "read"
        tool_result = openai_fake.script.requests[-1].body["messages"][-1]
        assert tool_result["role"] == "tool"
        assert tool_result["content"] == "c" * 1000 + "\n[truncated at 1000 characters]"

        # agent.history_max_chars: the next request carries at most ~1,000 characters of history.
        assert await ask("short") == "echo: short"
        history = openai_fake.script.requests[-1].body["messages"][1:-1]  # no system prompt, no new message
        assert sum(len(json.dumps(m["content"])) for m in history) <= 1100, history
    finally:
        await stop(sandbox)
