"""Fake Discord: REST API v10 and the gateway websocket, on one 127.0.0.1 port.

REST (under /api/v10, "Authorization: Bot <token>", unknown token -> 401):
GET /gateway/bot, GET /users/@me, GET /oauth2/applications/@me, POST /channels/{id}/messages
(2000-char limit; JSON, or multipart with payload_json and files[n] parts: the sent message's
attachments, 413 with code 40005 past `upload_limit`), PATCH /channels/{id}/messages/{id} (an edit:
the same limit; 404 Unknown Message for a message the bot did not send there), POST
/channels/{id}/typing; scripted 429 with retry_after (and the Via header discord.py requires to
tell a Discord limit from a Cloudflare ban).
Gateway (GET /gateway, JSON text frames): HELLO (op 10) -> IDENTIFY (op 2) -> READY dispatch;
heartbeat (op 1) -> ACK (op 11); RESUME (op 6) -> replays missed dispatches, then RESUMED.
Control, in-process: push_message() (extra message fields, any shape), wait_for_sent(), drop_socket(),
rate_limit_next_sends(), rate_limit_next_edits(), flood_typing() (every typing call answers 429 until
its window closes), fail_next() (scripted raw answers for a REST path ending, such as a proxy's HTML
502 or a 503).
Control over HTTP: POST /_control/message {"user_id", "text", "channel_id"?, "guild_id"?, "mention"?},
GET /_control/sent?channel_id=&count=&timeout= (408 if not reached), POST /_control/drop,
POST /_control/rate_limit {"count", "retry_after"}.
Standalone: python -m tests.fakes.discord_api --port N --token TOKEN
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes._server import FAKE_NAME, FakeServer, RawAnswer, RunningServer, serve_forever
from tests.fakes.uploads import Upload, UploadTooLarge, read_form

MAX_MESSAGE_CHARS = 2000
BOT_ID = 900000000000000001
HEARTBEAT_INTERVAL_MS = 41250
UPLOAD_LIMIT = 10 * 1024 * 1024  # a bot's uploads in a server without boosts
_snowflakes = itertools.count(1_100_000_000_000_000_000)


@dataclass
class SentMessage:
    channel_id: int
    content: str
    message_id: int
    body: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    edits: list[tuple[str, float]] = field(default_factory=list)  # each edit's content and time
    files: list[Upload] = field(default_factory=list)  # the attachments, as uploaded


@dataclass
class Session:
    session_id: str
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)  # every dispatch, for RESUME replay


def _user(user_id: int, name: str, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
    }


def _timestamp() -> str:
    return datetime.now(UTC).isoformat()


def message_payload(
    channel_id: int, author: dict[str, Any], content: str, guild_id: int | None = None, mentions: tuple = ()
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(next(_snowflakes)),
        "type": 0,
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": _timestamp(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": list(mentions),
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "flags": 0,
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
        data["member"] = {"roles": [], "joined_at": _timestamp(), "deaf": False, "mute": False, "flags": 0}
    return data


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Exactly "application/json" like Discord: discord.py compares the header verbatim."""
    headers = {**(headers or {}), "Content-Type": "application/json"}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=headers)


