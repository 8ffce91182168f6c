"""Fake Telegram Bot API server speaking the real wire protocol on 127.0.0.1.

Bot routes: {base}/bot{token}/{method} (GET or POST; form, multipart or JSON bodies like the real
API) and files at {base}/file/bot{token}/{path}. Unknown tokens get 401, unknown methods 404.
Implements getMe, getUpdates (long polling honouring offset/limit/timeout/allowed_updates),
sendMessage (real 4096-char limit counted on the text after parsing; parse_mode=HTML read like the
API reads it, in telegram_html.py: the sent message keeps the parsed text and its entities, bad markup
gets the API's 400 "can't parse entities"), sendChatAction, editMessageText, deleteMessage, deleteWebhook,
getWebhookInfo, get/set/deleteMyCommands, getFile, sendDocument (multipart, the file as a form field or
an attach://name reference, or a file_id already held; 50 MB upload limit: 413), close, logOut, plus
scripted flood control.

Control, in-process: push_update() (extra message fields, e.g. a forward_origin newer than the
gateway's aiogram), wait_for_sent(), calls_to(), refuse_markup(), flood_next_sends(), flood_method()
(every call of a method answers 429 until its retry_after window closes), fail_next() (scripted raw
answers such as a proxy's HTML 502 or an empty 504).
Control over HTTP: POST /_control/updates {"user_id","chat_id"?,"text"}, GET /_control/sent?count=&
chat_id=&timeout=, GET /_control/calls?method=, POST /_control/flood {"count","retry_after"},
POST /_control/reset.
Standalone: python -m tests.fakes.telegram_api --port N --token TOKEN
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes._server import FAKE_NAME, FakeServer, RawAnswer, RunningServer, serve_forever
from tests.fakes.telegram_html import HTMLParseError, parse_html
from tests.fakes.uploads import Upload, UploadTooLarge, read_form

MAX_MESSAGE_UTF16 = 4096
MAX_BOT_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_BOT_UPLOAD_BYTES = 50 * 1000 * 1000
MAX_CAPTION = 1024
MAX_ENTITIES = 100
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
# Parameters the real API takes as JSON-serialized strings inside form bodies.
_JSON_PARAMS = {"allowed_updates", "reply_markup", "reply_parameters", "entities", "commands", "scope",
                "link_preview_options"}  # fmt: skip


@dataclass
class RecordedCall:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class SentMessage:
    """`text` as the chat shows it (HTML parsed away), `entities` its formatting, like the API's Message."""

    chat_id: int
    text: str
    message_id: int
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    entities: list[dict[str, Any]] = field(default_factory=list)
    edits: int = 0  # editMessageText calls that changed it

    @property
    def reply_to(self) -> int | None:
        """The message this one replies to, from either API generation's parameter."""
        reply = self.params.get("reply_parameters") or {}
        value = reply.get("message_id") if isinstance(reply, dict) else None
        value = value if value is not None else self.params.get("reply_to_message_id")
        return None if value is None else int(value)

    def to_json(self) -> dict[str, Any]:
        return {
            "reply_to": self.reply_to,
            "chat_id": self.chat_id,
            "text": self.text,
            "message_id": self.message_id,
            "params": self.params,
            "entities": self.entities,
        }


@dataclass
class SentDocument:
    """A document the bot sent: its bytes as uploaded, the name the chat shows, the caption."""

    chat_id: int
    filename: str
    data: bytes
    caption: str
    message_id: int
    mime_type: str


