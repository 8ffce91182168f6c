"""Fake Anthropic Messages API: POST /v1/messages with the shared LLM script, and the Models API
(GET /v1/models/{id} -> the model or 404 not_found_error; GET /v1/models -> the list in `models`).

Checks `x-api-key` (when an expected key is set) and `anthropic-version` like the real API and
answers real-shaped messages (text and tool_use blocks, stop_reason, usage; with `stream: true` the
Messages API's server-sent events) or errors
(401 authentication_error, 429 rate_limit_error, 529 overloaded_error, 500 api_error).
Every request is counted by kind in `script.counts` ("chat" for messages, the only ones that cost
tokens; "models"). Control over HTTP is the same as the OpenAI fake (/_control/script,
/_control/requests, /_control/counts, ...).
Standalone: python -m tests.fakes.anthropic_api --port N [--api-key KEY]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
from typing import Any

from aiohttp import web

from tests.fakes._server import FAKE_NAME, FakeServer, RunningServer, serve_forever
from tests.fakes.llm_script import LLMScript, RecordedRequest, Reply, add_control_routes

_ids = itertools.count(1)
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def last_user_text(messages: list[dict[str, Any]]) -> str:
    """Text of the last user turn that carries text (tool_result-only turns are skipped)."""
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            texts = [b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"]
            if texts:
                return "".join(texts)
    return ""


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"type": "error", "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}}
    return web.json_response(body, status=status, headers=headers or {})


DEFAULT_MODELS = ("claude-test", "claude-test-2")


class FakeAnthropic(FakeServer):
    def __init__(self, api_key: str | None = None, models: tuple[str, ...] = DEFAULT_MODELS) -> None:
        self.api_key = api_key
        self.models = models
        self.script = LLMScript()
        self.app = web.Application(client_max_size=32 * 1024 * 1024)  # the Messages API takes 32 MB
        self.app[FAKE_NAME] = "anthropic"
        self.app.router.add_post("/v1/messages", self._messages)
        self.app.router.add_get("/v1/models", self._list_models)
        self.app.router.add_get("/v1/models/{model_id}", self._get_model)
        add_control_routes(self.app, self.script)
        self.server = RunningServer(self.app)

    def reset(self) -> None:
        self.script.reset()

    def _auth_error(self, request: web.Request) -> web.Response | None:
        """The API's own order: a missing or wrong key is refused before anything else is looked at."""
        if "x-api-key" not in request.headers:
            return _error(401, "x-api-key header is required")
        if self.api_key is not None and request.headers["x-api-key"] != self.api_key:
            return _error(401, "invalid x-api-key")
        if "anthropic-version" not in request.headers:
            return _error(400, "anthropic-version: header is required")
        return None

    @staticmethod
    def _model(model_id: str) -> dict[str, Any]:
        return {
            "type": "model",
            "id": model_id,
            "display_name": model_id.replace("-", " ").title(),
            "created_at": "2025-01-01T00:00:00Z",
        }

    async def _get_model(self, request: web.Request) -> web.Response:
        self.script.counts["models"] += 1
        if (refused := self._auth_error(request)) is not None:
            return refused
        model_id = request.match_info["model_id"]
        if model_id not in self.models:
            return _error(404, f"model: {model_id}")
        return web.json_response(self._model(model_id))

    async def _list_models(self, request: web.Request) -> web.Response:
        self.script.counts["models"] += 1
        if (refused := self._auth_error(request)) is not None:
            return refused
        data = [self._model(m) for m in self.models]
        return web.json_response(
            {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            }
        )

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        self.script.counts["chat"] += 1
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "body is not JSON")
        messages = body.get("messages") or []
        user_text = last_user_text(messages)
        recorded = RecordedRequest(
            request.path, {k.lower(): v for k, v in request.headers.items()}, body, user_text
        )
        await self.script.record(recorded)
        if (refused := self._auth_error(request)) is not None:
            return refused
        if not body.get("model") or not messages or not isinstance(body.get("max_tokens"), int):
            return _error(400, "model, messages and max_tokens are required")
        reply = self.script.take(user_text, recorded)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.raw_body is not None:
            return web.json_response(reply.raw_body, status=reply.status)
        if reply.is_error:
            headers = {"retry-after": str(reply.retry_after)} if reply.retry_after is not None else {}
            return _error(reply.status, reply.error_message, headers)
        if body.get("stream"):
            return await self._stream(request, body["model"], reply)
        return web.json_response(self._message(body["model"], reply))

    async def _stream(self, request: web.Request, model: str, reply: Reply) -> web.StreamResponse:
        """The Messages API's event sequence: message_start, per block content_block_start / _delta
        (text_delta, input_json_delta in pieces) / _stop, message_delta with usage, message_stop;
        `ping` once. The text arrives in `reply.pieces` deltas `reply.piece_delay_s` apart."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        async def send(event: str, data: dict[str, Any]) -> None:
            await response.write(f"event: {event}\ndata: {json.dumps({'type': event, **data})}\n\n".encode())

        start = {**self._message(model, reply), "content": [], "stop_reason": None}
        start["usage"] = {"input_tokens": 10, "output_tokens": 1}
        await send("message_start", {"message": start})
        await send("ping", {})
        index = 0
        if reply.text:
            await send("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
            step = max(1, -(-len(reply.text) // max(1, reply.pieces)))
            for at in range(0, len(reply.text), step):
                if at and reply.piece_delay_s:
                    await asyncio.sleep(reply.piece_delay_s)
                delta = {"type": "text_delta", "text": reply.text[at : at + step]}
                await send("content_block_delta", {"index": 0, "delta": delta})
            await send("content_block_stop", {"index": 0})
            index = 1
        for block in self._message(model, reply)["content"][index:]:
            await send("content_block_start", {"index": index, "content_block": {**block, "input": {}}})
            spelled = json.dumps(block["input"])
            for part in (spelled[: len(spelled) // 2], spelled[len(spelled) // 2 :]):
                delta = {"type": "input_json_delta", "partial_json": part}
                await send("content_block_delta", {"index": index, "delta": delta})
            await send("content_block_stop", {"index": index})
            index += 1
        stop = {"stop_reason": "tool_use" if reply.tool_calls else "end_turn", "stop_sequence": None}
        await send("message_delta", {"delta": stop, "usage": {"output_tokens": 5}})
        await send("message_stop", {})
        await response.write_eof()
        return response

    @staticmethod
    def _message(model: str, reply: Reply) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if reply.text:
            content.append({"type": "text", "text": reply.text})
        for call in reply.tool_calls:
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{next(_ids):08d}",
                    "name": call.name,
                    "input": call.arguments,
                }
            )
        return {
            "id": f"msg_{next(_ids):08d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=None, help="answer 401 unless `x-api-key: KEY`")
    parser.add_argument("--model", action="append", default=[], help="also list this model (repeatable)")
    args = parser.parse_args()
    fake = FakeAnthropic(args.api_key, (*DEFAULT_MODELS, *args.model))
    asyncio.run(serve_forever([RunningServer(fake.app, args.host, args.port)]))


if __name__ == "__main__":
    main()
