"""The automation API: OpenAI-compatible POST /v1/chat/completions and GET /v1/models.

Only the caller's last user message is the turn: the gateway keeps each conversation's history
itself (like a chat), keyed by the X-Conversation-Id header, else the request's "user" field, else
"default". The bearer token is compared in constant time; every client (peer address) is held to
api.rate_limit_per_minute requests and to a few failed token checks per minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
import uuid
from typing import Any

from picoclaw_gateway.api.http import (
    MAX_LINE,
    HttpError,
    Request,
    Response,
    error_response,
    json_response,
    read_request,
    write_response,
)
from picoclaw_gateway.api.limits import MAX_AUTH_FAILURES, SlidingWindow
from picoclaw_gateway.api.settings import ApiConfig
from picoclaw_gateway.api.turns import Conversations

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_CONNECTIONS = 16  # requests handled at once; more wait in the listen backlog
DEFAULT_CONVERSATION = "default"


def _last_user_text(messages: object) -> str:
    if not isinstance(messages, list) or not messages:
        raise HttpError(400, '"messages" must be a non-empty array')
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
                content = "\n".join(
                    p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
                )
            if isinstance(content, str) and content.strip():
                return content
            raise HttpError(400, "the last user message has no text")
    raise HttpError(400, 'no message with "role": "user"')


class ApiServer:
    def __init__(self, config: ApiConfig, conversations: Conversations) -> None:
        if not config.token:
            raise ValueError("the API needs a token")
        self.config = config
        self.conversations = conversations
        self._token = config.token.encode()
        self._requests = SlidingWindow(config.rate_limit_per_minute)
        self._failures = SlidingWindow(MAX_AUTH_FAILURES)
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)
        self._server: asyncio.Server | None = None
        self.port = config.port

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, self.config.listen, self.config.port, limit=MAX_LINE
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info(
            "automation API on http://%s:%d/v1 (model %s)", self.config.listen, self.port, self.config.model
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str((writer.get_extra_info("peername") or ("?",))[0])
        try:
            async with self._slots:
                unread = False
                try:
                    request = await read_request(reader, peer, MAX_BODY_BYTES)
                    response = await self.respond(request)
                except HttpError as exc:
                    response = error_response(exc.status, str(exc), "invalid_request_error")
                    unread = True
                except TimeoutError:
                    response = error_response(
                        408, "the request was not received in time", "invalid_request_error"
                    )
                await write_response(writer, response)
                if unread:
                    await _discard_rest(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            log.exception("API request failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _authorized(self, request: Request) -> bool:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self._token)

    async def respond(self, request: Request) -> Response:
        wait = self._failures.retry_after(request.peer) or self._requests.retry_after(request.peer)
        if wait:
            return error_response(429, f"too many requests; retry in {wait} s", "rate_limit_error",
                                  {"Retry-After": str(wait)})  # fmt: skip
        self._requests.add(request.peer)
        if not self._authorized(request):
            self._failures.add(request.peer)
            log.warning("API: refused a request from %s without a valid token", request.peer)
            return error_response(401, "missing or wrong bearer token", "invalid_request_error",
                                  {"WWW-Authenticate": "Bearer"})  # fmt: skip
        path = request.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/models":
            if request.method != "GET":
                raise HttpError(405, "use GET")
            model = {"id": self.config.model, "object": "model", "created": 0, "owned_by": "picoclaw"}
            return json_response(200, {"object": "list", "data": [model]})
        if path == "/v1/chat/completions":
            if request.method != "POST":
                raise HttpError(405, "use POST")
            return await self._chat(request)
        raise HttpError(404, f"no such endpoint {path[:100]!r}; use /v1/chat/completions or /v1/models")

    async def _chat(self, request: Request) -> Response:
        try:
            body: Any = json.loads(request.body)
        except ValueError:
            raise HttpError(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise HttpError(400, "the body must be a JSON object")
        text = _last_user_text(body.get("messages"))
        conversation = request.headers.get("x-conversation-id") or body.get("user") or DEFAULT_CONVERSATION
        if not isinstance(conversation, str) or len(conversation) > 256:
            raise HttpError(400, "the conversation id (X-Conversation-Id or user) must be a string of <= 256")
        result = await self.conversations.turn(conversation, text)
        if not result.new_messages:  # the LLM failed; its text says why
            return error_response(502, result.reply, "upstream_error")
        return _completion(self.config.model, result.reply, bool(body.get("stream")))


async def _discard_rest(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """After an early answer (413, 411...), read what the client still sends, bounded, before closing:
    closing with unread data resets the connection, and the client would see no answer at all."""
    with contextlib.suppress(Exception):
        writer.write_eof()
        async with asyncio.timeout(2.0):
            left = 2 * MAX_BODY_BYTES
            while left > 0 and (chunk := await reader.read(65536)):
                left -= len(chunk)


def _completion(model: str, reply: str, stream: bool) -> Response:
    ident = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if not stream:
        message = {"role": "assistant", "content": reply}
        return json_response(200, {
            "id": ident, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        })  # fmt: skip
    # The whole answer in one event: clients that always stream (some n8n nodes) still get it.
    base = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model}
    first = {
        **base,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": reply}, "finish_reason": None}],
    }
    last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    events = "".join(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n" for chunk in (first, last))
    return Response(200, (events + "data: [DONE]\n\n").encode(), "text/event-stream")
