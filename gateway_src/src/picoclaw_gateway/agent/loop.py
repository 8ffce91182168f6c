"""The agent loop: system prompt + history + user message -> provider -> tools -> answer.

Everything the LLM returns is untrusted input: its text is cut at agent.max_reply_chars, secrets are
masked out of everything the turn produces (reply, stored messages, what the next request sends),
and a "conversation too long" answer drops the oldest turns and retries once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from picoclaw_gateway.agent.tools.base import Tool, ToolRegistry
from picoclaw_gateway.config_validator import DEFAULTS
from picoclaw_gateway.logging_setup import mask_secrets
from picoclaw_gateway.providers.base import (
    TRUNCATED_NOTE,
    ContextTooLongError,
    LLMResponse,
    OnText,
    Provider,
    ProviderAuthError,
    ProviderError,
    RetryableProviderError,
    format_size,
)
from picoclaw_gateway.providers.retry import RetryPolicy, with_retry
from picoclaw_gateway.sessions import drop_oldest_turns

log = logging.getLogger(__name__)

Message = dict[str, Any]

FALLBACK_NOTE = "\n\n(answered by the fallback model `{model}`)"
TOO_LONG_REPLY = (
    "Sorry, this conversation is too long for the language model, even after I dropped the older "
    "messages. Send /reset to start fresh, or send a shorter message."
)


def clean_text(text: str, max_chars: int) -> str:
    """LLM text made safe to pass on: cut at `max_chars` with a visible note, no lone
    surrogates (they cannot be encoded to send or store), secrets masked."""
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n\n[reply cut: {len(text) - max_chars:,} more characters not shown]"
    return mask_secrets(text.encode("utf-8", "replace").decode("utf-8"))


def _masked(content: str | list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return mask_secrets(content)
    return [
        {**part, "text": mask_secrets(part["text"])} if part.get("type") == "text" else part
        for part in content
    ]


@dataclass(slots=True)
class TurnResult:
    reply: str
    new_messages: list[Message] = field(default_factory=list)  # to persist; empty when the turn failed
    tokens: int = 0  # what the provider reported for this turn's requests (budgets)


class AgentLoop:
    def __init__(
        self,
        provider: Provider,
        tools: ToolRegistry,
        system_prompt: str,
        max_tool_iterations: int,
        retry_policy: RetryPolicy | None = None,
        *,
        max_reply_chars: int = DEFAULTS["max_reply_chars"],
        max_response_bytes: int = DEFAULTS["llm_max_response_bytes"],
    ) -> None:
        self.provider = provider
        self.tools = tools
        self.system_prompt = system_prompt
        self.max_tool_iterations = max_tool_iterations
        self.retry_policy = retry_policy or RetryPolicy()
        self.max_reply_chars = max_reply_chars  # agent.max_reply_chars
        self.max_response_bytes = max_response_bytes  # llm.max_response_bytes, for the cut note

    def _answer_text(self, response: LLMResponse) -> str:
        text = clean_text(response.text, self.max_reply_chars)
        if response.truncated:
            text += "\n\n" + TRUNCATED_NOTE.format(size=format_size(self.max_response_bytes))
        return text

    async def _complete(
        self,
        system: str,
        conversation: list[Message],
        specs: list[dict[str, Any]],
        on_text: OnText | None = None,
    ) -> LLMResponse:
        def call() -> Awaitable[LLMResponse]:
            if on_text is None:
                return self.provider.chat(system, conversation, specs)
            return self.provider.chat_stream(system, conversation, specs, on_text)

        if self.provider.handles_retries:
            return await call()
        return await with_retry(call, self.retry_policy)

    async def run_turn(
        self,
        history: list[Message],
        user_text: str | list[dict[str, Any]],
        *,
        system_extra: str = "",
        extra_tools: list[Tool] | None = None,
        on_text: OnText | None = None,
    ) -> TurnResult:
        """One turn. When the provider says the conversation is too long, the oldest turns are
        removed from `history` *in place* (so the caller's cached history stays shortened) and
        the request is retried once. `system_extra` is appended to the system prompt and
        `extra_tools` join the tools for this turn only (a chat's own notes and memory tool).
        `user_text` may be a list of parts (text and image, see media/turn.py). `on_text` (live
        replies) gets each answer's text as it arrives, unmasked and uncut: its receiver masks
        what it shows."""
        new: list[Message] = [{"role": "user", "content": _masked(user_text)}]
        tools = ToolRegistry(self.tools.tools() + extra_tools) if extra_tools else self.tools
        system = self.system_prompt + system_extra
        specs = tools.specs()
        shortened = False
        tokens = 0
        try:
            iteration = 0
            while iteration <= self.max_tool_iterations:
                try:
                    response = await self._complete(system, history + new, specs, on_text)
                except ContextTooLongError as exc:
                    if shortened or not history:
                        log.warning("LLM call failed: %s; nothing older left to drop", exc)
                        return TurnResult(TOO_LONG_REPLY)
                    shortened = True
                    dropped = drop_oldest_turns(history)
                    log.warning("%s; dropped the %d oldest history messages, retrying once", exc, dropped)
                    continue
                tokens += response.tokens
                if not response.tool_calls:
                    text = self._answer_text(response)
                    new.append({"role": "assistant", "content": text})
                    reply = text.strip() or "(the model returned an empty answer)"
                    if response.fallback_model:  # said in the reply only, not kept in the history
                        reply += FALLBACK_NOTE.format(model=response.fallback_model)
                    return TurnResult(reply, new, tokens)
                if iteration == self.max_tool_iterations:
                    break  # budget spent: do not run more tools
                iteration += 1
                new.append(
                    {
                        "role": "assistant",
                        "content": clean_text(response.text, self.max_reply_chars),
                        "tool_calls": [
                            {"id": c.id, "name": c.name, "arguments": c.arguments}
                            for c in response.tool_calls
                        ],
                    }
                )
                for call in response.tool_calls:
                    log.info("tool call %s", call.name)
                    result = await tools.run(call.name, call.arguments)
                    new.append(
                        {
                            "role": "tool",
                            "tool_call_id": call.id,
                            "name": call.name,
                            "content": mask_secrets(result),
                        }
                    )
        except ProviderAuthError as exc:
            log.error("%s", exc)
            return TurnResult(f"Sorry, {exc}.", tokens=tokens)
        except RetryableProviderError as exc:  # still failing after the retries
            log.warning("LLM call failed: %s", exc)
            return TurnResult(
                mask_secrets(f"Sorry, I could not reach the language model: {exc}. Please try again later."),
                tokens=tokens,
            )
        except ProviderError as exc:
            log.warning("LLM call failed: %s", exc)
            return TurnResult(
                mask_secrets(f"Sorry, the language model's answer could not be used: {exc}."), tokens=tokens
            )
        stopped = (
            f"I stopped after {self.max_tool_iterations} tool steps without reaching a final answer. "
            "Ask me to continue if you want me to keep going."
        )
        new.append({"role": "assistant", "content": stopped})
        return TurnResult(stopped, new, tokens)