class FakeDiscord(FakeServer):
    def __init__(self, token: str, heartbeat_interval_ms: int = HEARTBEAT_INTERVAL_MS) -> None:
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.bot_user = _user(BOT_ID, "picoclaw-test", bot=True)
        self.sent: list[SentMessage] = []
        self.upload_limit = UPLOAD_LIMIT
        self.typing: list[tuple[int, float]] = []
        self.rest_calls: list[tuple[str, str, float]] = []  # method, path, when
        self.gateway_ops: list[int] = []  # every op code the client sent
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.rate_limit_remaining = 0
        self.rate_limit_retry_after = 1.0
        self.edit_limit_remaining = 0  # the next edits answered 429
        self.edit_limit_retry_after = 1.0
        self.typing_flood_until = 0.0  # monotonic end of the typing 429 window
        self.raw_answers: dict[str, list[RawAnswer]] = {}  # REST path ending -> answers served next
        self.session: Session | None = None
        self._ws: web.WebSocketResponse | None = None
        self._ready = asyncio.Event()  # set while a client is identified/resumed on the socket
        self._changed = asyncio.Condition()
        self._sessions = itertools.count(1)
        self._resume_url = ""
        self.app = web.Application()
        self.app[FAKE_NAME] = "discord"
        self.app.router.add_get("/gateway", self._gateway_ws)
        self.app.router.add_route("*", "/api/v10/{path:.+}", self._rest)
        self.app.router.add_get("/attachments/{channel}/{id}/{name}", self._attachment)
        self.attachments: dict[str, bytes] = {}  # attachment id -> bytes served at its CDN URL
        self.app.router.add_post("/_control/message", self._control_message)
        self.app.router.add_get("/_control/sent", self._control_sent)
        self.app.router.add_post("/_control/drop", self._control_drop)
        self.app.router.add_post("/_control/rate_limit", self._control_rate_limit)
        self.server = RunningServer(self.app)

    # ---- lifecycle -------------------------------------------------------------------------
    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        await super().close()

    @property
    def api_base(self) -> str:
        """What the gateway config's `api_base` points at."""
        return f"{self.base_url}/api/v10"

    # ---- control ---------------------------------------------------------------------------
    async def wait_connected(self, wait_s: float = 20.0) -> None:
        await asyncio.wait_for(self._ready.wait(), wait_s)

    async def push_message(
        self, user_id: int, content: str, channel_id: int | None = None, guild_id: int | None = None,
        mention_bot: bool = False, extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Dispatch MESSAGE_CREATE (DM channel = user id by default); queued while disconnected."""
        channel_id = user_id if channel_id is None else channel_id
        mentions = (self.bot_user,) if mention_bot else ()
        data = message_payload(channel_id, _user(user_id, f"user{user_id}"), content, guild_id, mentions)
        data.update(extra or {})
        await self._dispatch("MESSAGE_CREATE", data)
        return data

    def add_attachment(
        self, channel_id: int, data: bytes, filename: str, content_type: str, **extra: Any
    ) -> dict[str, Any]:
        """An attachment object as MESSAGE_CREATE carries it; its URL is this server's "CDN" (no
        token needed, like Discord's signed links). `extra`: width/height, or duration_secs and
        flags 8192 for a voice message."""
        attachment_id = str(next(_snowflakes))
        self.attachments[attachment_id] = data
        # The CDN path carries a cleaned name (Discord's own cleaning differs; the object keeps the raw one).
        path_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "file"
        url = f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{path_name}?ex=0&is=0&hm=fake"
        return {"id": attachment_id, "filename": filename, "size": len(data), "url": url, "proxy_url": url,
                "content_type": content_type, **extra}  # fmt: skip

    async def _attachment(self, request: web.Request) -> web.Response:
        data = self.attachments.get(request.match_info["id"])
        if data is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=data, content_type="application/octet-stream")

    def flood_typing(self, retry_after: float) -> None:
        """Every POST /channels/{id}/typing answers 429 (remaining seconds) for retry_after s."""
        self.typing_flood_until = time.monotonic() + retry_after

    def fail_next(self, path_ending: str, *answers: RawAnswer) -> None:
        """The next REST calls whose path ends with `path_ending` get these raw answers, one each."""
        self.raw_answers.setdefault(path_ending, []).extend(answers)

    def rate_limit_next_sends(self, count: int, retry_after: float = 1.0) -> None:
        self.rate_limit_remaining, self.rate_limit_retry_after = count, retry_after

    def rate_limit_next_edits(self, count: int, retry_after: float = 1.0) -> None:
        self.edit_limit_remaining, self.edit_limit_retry_after = count, retry_after

    async def drop_socket(self) -> None:
        """Cut the websocket abruptly (no close frame), like a network failure."""
        ws = self._ws
        self._ready.clear()
        if ws is not None:
            self._ws = None
            transport = ws._req.transport if ws._req is not None else None
            if transport is not None:
                transport.abort()

    def sent_to(self, channel_id: int) -> list[SentMessage]:
        return [m for m in self.sent if m.channel_id == channel_id]

    async def wait_for_sent(self, count: int, channel_id: int, wait_s: float = 15.0) -> list[SentMessage]:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.sent_to(channel_id)) >= count), wait_s
            )
            return self.sent_to(channel_id)

    async def wait_for_identifies(self, count: int, wait_s: float = 20.0) -> None:
        """Wait until `count` IDENTIFY payloads arrived in total (a new gateway process identifies)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.identifies) >= count), wait_s)

    async def wait_for_op(self, op: int, count: int = 1, wait_s: float = 15.0) -> None:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: self.gateway_ops.count(op) >= count), wait_s
            )

    # ---- gateway ---------------------------------------------------------------------------
    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        if self.session is None:
            raise RuntimeError("no gateway session yet: wait_connected() first")
        self.session.seq += 1
        frame = {"op": 0, "t": event, "s": self.session.seq, "d": data}
        self.session.log.append(frame)
        if self._ws is not None and self._ready.is_set():
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self._ws.send_str(json.dumps(frame))

    async def _gateway_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._resume_url = f"ws://{request.host}/gateway"
        await ws.send_json(
            {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None}
        )
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(msg.data)
                op = payload.get("op")
                async with self._changed:
                    self.gateway_ops.append(op)
                    self._changed.notify_all()
                if op == 1:
                    await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
                elif op == 2:
                    await self._identify(ws, payload["d"])
                elif op == 6:
                    await self._resume(ws, payload["d"])
        finally:
            if self._ws is ws:
                self._ws = None
                self._ready.clear()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        async with self._changed:
            self.identifies.append(data)
            self._changed.notify_all()
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.session = Session(session_id=f"session-{next(self._sessions)}")
        self._ws = ws
        self.session.seq += 1
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [],
            "private_channels": [],
            "session_id": self.session.session_id,
            "resume_gateway_url": self._resume_url,
            "application": {"id": str(BOT_ID), "flags": 0},
            "shard": [0, 1],
        }
        await ws.send_json({"op": 0, "t": "READY", "s": self.session.seq, "d": ready})
        self._ready.set()

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.resumes.append(data)
        session = self.session
        if data.get("token") != self.token or session is None or data.get("session_id") != session.session_id:
            await ws.send_json({"op": 9, "d": False, "s": None, "t": None})  # invalid session
            return
        self._ws = ws
        missed = [f for f in session.log if f["s"] > int(data.get("seq") or 0)]
        for frame in missed:
            await ws.send_str(json.dumps(frame))
        session.seq += 1
        await ws.send_json({"op": 0, "t": "RESUMED", "s": session.seq, "d": {}})
        self._ready.set()

    # ---- REST ------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        async with self._changed:
            self.rest_calls.append((request.method, path, time.monotonic()))
            self._changed.notify_all()
        if request.headers.get("Authorization") != f"Bot {self.token}":
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        for ending, answers in self.raw_answers.items():
            if answers and path.endswith(ending):
                return answers.pop(0).response()
        parts = path.strip("/").split("/")
        if request.method == "GET" and path == "/gateway/bot":
            limits = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            # The host the client used, so a standalone fake in a container hands out a reachable URL.
            url = f"ws://{request.host}/gateway"
            return _json({"url": url, "shards": 1, "session_start_limit": limits})
        if request.method == "GET" and path == "/users/@me":
            return _json(self.bot_user)
        if request.method == "GET" and path == "/oauth2/applications/@me":
            return _json(self._application())
        if request.method == "POST" and len(parts) == 3 and parts[0] == "channels" and parts[1].isdigit():
            channel_id = int(parts[1])
            if parts[2] == "typing":
                self.typing.append((channel_id, time.monotonic()))
                remaining = self.typing_flood_until - time.monotonic()
                if remaining > 0:
                    return self._rate_limited(round(remaining, 3))
                return web.Response(status=204)
            if parts[2] == "messages":
                return await self._create_message(request, channel_id)
        if (
            request.method == "PATCH"
            and len(parts) == 4
            and parts[0] == "channels"
            and parts[2] == "messages"
        ):
            return await self._edit_message(request, int(parts[1]), parts[3])
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    async def _create_message(self, request: web.Request, channel_id: int) -> web.Response:
        if self.rate_limit_remaining > 0:
            self.rate_limit_remaining -= 1
            return self._rate_limited(self.rate_limit_retry_after)
        files: list[Upload] = []
        if request.content_type == "multipart/form-data":
            try:
                fields, uploads = await read_form(request, self.upload_limit)
            except UploadTooLarge:
                return _json({"message": "Request entity too large", "code": 40005}, 413)
            data = json.loads(fields.get("payload_json") or "{}")
            files = [uploads[name] for name in sorted(uploads) if name.startswith("files[")]
        else:
            data = await request.json()
        content = str(data.get("content") or "")
        if (not content.strip() and not files) or len(content) > MAX_MESSAGE_CHARS:
            errors = {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                                               "message": "Must be 2000 or fewer in length."}]}}  # fmt: skip
            return _json({"message": "Invalid Form Body", "code": 50035, "errors": errors}, 400)
        payload = message_payload(channel_id, self.bot_user, content)
        payload["attachments"] = [
            self.add_attachment(channel_id, f.data, f.filename, f.content_type) for f in files
        ]
        async with self._changed:
            self.sent.append(SentMessage(channel_id, content, int(payload["id"]), data, files=files))
            self._changed.notify_all()
        return _json(payload)

    async def _edit_message(self, request: web.Request, channel_id: int, message_id: str) -> web.Response:
        if self.edit_limit_remaining > 0:
            self.edit_limit_remaining -= 1
            return self._rate_limited(self.edit_limit_retry_after)
        found = [m for m in self.sent_to(channel_id) if str(m.message_id) == message_id]
        if not found:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        data = await request.json()
        content = data.get("content")
        if not isinstance(content, str) or not content.strip() or len(content) > MAX_MESSAGE_CHARS:
            errors = {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                                               "message": "Must be 2000 or fewer in length."}]}}  # fmt: skip
            return _json({"message": "Invalid Form Body", "code": 50035, "errors": errors}, 400)
        message = found[0]
        async with self._changed:
            message.content, message.body = content, data
            message.edits.append((content, time.monotonic()))
            self._changed.notify_all()
        payload = message_payload(channel_id, self.bot_user, content)
        return _json({**payload, "id": message_id, "edited_timestamp": _timestamp()})

    @staticmethod
    def _rate_limited(retry_after: float) -> web.Response:
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
        headers = {"Via": "1.1 google", "Retry-After": str(retry_after), "X-RateLimit-Scope": "user"}
        return _json(body, status=429, headers=headers)

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(BOT_ID),
            "name": "picoclaw-test",
            "description": "",
            "icon": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": _user(1, "owner"),
            "verify_key": "0" * 64,
            "flags": 0,
        }

    # ---- control (HTTP) --------------------------------------------------------------------
    async def _control_message(self, request: web.Request) -> web.Response:
        data = await request.json()
        if self.session is None:
            return web.json_response({"error": "no gateway session yet"}, status=409)
        guild_id = data.get("guild_id")
        message = await self.push_message(
            int(data["user_id"]),
            str(data["text"]),
            channel_id=None if data.get("channel_id") is None else int(data["channel_id"]),
            guild_id=None if guild_id is None else int(guild_id),
            mention_bot=bool(data.get("mention", False)),
        )
        return web.json_response({"id": message["id"], "channel_id": message["channel_id"]})

    async def _control_sent(self, request: web.Request) -> web.Response:
        channel_id = int(request.query["channel_id"])
        count = int(request.query.get("count", 0))
        timeout = float(request.query.get("timeout", 10))
        try:
            sent = await self.wait_for_sent(count, channel_id, timeout)
        except TimeoutError:
            return web.json_response({"error": f"fewer than {count} messages after {timeout}s"}, status=408)
        return web.json_response([{"content": m.content, "message_id": str(m.message_id)} for m in sent])

    async def _control_drop(self, _request: web.Request) -> web.Response:
        await self.drop_socket()
        return web.json_response({"ok": True})

    async def _control_rate_limit(self, request: web.Request) -> web.Response:
        data = await request.json()
        self.rate_limit_next_sends(int(data.get("count", 1)), float(data.get("retry_after", 1.0)))
        return web.json_response({"ok": True})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", required=True, help="bot token to accept")
    args = parser.parse_args()
    asyncio.run(serve_forever([RunningServer(FakeDiscord(args.token).app, args.host, args.port)]))


if __name__ == "__main__":
    main()
