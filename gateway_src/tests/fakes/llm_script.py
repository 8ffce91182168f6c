"""Scripted replies shared by the OpenAI-compatible and Anthropic fakes.

A script is an ordered list of rules. Each request takes the first rule whose `match`
(a substring of the last user text) and `model` (the request's model id) fit; a rule is used
`times` times (None: forever).
With no matching rule the fake answers deterministically: "echo: <last user text>", or asks
`responder` (given the request being answered) when one is set.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """What the fake answers: text, tool calls, an HTTP error (status != 200), or `raw_body`:
    exactly this JSON with `status` (shapes real servers send that the fake would not build)."""

    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    status: int = 200
    error_message: str = ""
    retry_after: float | None = None
    delay_s: float = 0.0
    raw_body: Any = None
    pieces: int = 1  # `stream: true`: the text arrives in this many chunks...
    piece_delay_s: float = 0.0  # ...this far apart

    @property
    def is_error(self) -> bool:
        return self.status != 200


def text(content: str, delay_s: float = 0.0) -> Reply:
    return Reply(text=content, delay_s=delay_s)


def tool_call(name: str, arguments: dict[str, Any], text_before: str | None = None) -> Reply:
    return Reply(text=text_before, tool_calls=(ToolCall(name, arguments),))


def streamed(content: str, pieces: int, piece_delay_s: float) -> Reply:
    """A text answer that a streaming request receives slowly, in `pieces` chunks."""
    return Reply(text=content, pieces=pieces, piece_delay_s=piece_delay_s)


def raw(body: Any, status: int = 200) -> Reply:
    """Answer exactly `body` (as JSON) with `status`."""
    return Reply(status=status, raw_body=body)


def error(status: int, message: str = "", retry_after: float | None = None) -> Reply:
    return Reply(status=status, error_message=message or f"scripted error {status}", retry_after=retry_after)


@dataclass
class Rule:
    reply: Reply
    match: str | None = None
    times: int | None = 1
    model: str | None = None  # only requests for this model id


def reply_from_json(data: dict[str, Any]) -> Reply:
    """Build a Reply from the HTTP control API shape (see README of the fakes in __init__)."""
    calls = tuple(ToolCall(c["name"], dict(c.get("arguments", {}))) for c in data.get("tool_calls", []))
    return Reply(
        text=data.get("text"),
        tool_calls=calls,
        status=int(data.get("status", 200)),
        error_message=str(data.get("error_message", "")),
        retry_after=data.get("retry_after"),
        delay_s=float(data.get("delay_s", 0.0)),
        raw_body=data.get("raw_body"),
    )


def rule_from_json(data: dict[str, Any]) -> Rule:
    times = data.get("times", 1)
    return Rule(
        reply=reply_from_json(data),
        match=data.get("match"),
        times=None if times is None else int(times),
        model=data.get("model"),
    )


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any]
    last_user_text: str
    received_at: float = field(default_factory=time.monotonic)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
            "last_user_text": self.last_user_text,
        }


class LLMScript:
    """Rules plus the record of every request; shared by both LLM fakes."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.requests: list[RecordedRequest] = []
        # Default answer when no rule matches (None: echo); gets the request being answered.
        self.responder: Callable[[RecordedRequest], Reply] | None = None
        # Requests by kind ("chat": completions/messages, the ones that cost tokens; "models", "key"),
        # counted on arrival whatever the answer, so a test can prove none were spent.
        self.counts: Counter[str] = Counter()
        self.model_counts: Counter[str] = Counter()  # chat requests per model id, whatever the answer
        # The default echo answers after a delay drawn from this range (seconds): a busy LLM.
        self.echo_delay_s: tuple[float, float] = (0.0, 0.0)
        self._changed = asyncio.Condition()

    def add(
        self, reply: Reply, match: str | None = None, times: int | None = 1, model: str | None = None
    ) -> None:
        self.rules.append(Rule(reply=reply, match=match, times=times, model=model))

    def clear(self) -> None:
        self.rules.clear()

    def reset(self) -> None:
        self.rules.clear()
        self.requests.clear()
        self.counts.clear()
        self.model_counts.clear()

    def take(self, last_user_text: str, request: RecordedRequest | None = None) -> Reply:
        model = request.body.get("model") if request is not None else None
        for rule in self.rules:
            if rule.match is not None and rule.match not in last_user_text:
                continue
            if rule.model is not None and rule.model != model:
                continue
            if rule.times is not None:
                rule.times -= 1
                if rule.times <= 0:
                    self.rules.remove(rule)
            return rule.reply
        if self.responder is not None and request is not None:
            return self.responder(request)
        low, high = self.echo_delay_s
        return text(f"echo: {last_user_text}", delay_s=random.uniform(low, high) if high else 0.0)

    async def record(self, request: RecordedRequest) -> None:
        async with self._changed:
            self.requests.append(request)
            self.model_counts[str(request.body.get("model"))] += 1
            self._changed.notify_all()

    async def wait_for_requests(self, count: int, wait_s: float = 10.0) -> list[RecordedRequest]:
        """Wait until at least `count` requests were recorded; TimeoutError otherwise."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.requests) >= count), wait_s)
            return list(self.requests)


def add_control_routes(app: web.Application, script: LLMScript) -> None:
    """HTTP control for tests outside this process (e.g. the molecule test host). GET /_control/counts
    answers the requests by kind, e.g. {"chat": 0, "models": 1, "key": 1}."""

    async def add_rules(request: web.Request) -> web.Response:
        data = await request.json()
        for item in data if isinstance(data, list) else [data]:
            script.rules.append(rule_from_json(item))
        return web.json_response({"rules": len(script.rules)})

    async def clear_rules(_request: web.Request) -> web.Response:
        script.clear()
        return web.json_response({"rules": 0})

    async def list_requests(_request: web.Request) -> web.Response:
        return web.json_response([r.to_json() for r in script.requests])

    async def reset(_request: web.Request) -> web.Response:
        script.reset()
        return web.json_response({"ok": True})

    async def counts(_request: web.Request) -> web.Response:
        return web.json_response({"chat": 0, **script.counts})

    app.router.add_post("/_control/script", add_rules)
    app.router.add_get("/_control/counts", counts)
    app.router.add_post("/_control/clear_script", clear_rules)
    app.router.add_get("/_control/requests", list_requests)
    app.router.add_post("/_control/reset", reset)
