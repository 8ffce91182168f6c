"""Fake OpenAI-compatible chat completions server (OpenAI and OpenRouter dialects).

Routes: POST /api/v1/chat/completions and /v1/chat/completions (also `stream: true` as SSE, with
the usage chunk when `stream_options.include_usage`),
GET .../models (the ids in `models`; OpenRouter's /api/v1/models is public, OpenAI's /v1/models needs
the key; `models = None` answers 404 like servers without a model list), GET /api/v1/key (OpenRouter's
key info: 401 for a wrong key). Every request is counted by kind in `script.counts` ("chat" for
completions, the only ones that cost tokens). Control over HTTP: POST /_control/script (a rule or list
of rules, see llm_script.rule_from_json), POST /_control/clear_script, GET /_control/requests,
GET /_control/counts, POST /_control/reset.
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


DEFAULT_MODELS = ("test/model", "gpt-test")


def _unauthorized() -> web.Response:
    return web.json_response({"error": {"message": "Incorrect API key provided", "code": 401}}, status=401)


class FakeOpenAI(FakeServer):
    """In-process handle: `script` to steer replies, `script.requests` to inspect what was asked,
    `script.counts` for how many requests of each kind came."""

    def __init__(self, api_key: str | None = None, models: tuple[str, ...] | None = DEFAULT_MODELS) -> None:
        self.api_key = api_key
        self.models = models
        self.key_limit_remaining: float | None = None  # OpenRouter key info: None = no limit
        self.script = LLMScript()
        self.app = web.Application(
            client_max_size=32 * 1024 * 1024
        )  # requests with images: like the real APIs
        self.app[FAKE_NAME] = "openai"
        for prefix in ("/api/v1", "/v1"):
            self.app.router.add_post(f"{prefix}/chat/completions", self._completions)
            self.app.router.add_get(f"{prefix}/models", self._models)
        self.app.router.add_get("/api/v1/key", self._key)
        add_control_routes(self.app, self.script)
        self.server = RunningServer(self.app)

    def reset(self) -> None:
        self.script.reset()

    def _key_ok(self, request: web.Request) -> bool:
        return self.api_key is None or request.headers.get("Authorization") == f"Bearer {self.api_key}"

    async def _models(self, request: web.Request) -> web.Response:
        self.script.counts["models"] += 1
        if self.models is None:
            return web.Response(status=404, text="404 page not found")
        # OpenAI lists models per key; OpenRouter's list is public.
        if request.path.startswith("/v1/") and not self._key_ok(request):
            return _unauthorized()
        data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"} for m in self.models]
        return web.json_response({"object": "list", "data": data})

    async def _key(self, request: web.Request) -> web.Response:
        """OpenRouter's GET /api/v1/key: the calling key's label, limits and usage."""
        self.script.counts["key"] += 1
        if not self._key_ok(request):
            body = {"error": {"message": "No auth credentials found", "code": 401}}
            return web.json_response(body, status=401)
        limit = None if self.key_limit_remaining is None else 5.0
        data = {
            "label": "sk-or-v1-012...def",
            "limit": limit,
            "limit_remaining": self.key_limit_remaining,
            "usage": 0.0,
            "is_free_tier": False,
            "is_provisioning_key": False,
            "rate_limit": {"requests": 50, "interval": "10s"},
        }
        return web.json_response({"data": data})

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        self.script.counts["chat"] += 1
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
        if not self._key_ok(request):
            return _unauthorized()
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
            options = body.get("stream_options")
            usage = isinstance(options, dict) and options.get("include_usage") is True
            return await self._stream(request, body["model"], reply, usage)
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

    async def _stream(
        self, request: web.Request, model: str, reply: Reply, include_usage: bool
    ) -> web.StreamResponse:
        """OpenAI's chunk sequence; with stream_options.include_usage every chunk has "usage": null
        and a last chunk with no choices carries the usage, like the real API."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        chunk_id, created = f"chatcmpl-{next(_ids)}", int(time.time())

        async def send(delta: dict[str, Any] | None, finish: str | None, usage: Any = None) -> None:
            chunk: dict[str, Any] = {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if include_usage:
                chunk["usage"] = usage
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": ""}, None)
        text, step = reply.text or "", max(1, -(-len(reply.text or "") // max(1, reply.pieces)))
        for start in range(0, len(text), step):
            if start and reply.piece_delay_s:
                await asyncio.sleep(reply.piece_delay_s)
            await send({"content": text[start : start + step]}, None)
        for index, call in enumerate(_tool_calls_json(reply)):
            await send({"tool_calls": [{"index": index, **call}]}, None)
        await send({}, "tool_calls" if reply.tool_calls else "stop")
        if include_usage:
            await send(None, None, {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15})
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=None, help="answer 401 unless `Authorization: Bearer KEY`")
    parser.add_argument("--model", action="append", default=[], help="also list this model (repeatable)")
    args = parser.parse_args()
    fake = FakeOpenAI(args.api_key, (*DEFAULT_MODELS, *args.model))
    asyncio.run(serve_forever([RunningServer(fake.app, args.host, args.port)]))


if __name__ == "__main__":
    main()