class TelegramError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def _unauthorized() -> web.Response:
    return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parsed_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The message text and entities Telegram makes of `text`; the API's 400 when it cannot parse it.
    The limit counts this text: HTML markup is not part of it."""
    if not parse_mode:
        return text, []
    if parse_mode.lower() != "html":
        raise TelegramError(400, f"Bad Request: unsupported parse_mode {parse_mode!r} in this fake")
    try:
        text, entities = parse_html(text)
    except HTMLParseError as exc:
        raise TelegramError(400, str(exc)) from None
    return text, entities[:MAX_ENTITIES]  # the API keeps the first 100 and shows the rest as plain text


def _chat(chat_id: int, user: dict[str, Any] | None = None) -> dict[str, Any]:
    if chat_id < 0:
        return {"id": chat_id, "type": "group", "title": f"group {chat_id}"}
    first_name = user["first_name"] if user else f"user{chat_id}"
    return {"id": chat_id, "type": "private", "first_name": first_name}


class FakeTelegram(FakeServer):
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = set(tokens)
        self.pending: list[dict[str, Any]] = []  # updates not yet confirmed through `offset`
        self.delivered_at: dict[int, float] = {}  # update_id -> first time a getUpdates returned it
        self.pushed_at: dict[int, float] = {}
        self.calls: list[RecordedCall] = []
        self.sent: list[SentMessage] = []
        self.documents: list[SentDocument] = []
        self.allowed_updates: list[str] | None = None
        self.flood_remaining = 0
        self.flood_retry_after = 1
        self.files: dict[str, bytes] = {}  # file_id -> bytes served by getFile + /file/bot<token>/<path>
        self.file_folders: dict[str, str] = {}  # file_id -> the folder of its file_path ("photos", "voice")
        self.get_updates_status: int | None = None  # e.g. 502: every getUpdates fails until None
        self.flood_until: dict[str, float] = {}  # method -> end of its 429 window (monotonic)
        self.raw_answers: dict[str, list[RawAnswer]] = {}  # method -> answers served next, in order
        self.markup_refusals = 0  # the next sendMessage calls with a parse_mode are refused...
        self.markup_refusal = ""  # ...with this description
        self._next_update_id = 1000
        self._next_message_id: dict[int, int] = {}
        self._poll_generation = 0
        self._closing = False
        self._changed = asyncio.Condition()
        self.app = web.Application()
        self.app[FAKE_NAME] = "telegram"
        self.app.router.add_route("*", "/bot{token}/{method}", self._bot_method)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self.app.router.add_post("/_control/updates", self._control_push)
        self.app.router.add_get("/_control/sent", self._control_sent)
        self.app.router.add_get("/_control/calls", self._control_calls)
        self.app.router.add_post("/_control/flood", self._control_flood)
        self.app.router.add_post("/_control/reset", self._control_reset)
        self.server = RunningServer(self.app)
        self._methods: dict[str, Callable[[str, dict[str, Any]], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "sendChatAction": self._true,
            "deleteMessage": self._true,
            "deleteWebhook": self._true,
            "setMyCommands": self._true,
            "deleteMyCommands": self._true,
            "close": self._true,
            "logOut": self._true,
            "getMyCommands": self._empty_list,
            "getWebhookInfo": self._webhook_info,
            "getFile": self._get_file,
            "sendDocument": self._send_document,
        }

    # ---- lifecycle -------------------------------------------------------------------------
    async def close(self) -> None:
        async with self._changed:
            self._closing = True  # release held long polls so shutdown is immediate
            self._changed.notify_all()
        await super().close()

    # ---- control (in-process) --------------------------------------------------------------
    async def push_update(
        self, user_id: int, text: str | None, chat_id: int | None = None, extra: dict[str, Any] | None = None
    ) -> int:
        """Queue a text message from `user_id` in `chat_id` (private chat by default); `extra`
        fields are added to the message as they are (any shape, like a newer Bot API's)."""
        chat_id = user_id if chat_id is None else chat_id
        user = {"id": user_id, "is_bot": False, "first_name": f"user{user_id}", "language_code": "en"}
        async with self._changed:
            update_id = self._next_update_id
            self._next_update_id += 1
            message: dict[str, Any] = {
                "message_id": self._new_message_id(chat_id),
                "from": user,
                "chat": _chat(chat_id, user),
                "date": int(time.time()),
            }
            if text is not None:  # None: a message without text (a photo, a voice note)
                message["text"] = text
            command = re.match(r"/\w+(@\w+)?", text or "")
            if command:
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command.group())}]
            message.update(extra or {})
            self.pending.append({"update_id": update_id, "message": message})
            self.pushed_at[update_id] = time.monotonic()
            self._changed.notify_all()
        return update_id

    def add_file(self, data: bytes, folder: str = "documents") -> str:
        """Store a file the way Telegram holds an upload; returns its file_id."""
        file_id = f"AgAC{folder[:3]}{len(self.files):04d}{len(data)}"
        self.files[file_id] = data
        self.file_folders[file_id] = folder
        return file_id

    async def push_media(self, user_id: int, fields: dict[str, Any], caption: str | None = None) -> int:
        """Queue a message without text: `fields` are its attachment fields as the Bot API sends them
        ({"photo": [PhotoSize...]}, {"voice": {...}}, {"document": {...}}), plus an optional caption."""
        extra = dict(fields)
        if caption is not None:
            extra["caption"] = caption
        return await self.push_update(user_id, None, extra=extra)

    async def wait_for_sent(
        self, count: int, chat_id: int | None = None, wait_s: float = 10.0
    ) -> list[SentMessage]:
        """Wait until `count` messages were sent (to `chat_id` if given); TimeoutError otherwise."""

        def matching() -> list[SentMessage]:
            return [m for m in self.sent if chat_id is None or m.chat_id == chat_id]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(matching()) >= count), wait_s)
            return matching()

    async def wait_for_calls(self, method: str, count: int, wait_s: float = 10.0) -> list[RecordedCall]:
        """Wait until `method` was called at least `count` times in total."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.calls_to(method)) >= count), wait_s
            )
            return self.calls_to(method)

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.sent if m.chat_id == chat_id]

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method]

    def flood_next_sends(self, count: int, retry_after: int = 1) -> None:
        """The next `count` sendMessage calls answer 429 with parameters.retry_after."""
        self.flood_remaining, self.flood_retry_after = count, retry_after

    def flood_method(self, method: str, retry_after: int) -> None:
        """Every call of `method` answers 429 (remaining seconds as retry_after) for retry_after s."""
        self.flood_until[method] = time.monotonic() + retry_after

    def refuse_markup(
        self,
        count: int,
        description: str = 'Bad Request: can\'t parse entities: Unsupported start tag "b" at byte offset 0',
    ) -> None:
        """The next `count` formatted sendMessage calls answer 400 `description`, as the API does for
        markup it reads differently or entities over its size cap (a plain send is accepted as usual)."""
        self.markup_refusals, self.markup_refusal = count, description

    def fail_next(self, method: str, *answers: RawAnswer) -> None:
        """The next calls of `method` get these raw answers, one each, before normal service resumes."""
        self.raw_answers.setdefault(method, []).extend(answers)

    def confirmed_below(self) -> int:
        """The highest offset a getUpdates has sent: every update below it is acknowledged."""
        offsets = [int(c.params.get("offset") or 0) for c in self.calls_to("getUpdates")]
        return max(offsets, default=0)

    def reset(self) -> None:
        """Forget updates, calls and sent messages and undo scripted failures.

        Update and message ids keep counting: a gateway still polling keeps its `offset`.
        """
        self.pending.clear()
        self.calls.clear()
        self.sent.clear()
        self.documents.clear()
        self.delivered_at.clear()
        self.pushed_at.clear()
        self.flood_remaining, self.flood_retry_after = 0, 1
        self.get_updates_status = None
        self.markup_refusals = 0

    # ---- bot API ---------------------------------------------------------------------------
    async def _bot_method(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        if token not in self.tokens:
            return _unauthorized()
        try:
            params = await self._params(request)
        except UploadTooLarge:
            body = {"ok": False, "error_code": 413, "description": "Request Entity Too Large"}
            return web.json_response(body, status=413)
        async with self._changed:
            self.calls.append(RecordedCall(method, {k: v for k, v in params.items() if k != "_uploads"}))
            self._changed.notify_all()
        if method == "getUpdates" and self.get_updates_status is not None:
            description = "Bad Gateway" if self.get_updates_status == 502 else "scripted getUpdates failure"
            body = {"ok": False, "error_code": self.get_updates_status, "description": description}
            return web.json_response(body, status=self.get_updates_status)
        if self.raw_answers.get(method):
            return self.raw_answers[method].pop(0).response()
        remaining = self.flood_until.get(method, 0.0) - time.monotonic()
        if remaining > 0:
            retry_after = max(1, round(remaining))
            description = f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
            body = {"ok": False, "error_code": 429, "description": description, "parameters": parameters}
            return web.json_response(body, status=429)
        handler = self._methods.get(method)
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found: method not found"}, status=404
            )
        try:
            result = await handler(token, params)
        except TelegramError as exc:
            body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            return web.json_response(body, status=exc.code)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data = await request.json()
            return dict(data) if isinstance(data, dict) else {}
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.content_type == "multipart/form-data":
            fields, uploads = await read_form(request, MAX_BOT_UPLOAD_BYTES)
            raw.update(fields)
        elif request.can_read_body:
            form = await request.post()
            raw.update({k: v for k, v in form.items() if isinstance(v, str)})
        params: dict[str, Any] = {"_uploads": uploads} if uploads else {}
        for key, value in raw.items():
            if key in _JSON_PARAMS and isinstance(value, str):
                try:
                    value = json.loads(value)
                except json.JSONDecodeError as exc:
                    raise web.HTTPBadRequest(text=f"{key} is not valid JSON") from exc
            params[key] = value
        return params

    def _bot_user(self, token: str) -> dict[str, Any]:
        bot_id = int(token.split(":", 1)[0])
        return {
            "id": bot_id,
            "is_bot": True,
            "first_name": "PicoClaw Test",
            "username": f"picoclaw_test_{bot_id}_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _new_message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] = self._next_message_id.get(chat_id, 0) + 1
        return self._next_message_id[chat_id]

    async def _true(self, _token: str, _params: dict[str, Any]) -> bool:
        return True

    async def _empty_list(self, _token: str, _params: dict[str, Any]) -> list[Any]:
        return []

    async def _webhook_info(self, _token: str, _params: dict[str, Any]) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self.pending)}

    async def _get_me(self, token: str, _params: dict[str, Any]) -> dict[str, Any]:
        return self._bot_user(token)

    async def _get_updates(self, _token: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0) or 0)
        limit = max(1, min(100, int(params.get("limit", 100) or 100)))
        timeout = max(0.0, float(params.get("timeout", 0) or 0))
        if "allowed_updates" in params:
            self.allowed_updates = params["allowed_updates"] or None  # [] means "all" like the real API
        async with self._changed:
            if offset > 0:  # confirms every update below offset
                self.pending = [u for u in self.pending if u["update_id"] >= offset]
            # A newer getUpdates ends older held ones (the real API answers them 409 Conflict).
            self._poll_generation += 1
            generation = self._poll_generation
            self._changed.notify_all()

            def eligible() -> list[dict[str, Any]]:
                wanted = self.allowed_updates
                return [u for u in self.pending if wanted is None or any(k in u for k in wanted)][:limit]

            def ready() -> bool:
                return bool(eligible()) or self._closing or generation != self._poll_generation

            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            if generation != self._poll_generation:
                raise TelegramError(409, "Conflict: terminated by other getUpdates request")
            updates = eligible()
            now = time.monotonic()
            for update in updates:
                self.delivered_at.setdefault(update["update_id"], now)
            return updates

    async def _send_message(self, _token: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.flood_remaining > 0:
            self.flood_remaining -= 1
            raise TelegramError(
                429,
                f"Too Many Requests: retry after {self.flood_retry_after}",
                {"retry_after": self.flood_retry_after},
            )
        chat_id = self._chat_id(params)
        if params.get("parse_mode") and self.markup_refusals > 0:
            self.markup_refusals -= 1
            raise TelegramError(
                400, 'Bad Request: can\'t parse entities: Unsupported start tag "b" at byte offset 0'
            )
        text, entities = parsed_text(str(params.get("text", "")), params.get("parse_mode"))
        if not text.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if utf16_len(text) > MAX_MESSAGE_UTF16:
            raise TelegramError(400, "Bad Request: message is too long")
        async with self._changed:
            message_id = self._new_message_id(chat_id)
            self.sent.append(SentMessage(chat_id, text, message_id, params, entities=entities))
            self._changed.notify_all()
        message = self._bot_message(_token, chat_id, message_id, text)
        if entities:
            message["entities"] = entities
        return message

    async def _edit_message_text(self, token: str, params: dict[str, Any]) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            return True
        chat_id = self._chat_id(params)
        text, entities = parsed_text(str(params.get("text", "")), params.get("parse_mode"))
        if utf16_len(text) > MAX_MESSAGE_UTF16:
            raise TelegramError(400, "Bad Request: MESSAGE_TOO_LONG")
        message_id = int(params.get("message_id", 0))
        sent = next((m for m in self.sent if m.chat_id == chat_id and m.message_id == message_id), None)
        if sent is None:
            raise TelegramError(400, "Bad Request: message to edit not found")
        if (sent.text, sent.entities) == (text, entities):
            raise TelegramError(400, f"Bad Request: {NOT_MODIFIED}")
        async with self._changed:  # the chat shows the new text: `sent` keeps the message as it is now
            sent.text, sent.entities, sent.params = text, entities, params
            sent.edits += 1
            self._changed.notify_all()
        message = self._bot_message(token, chat_id, message_id, text)
        message["edit_date"] = int(time.time())
        return message

    async def _get_file(self, _token: str, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            raise TelegramError(400, "Bad Request: invalid file_id")
        if len(self.files[file_id]) > MAX_BOT_DOWNLOAD_BYTES:
            raise TelegramError(400, "Bad Request: file is too big")  # the Bot API's 20 MB download limit
        return {
            "file_id": file_id,
            "file_unique_id": file_id[:8],
            "file_size": len(self.files[file_id]),
            "file_path": f"{self.file_folders.get(file_id, 'documents')}/{file_id}",
        }

    async def _send_document(self, token: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        uploads: dict[str, Upload] = params.pop("_uploads", {})
        document = params.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            upload = uploads.get(document.removeprefix("attach://"))
        elif isinstance(document, str) and document in self.files:  # a file_id: sent again, no upload
            upload = Upload("document", "document", "application/octet-stream", self.files[document])
        else:
            upload = uploads.get("document")
        if upload is None:
            raise TelegramError(400, "Bad Request: there is no document in the request")
        if not upload.data:
            raise TelegramError(400, "Bad Request: file must be non-empty")
        caption = str(params.get("caption") or "")
        if len(caption) > MAX_CAPTION:
            raise TelegramError(400, "Bad Request: message caption is too long")
        async with self._changed:
            message_id = self._new_message_id(chat_id)
            sent = SentDocument(
                chat_id, upload.filename, upload.data, caption, message_id, upload.content_type
            )
            self.documents.append(sent)
            self._changed.notify_all()
        file_id = self.add_file(upload.data)
        message = self._bot_message(token, chat_id, message_id, "")
        del message["text"]
        message["document"] = {
            "file_id": file_id,
            "file_unique_id": file_id[:8],
            "file_name": upload.filename,
            "mime_type": upload.content_type,
            "file_size": len(upload.data),
        }
        if caption:
            message["caption"] = caption
        return message

    async def wait_for_documents(self, count: int, wait_s: float = 10.0) -> list[SentDocument]:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.documents) >= count), wait_s)
            return list(self.documents)

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] not in self.tokens:
            return _unauthorized()
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=self.files[file_id])

    def _bot_message(self, token: str, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "from": self._bot_user(token),
            "chat": _chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }

    @staticmethod
    def _chat_id(params: dict[str, Any]) -> int:
        try:
            return int(params["chat_id"])
        except (KeyError, ValueError):
            raise TelegramError(400, "Bad Request: chat not found") from None

    # ---- control (HTTP) --------------------------------------------------------------------
    async def _control_push(self, request: web.Request) -> web.Response:
        data = await request.json()
        update_id = await self.push_update(int(data["user_id"]), str(data["text"]), data.get("chat_id"))
        return web.json_response({"update_id": update_id})

    async def _control_sent(self, request: web.Request) -> web.Response:
        count = int(request.query.get("count", 0))
        chat_id = int(request.query["chat_id"]) if "chat_id" in request.query else None
        timeout = float(request.query.get("timeout", 10))
        try:
            messages = await self.wait_for_sent(count, chat_id, timeout)
        except TimeoutError:
            return web.json_response({"error": f"fewer than {count} messages after {timeout}s"}, status=408)
        return web.json_response([m.to_json() for m in messages])

    async def _control_calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        calls = [c for c in self.calls if method is None or c.method == method]
        return web.json_response([{"method": c.method, "params": c.params} for c in calls])

    async def _control_flood(self, request: web.Request) -> web.Response:
        data = await request.json()
        self.flood_next_sends(int(data.get("count", 1)), int(data.get("retry_after", 1)))
        return web.json_response({"ok": True})

    async def _control_reset(self, _request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", action="append", required=True, help="bot token to accept (repeatable)")
    args = parser.parse_args()
    fake = FakeTelegram(args.token)
    asyncio.run(serve_forever([RunningServer(fake.app, args.host, args.port)]))


if __name__ == "__main__":
    main()
