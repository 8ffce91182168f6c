"""Fake OpenAI-compatible chat completions server (OpenAI and OpenRouter dialects).

Routes: POST /api/v1/chat/completions and /v1/chat/completions (also `stream: true` as SSE),
GET .../models. Control over HTTP: POST /_control/script (a rule or list of rules, see
llm_script.rule_from_json), POST /_control/clear_script, GET /_control/requests, POST /_control/reset.
Standalone: python -m tests.fakes.openai_api --port N [--api-key KEY]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from typing import Any

from aiohttp import web

from tests.fakes._server import FAKE_NAME, FakeServer, RunningServer, serve_forever
from tests.fakes.llm_script import LLMScript, RecordedRequest, Reply, add_control_routes

_ids = itertools.count(1)


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(
                p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
            )
    return ""


def _error_body(reply: Reply) -> dict[str, Any]:
    kinds = {401: "invalid_api_key", 403: "forbidden", 429: "rate_limit_exceeded", 500: "server_error"}
    return {
        "error": {
            "message": reply.error_message,
            "type": kinds.get(reply.status, "error"),
            "code": reply.status,
        }
    }


def _tool_calls_json(reply: Reply) -> list[dict[str, Any]]:
    return [
        {
            "id": f"call_{next(_ids)}",
            "type": "function",
            "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
        }
        for c in reply.tool_calls
    ]


class FakeOpenAI(FakeServer):
    """In-process handle: `script` to steer replies, `script.requests` to inspect what was asked."""

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.script = LLMScript()
        self.app = web.Application()
        self.app[FAKE_NAME] = "openai"
        for prefix in ("/api/v1", "/v1"):
            self.app.router.add_post(f"{prefix}/chat/completions", self._completions)
            self.app.router.add_get(f"{prefix}/models", self._models)
        add_control_routes(self.app, self.script)
        self.server = RunningServer(self.app)

    def reset(self) -> None:
        self.script.reset()

    async def _models(self, _request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "test/model", "object": "model"}]})

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.json_response({"error": {"message": "body is not JSON", "code": 400}}, status=400)
        messages = body.get("messages") or []
        user_text = last_user_text(messages)
        recorded = RecordedRequest(
            request.path, {k.lower(): v for k, v in request.headers.items()}, body, user_text
        )
        await self.script.record(recorded)
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response(
                {"error": {"message": "Incorrect API key provided", "code": 401}}, status=401
            )
        if not body.get("model") or not isinstance(messages, list) or not messages:
            return web.json_response(
                {"error": {"message": "model and messages are required", "code": 400}}, 400
            )
        reply = self.script.take(user_text, recorded)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.raw_body is not None:
            return web.json_response(reply.raw_body, status=reply.status)
        if reply.is_error:
            headers = {"Retry-After": str(reply.retry_after)} if reply.retry_after is not None else {}
            return web.json_response(_error_body(reply), status=reply.status, headers=headers)
        if body.get("stream"):
            return await self._stream(request, body["model"], reply)
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.tool_calls:
            message["tool_calls"] = _tool_calls_json(reply)
        return web.json_response(
            {
                "id": f"chatcmpl-{next(_ids)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        )

    async def _stream(self, request: web.Request, model: str, reply: Reply) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        chunk_id, created = f"chatcmpl-{next(_ids)}", int(time.time())

        async def send(delta: dict[str, Any], finish: str | None) -> None:
            chunk = {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": ""}, None)
        if reply.text:
            await send({"content": reply.text}, None)
        for index, call in enumerate(_tool_calls_json(reply)):
            await send({"tool_calls": [{"index": index, **call}]}, None)
        await send({}, "tool_calls" if reply.tool_calls else "stop")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=None, help="answer 401 unless `Authorization: Bearer KEY`")
    args = parser.parse_args()
    fake = FakeOpenAI(api_key=args.api_key)
    asyncio.run(serve_forever([RunningServer(fake.app, args.host, args.port)]))


if __name__ == "__main__":
    main()
