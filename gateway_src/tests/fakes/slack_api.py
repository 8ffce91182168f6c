"""Fake Slack: Web API methods and a Socket Mode websocket, on one 127.0.0.1 port.

Web API (POST /api/{method}, "Authorization: Bearer <token>", form or JSON bodies):
auth.test (bot token), apps.connections.open (app token -> ws URL), chat.postMessage (bot token;
text over 4,000 chars is refused as msg_too_long), chat.update (channel + ts of a message the bot
posted, else message_not_found; the same length limit), the file upload flow
(files.getUploadURLExternal -> POST the bytes to its upload_url, raw or multipart, no token ->
files.completeUploadExternal shares them in a channel or thread), scripted 429 with Retry-After.
Files sent by users: url_private answers the bytes only with the bot token (the sign-in page
otherwise, like Slack).
Socket Mode (GET /socket?ticket=...): sends {"type": "hello"}, then events_api envelopes; records
every ack ({"envelope_id": ...}). Envelopes pushed while no socket is open wait for the next one.
Control, in-process: push_dm(), push_mention(), push_event() (any event shape), redeliver(),
wait_for_sent(), wait_for_acks(), drop_socket(), rate_limit_next_posts(), rate_limit_next_updates(),
fail_next() (scripted raw answers such as a proxy's HTML 502 or an empty 504).
Control over HTTP: POST /_control/dm {"user", "text", "channel"?}, POST /_control/mention {"user", "text",
"channel", "thread_ts"?, "also_as_message"?}, GET /_control/sent?channel=&count=&timeout= (408 if not
reached), GET /_control/acks, POST /_control/drop.
Standalone: python -m tests.fakes.slack_api --port N --bot-token XOXB --app-token XAPP
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import WSMsgType, web

from tests.fakes._server import FAKE_NAME, FakeServer, RawAnswer, RunningServer, serve_forever
from tests.fakes.uploads import UploadTooLarge, read_form, read_raw

MAX_TEXT_CHARS = 4000
BOT_USER = "UBOT0PICO1"
TEAM = "T0TEAM0001"
MAX_FILE_BYTES = 1024 * 1024 * 1024


@dataclass
class SharedFile:
    """A file the bot uploaded and shared (files.completeUploadExternal)."""

    channel: str
    thread_ts: str | None
    filename: str
    title: str
    data: bytes
    initial_comment: str


@dataclass
class Posted:
    channel: str
    text: str
    thread_ts: str | None
    ts: str
    at: float = field(default_factory=time.monotonic)
    mrkdwn: bool = True  # chat.postMessage's default: Slack reads *bold*, <url|text>...
    edits: list[tuple[str, float]] = field(default_factory=list)  # each chat.update's text and time


class FakeSlack(FakeServer):
    def __init__(self, bot_token: str, app_token: str) -> None:
        self.bot_token, self.app_token = bot_token, app_token
        self.posted: list[Posted] = []
        self.calls: list[tuple[str, float]] = []
        self.sent_envelopes: list[dict[str, Any]] = []
        self.acks: list[str] = []
        self.connections = 0
        self.rate_limit_remaining = 0
        self.rate_limit_retry_after = 1
        self.update_limit_remaining = 0  # the next chat.update calls answered 429
        self.update_limit_retry_after = 1
        self._pending: list[dict[str, Any]] = []  # envelopes waiting for a socket
        self.raw_answers: dict[str, list[RawAnswer]] = {}  # method -> answers served next, in order
        self._ws: web.WebSocketResponse | None = None
        self._ws_transport: asyncio.BaseTransport | None = None
        self._connected = asyncio.Event()
        self._changed = asyncio.Condition()
        self._ts = itertools.count(1)
        self.app = web.Application()
        self.app[FAKE_NAME] = "slack"
        self.app.router.add_post("/api/{method}", self._web_api)
        self.app.router.add_get("/files-pri/{team_file}/{name}", self._file_private)
        self.files: dict[str, bytes] = {}  # file id -> bytes behind its url_private
        self.uploads: dict[str, dict[str, Any]] = {}  # file id -> upload ticket (filename, length, data)
        self.shared: list[SharedFile] = []
        self.upload_auth: list[str | None] = []  # the Authorization header of each upload POST
        self.app.router.add_post("/upload/v1/{file_id}", self._upload)
        self.file_fetches: list[str | None] = []  # the Authorization header of each file download
        self.files_read_scope = True  # False: the app lacks files:read (url_private: the sign-in page)
        self.app.router.add_get("/socket", self._socket)
        self.app.router.add_post("/_control/dm", self._control_dm)
        self.app.router.add_post("/_control/mention", self._control_mention)
        self.app.router.add_get("/_control/sent", self._control_sent)
        self.app.router.add_get("/_control/acks", self._control_acks)
        self.app.router.add_post("/_control/drop", self._control_drop)
        self.server = RunningServer(self.app)

    # ---- lifecycle -------------------------------------------------------------------------
    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        await super().close()

    @property
    def api_base(self) -> str:
        return f"{self.server.base_url}/api"

    # ---- control ---------------------------------------------------------------------------
    def new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    async def wait_connected(self, wait_s: float = 20.0) -> None:
        await asyncio.wait_for(self._connected.wait(), wait_s)

    async def push_dm(
        self, user: str, text: str, channel: str | None = None, files: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """A direct message to the bot (channel_type im); DM channel "D" + user by default; with
        `files` (from add_file) it is a file_share message like Slack sends."""
        event = {
            "type": "message",
            "channel_type": "im",
            "channel": channel or f"D{user[1:]}",
            "user": user,
            "text": text,
            "ts": self.new_ts(),
            "client_msg_id": str(uuid.uuid4()),
            "team": TEAM,
        }
        if files:
            event.update(subtype="file_share", files=files)
        await self.push_event(event)
        return event

    def add_file(self, data: bytes, name: str, mimetype: str, **extra: Any) -> dict[str, Any]:
        """A file object as message events carry it (url_private on this server); `extra`: e.g.
        original_w/original_h for images, duration_ms for audio clips."""
        file_id = f"F{len(self.files):08d}"
        self.files[file_id] = data
        url = f"{self.base_url}/files-pri/{TEAM}-{file_id}/{quote(name, safe='')}"  # like Slack: escaped
        return {"id": file_id, "name": name, "mimetype": mimetype, "size": len(data), "url_private": url,
                "url_private_download": url + "?download=1", **extra}  # fmt: skip

    async def _file_private(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization")
        self.file_fetches.append(auth)
        file_id = request.match_info["team_file"].rsplit("-", 1)[-1]
        if auth != f"Bearer {self.bot_token}" or not self.files_read_scope:
            # Like Slack: no valid token, and url_private answers 200 with the sign-in page.
            return web.Response(text="<!DOCTYPE html><html>Sign in to Slack</html>", content_type="text/html")
        if file_id not in self.files:
            return web.Response(status=404, text="file not found")
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    async def push_mention(
        self, user: str, text: str, channel: str, thread_ts: str | None = None, also_as_message: bool = False
    ) -> dict[str, Any]:
        """An app_mention (text gets the "<@bot>" prefix); optionally the channel message event too."""
        event: dict[str, Any] = {
            "type": "app_mention",
            "channel": channel,
            "user": user,
            "text": f"<@{BOT_USER}> {text}",
            "ts": self.new_ts(),
            "client_msg_id": str(uuid.uuid4()),
            "team": TEAM,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        if also_as_message:  # what a bot subscribed to message.channels receives as well
            await self.push_event({**event, "type": "message", "channel_type": "channel"})
        await self.push_event(event)
        return event

    async def push_event(self, event: dict[str, Any], event_id: str | None = None, retry: int = 0) -> str:
        envelope = {
            "envelope_id": str(uuid.uuid4()),
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": retry,
            "retry_reason": "timeout" if retry else "",
            "payload": {
                "token": "verification-token",
                "team_id": TEAM,
                "api_app_id": "A0APP00001",
                "type": "event_callback",
                "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
                "event_time": int(time.time()),
                "event": event,
            },
        }
        await self._deliver(envelope)
        return str(envelope["payload"]["event_id"])

    async def redeliver(self, envelope: dict[str, Any]) -> None:
        """Slack's retry: the same event and event_id in a new envelope."""
        payload = envelope["payload"]
        await self.push_event(
            payload["event"], event_id=payload["event_id"], retry=envelope["retry_attempt"] + 1
        )

    async def drop_socket(self) -> None:
        """Cut the websocket abruptly (no close frame), like a network failure."""
        transport, self._ws, self._ws_transport = self._ws_transport, None, None
        self._connected.clear()
        if transport is not None:
            transport.abort()

    def fail_next(self, method: str, *answers: RawAnswer) -> None:
        """The next calls of `method` get these raw answers, one each, before normal service resumes."""
        self.raw_answers.setdefault(method, []).extend(answers)

    def envelope_of(self, event_id: str) -> dict[str, Any]:
        """The last envelope sent for `event_id`."""
        return [e for e in self.sent_envelopes if e["payload"]["event_id"] == event_id][-1]

    def rate_limit_next_posts(self, count: int, retry_after: int = 1) -> None:
        self.rate_limit_remaining, self.rate_limit_retry_after = count, retry_after

    def rate_limit_next_updates(self, count: int, retry_after: int = 1) -> None:
        self.update_limit_remaining, self.update_limit_retry_after = count, retry_after

    def posted_to(self, channel: str) -> list[Posted]:
        return [p for p in self.posted if p.channel == channel]

    async def wait_for_sent(self, count: int, channel: str, wait_s: float = 15.0) -> list[Posted]:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.posted_to(channel)) >= count), wait_s
            )
            return self.posted_to(channel)

    async def wait_for_connections(self, count: int, wait_s: float = 20.0) -> None:
        """Wait until `count` Socket Mode connections were opened in total."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.connections >= count), wait_s)

    async def wait_for_acks(self, count: int, wait_s: float = 10.0) -> list[str]:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.acks) >= count), wait_s)
            return list(self.acks)

    # ---- socket mode -----------------------------------------------------------------------
    async def _deliver(self, envelope: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            self._pending.append(envelope)
            return
        self.sent_envelopes.append(envelope)
        await ws.send_str(json.dumps(envelope))

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        async with self._changed:
            self.connections += 1
            self._changed.notify_all()
        self._ws, self._ws_transport = ws, request.transport
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
            "connection_info": {"app_id": "A0APP00001"},
        }
        await ws.send_json(hello)
        self._connected.set()
        pending, self._pending = self._pending, []
        for envelope in pending:
            await self._deliver(envelope)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if "envelope_id" in data:
                    async with self._changed:
                        self.acks.append(str(data["envelope_id"]))
                        self._changed.notify_all()
        finally:
            if self._ws is ws:
                self._ws, self._ws_transport = None, None
                self._connected.clear()
        return ws

    # ---- web API ---------------------------------------------------------------------------
    async def _web_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        async with self._changed:
            self.calls.append((method, time.monotonic()))
            self._changed.notify_all()
        if self.raw_answers.get(method):
            return self.raw_answers[method].pop(0).response()
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or params.get("token")
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != wanted:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "url": "https://fake.slack.com/",
                    "team": "Fake",
                    "user": "picoclaw",
                    "team_id": TEAM,
                    "user_id": BOT_USER,
                    "bot_id": "B0BOT00001",
                }
            )
        if method == "apps.connections.open":
            # The host the client used, so a standalone fake in a container hands out a reachable URL.
            url = f"ws://{request.host}/socket?ticket={uuid.uuid4()}"
            return web.json_response({"ok": True, "url": url})
        if method == "chat.postMessage":
            return await self._post_message(params)
        if method == "chat.update":
            return await self._update_message(params)
        if method == "files.getUploadURLExternal":
            return self._upload_url(params)
        if method == "files.completeUploadExternal":
            return await self._complete_upload(params)
        return web.json_response({"ok": False, "error": "unknown_method"}, status=404)

    async def _post_message(self, params: dict[str, Any]) -> web.Response:
        if self.rate_limit_remaining > 0:
            self.rate_limit_remaining -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(self.rate_limit_retry_after)},
            )
        channel, text = str(params.get("channel") or ""), str(params.get("text") or "")
        if not channel:
            return web.json_response({"ok": False, "error": "channel_not_found"})
        if not text.strip():
            return web.json_response({"ok": False, "error": "no_text"})
        if len(text) > MAX_TEXT_CHARS:
            return web.json_response({"ok": False, "error": "msg_too_long"})
        ts = self.new_ts()
        thread_ts = params.get("thread_ts") or None
        async with self._changed:
            mrkdwn = str(params.get("mrkdwn", True)).lower() not in ("false", "0")
            self.posted.append(Posted(channel, text, thread_ts, ts, mrkdwn=mrkdwn))
            self._changed.notify_all()
        message = {"type": "message", "user": BOT_USER, "text": text, "ts": ts, "bot_id": "B0BOT00001"}
        return web.json_response({"ok": True, "channel": channel, "ts": ts, "message": message})

    async def _update_message(self, params: dict[str, Any]) -> web.Response:
        if self.update_limit_remaining > 0:
            self.update_limit_remaining -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(self.update_limit_retry_after)},
            )
        channel, ts, text = (str(params.get(k) or "") for k in ("channel", "ts", "text"))
        found = [p for p in self.posted_to(channel) if p.ts == ts]
        if not found:
            return web.json_response({"ok": False, "error": "message_not_found"})
        if not text.strip():
            return web.json_response({"ok": False, "error": "no_text"})
        if len(text) > MAX_TEXT_CHARS:
            return web.json_response({"ok": False, "error": "msg_too_long"})
        async with self._changed:
            found[0].text = text
            found[0].edits.append((text, time.monotonic()))
            self._changed.notify_all()
        message = {"type": "message", "user": BOT_USER, "text": text, "bot_id": "B0BOT00001"}
        return web.json_response({"ok": True, "channel": channel, "ts": ts, "text": text, "message": message})

    def _upload_url(self, params: dict[str, Any]) -> web.Response:
        filename, length = str(params.get("filename") or ""), str(params.get("length") or "")
        if not filename or not length.isdigit() or int(length) < 1:
            return web.json_response({"ok": False, "error": "invalid_arguments"})
        if int(length) > MAX_FILE_BYTES:
            return web.json_response({"ok": False, "error": "file_size_too_large"})
        file_id = f"F{uuid.uuid4().hex[:10].upper()}"
        self.uploads[file_id] = {"filename": filename, "length": int(length), "data": None}
        url = f"{self.base_url}/upload/v1/{file_id}"
        return web.json_response({"ok": True, "upload_url": url, "file_id": file_id})

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: the bytes as the raw body or a multipart "file" part (both work on Slack)."""
        self.upload_auth.append(request.headers.get("Authorization"))
        ticket = self.uploads.get(request.match_info["file_id"])
        if ticket is None:
            return web.Response(status=404, text="upload not found")
        try:
            if request.content_type == "multipart/form-data":
                _fields, files = await read_form(request, ticket["length"])
                data = files["file"].data if "file" in files else b""
            else:
                data = await read_raw(request, ticket["length"])
        except UploadTooLarge:
            return web.Response(status=413, text="Request Entity Too Large")
        if len(data) != ticket["length"]:
            return web.Response(status=400, text=f"length mismatch: {len(data)} != {ticket['length']}")
        ticket["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _complete_upload(self, params: dict[str, Any]) -> web.Response:
        try:
            files = json.loads(params.get("files") or "[]") if isinstance(params.get("files"), str) else []
        except json.JSONDecodeError:
            return web.json_response({"ok": False, "error": "invalid_arguments"})
        tickets = [(f, self.uploads.get(str(f.get("id")))) for f in files if isinstance(f, dict)]
        if not tickets or any(t is None or t["data"] is None for _f, t in tickets):
            return web.json_response({"ok": False, "error": "file_not_found"})
        channel = str(params.get("channel_id") or "")
        thread_ts = params.get("thread_ts") or None
        if thread_ts and not channel:
            return web.json_response({"ok": False, "error": "invalid_arguments"})
        async with self._changed:
            for item, ticket in tickets:
                assert ticket is not None
                title = str(item.get("title") or ticket["filename"])
                comment = str(params.get("initial_comment") or "")
                self.shared.append(
                    SharedFile(channel, thread_ts, ticket["filename"], title, ticket["data"], comment)
                )
            self._changed.notify_all()
        listed = [{"id": str(f.get("id")), "title": str(f.get("title") or "")} for f, _t in tickets]
        return web.json_response({"ok": True, "files": listed})

    async def wait_for_shared(self, count: int, wait_s: float = 15.0) -> list[SharedFile]:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.shared) >= count), wait_s)
            return list(self.shared)

    # ---- control (HTTP) --------------------------------------------------------------------
    async def _control_dm(self, request: web.Request) -> web.Response:
        data = await request.json()
        event = await self.push_dm(str(data["user"]), str(data["text"]), data.get("channel"))
        return web.json_response({"channel": event["channel"], "ts": event["ts"]})

    async def _control_mention(self, request: web.Request) -> web.Response:
        data = await request.json()
        event = await self.push_mention(
            str(data["user"]),
            str(data["text"]),
            str(data["channel"]),
            thread_ts=data.get("thread_ts"),
            also_as_message=bool(data.get("also_as_message", False)),
        )
        return web.json_response({"channel": event["channel"], "ts": event["ts"]})

    async def _control_sent(self, request: web.Request) -> web.Response:
        channel = request.query["channel"]
        count = int(request.query.get("count", 0))
        timeout = float(request.query.get("timeout", 10))
        try:
            posted = await self.wait_for_sent(count, channel, timeout)
        except TimeoutError:
            return web.json_response({"error": f"fewer than {count} messages after {timeout}s"}, status=408)
        return web.json_response([{"text": p.text, "thread_ts": p.thread_ts, "ts": p.ts} for p in posted])

    async def _control_acks(self, _request: web.Request) -> web.Response:
        return web.json_response({"sent": len(self.sent_envelopes), "acked": list(self.acks)})

    async def _control_drop(self, _request: web.Request) -> web.Response:
        await self.drop_socket()
        return web.json_response({"ok": True})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bot-token", required=True, help="xoxb- token to accept")
    parser.add_argument("--app-token", required=True, help="xapp- token to accept")
    args = parser.parse_args()
    fake = FakeSlack(args.bot_token, args.app_token)
    asyncio.run(serve_forever([RunningServer(fake.app, args.host, args.port)]))


if __name__ == "__main__":
    main()
