"""Drive the escape attempts through the gateway's `exec` tool, as a hijacked LLM would call it.

Talks to the test simulator's HTTP control API (gateway_src/tests/fakes): the fake LLM is scripted to answer
a user's message with exec tool calls, the fake Telegram delivers that message, and the tool results are
read back from the conversation the gateway sent to the fake LLM. Standard library only, so it also runs
on the molecule host.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from attempts import Attempt

BATCH = 10  # tool calls answered to one message; below the agent's max_tool_iterations (20)


def http(url: str, body: Any = None, timeout: float = 180) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the simulator is local: no proxy
    with opener.open(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


@dataclass(frozen=True)
class Simulator:
    telegram: str  # base URL of the fake Telegram Bot API
    llm: str  # base URL of the fake OpenAI-compatible API
    user_id: int  # an allowed user of the gateway

    def sent(self, count: int = 0, timeout: float = 1) -> list[dict[str, Any]]:
        return list(http(f"{self.telegram}/_control/sent?count={count}&chat_id={self.user_id}&timeout={timeout}"))

    def ask(self, text: str, tool_calls: Sequence[dict[str, Any]] = (), wait_s: float = 150) -> str:
        """Send `text` as the user; the fake LLM first answers with `tool_calls` one by one. Returns the reply."""
        if tool_calls:
            http(f"{self.llm}/_control/script", [{"match": text, "times": 1, "tool_calls": [call]} for call in tool_calls])
        before = len(self.sent())
        http(f"{self.telegram}/_control/updates", {"user_id": self.user_id, "text": text})
        return str(self.sent(before + 1, timeout=wait_s)[-1]["text"])

    def tool_results(self) -> dict[str, str]:
        """exec command -> tool result text, from the conversations the gateway sent to the fake LLM."""
        commands: dict[str, str] = {}
        results: dict[str, str] = {}
        for request in http(f"{self.llm}/_control/requests"):
            for message in request["body"].get("messages", []):
                for call in message.get("tool_calls") or []:
                    commands[call["id"]] = json.loads(call["function"]["arguments"]).get("command", "")
                if message.get("role") == "tool" and message.get("tool_call_id") in commands:
                    results[commands[message["tool_call_id"]]] = str(message.get("content"))
        return results


def run_through_exec_tool(simulator: Simulator, attempts: Sequence[Attempt]) -> dict[Attempt, str]:
    """Each attempt's tool result (its output and exit code) as the LLM received it."""
    for start in range(0, len(attempts), BATCH):
        calls = [{"name": "exec", "arguments": {"command": a.command}} for a in attempts[start : start + BATCH]]
        simulator.ask(f"escape batch {start}", calls)
    results = simulator.tool_results()
    return {a: results.get(a.command, "no tool result recorded") for a in attempts}
