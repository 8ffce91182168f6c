"""The agent loop: system prompt + history + user message -> provider -> tools -> answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from picoclaw_gateway.agent.tools.base import ToolRegistry
from picoclaw_gateway.providers.base import Provider, ProviderAuthError, ProviderError
from picoclaw_gateway.providers.retry import RetryPolicy, with_retry

log = logging.getLogger(__name__)

Message = dict[str, Any]


@dataclass(slots=True)
class TurnResult:
    reply: str
    new_messages: list[Message] = field(default_factory=list)  # to persist; empty when the turn failed


class AgentLoop:
    def __init__(
        self,
        provider: Provider,
        tools: ToolRegistry,
        system_prompt: str,
        max_tool_iterations: int,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.provider = provider
        self.tools = tools
        self.system_prompt = system_prompt
        self.max_tool_iterations = max_tool_iterations
        self.retry_policy = retry_policy or RetryPolicy()

    async def run_turn(self, history: list[Message], user_text: str) -> TurnResult:
        new: list[Message] = [{"role": "user", "content": user_text}]
        specs = self.tools.specs()
        try:
            for iteration in range(self.max_tool_iterations + 1):
                conversation = history + new
                response = await with_retry(
                    lambda conversation=conversation: self.provider.chat(
                        self.system_prompt, conversation, specs
                    ),
                    self.retry_policy,
                )
                if not response.tool_calls:
                    reply = response.text.strip() or "(the model returned an empty answer)"
                    new.append({"role": "assistant", "content": response.text})
                    return TurnResult(reply, new)
                if iteration == self.max_tool_iterations:
                    break  # budget spent: do not run more tools
                new.append(
                    {
                        "role": "assistant",
                        "content": response.text,
                        "tool_calls": [
                            {"id": c.id, "name": c.name, "arguments": c.arguments}
                            for c in response.tool_calls
                        ],
                    }
                )
                for call in response.tool_calls:
                    log.info("tool call %s", call.name)
                    result = await self.tools.run(call.name, call.arguments)
                    new.append(
                        {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": result}
                    )
        except ProviderAuthError as exc:
            log.error("%s", exc)
            return TurnResult(f"Sorry, {exc}.")
        except ProviderError as exc:
            log.warning("LLM call failed: %s", exc)
            return TurnResult(f"Sorry, I could not reach the language model: {exc}. Please try again later.")
        stopped = (
            f"I stopped after {self.max_tool_iterations} tool steps without reaching a final answer. "
            "Ask me to continue if you want me to keep going."
        )
        new.append({"role": "assistant", "content": stopped})
        return TurnResult(stopped, new)
