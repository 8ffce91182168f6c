"""The lazy aiogram import parses real-shaped Telegram data exactly like the normal import,
and uses much less memory. Each check runs in a fresh interpreter (imports are global state)."""

from __future__ import annotations

import json
import subprocess
import sys

PARSE = r"""
import json, sys
LAZY = sys.argv[1] == "lazy"
if LAZY:
    from picoclaw_gateway.channels._aiogram_lazy import import_aiogram, is_patched
    import_aiogram()
    assert is_patched()
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
import aiogram
after_import = rss()
from aiogram.methods.base import Response
from aiogram.types import Message, Update, User

user = {"id": 42, "is_bot": False, "first_name": "Ann", "username": "ann", "language_code": "en"}
chat = {"id": 42, "type": "private", "first_name": "Ann", "username": "ann"}
group = {"id": -1001234567890, "type": "supergroup", "title": "Team"}
updates = [
    {"update_id": 1, "message": {"message_id": 10, "date": 1700000000, "chat": chat, "from": user,
        "text": "/start hello https://example.com",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6},
                     {"type": "url", "offset": 13, "length": 19}],
        "reply_to_message": {"message_id": 9, "date": 1699999999, "chat": chat,
                             "from": {"id": 7, "is_bot": True, "first_name": "Bot"}, "text": "earlier"}}},
    {"update_id": 2, "message": {"message_id": 11, "date": 1700000001, "chat": chat, "from": user,
        "caption": "a cat", "photo": [
            {"file_id": "AgAD1", "file_unique_id": "u1", "width": 90, "height": 60, "file_size": 1200},
            {"file_id": "AgAD2", "file_unique_id": "u2", "width": 1280, "height": 853}]}},
    {"update_id": 3, "callback_query": {"id": "cb1", "from": user, "chat_instance": "ci", "data": "yes",
        "message": {"message_id": 12, "date": 1700000002, "chat": chat, "text": "Sure?",
                    "reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}}}},
    {"update_id": 4, "edited_message": {"message_id": 10, "date": 1700000000, "edit_date": 1700000100,
        "chat": chat, "from": user, "text": "edited"}},
    {"update_id": 5, "chat_member": {"chat": group, "from": user, "date": 1700000003,
        "old_chat_member": {"status": "left", "user": {"id": 99, "is_bot": False, "first_name": "Bo"}},
        "new_chat_member": {"status": "member", "user": {"id": 99, "is_bot": False, "first_name": "Bo"}}}},
]
ctx = {"bot": None}
got = Response[list[Update]].model_validate({"ok": True, "result": updates}, context=ctx).result
me = Response[User].model_validate({"ok": True, "result": {"id": 123456, "is_bot": True,
    "first_name": "Pico", "username": "pico_bot", "can_join_groups": True,
    "can_read_all_group_messages": False, "supports_inline_queries": False}}, context=ctx).result
sent = Response[Message].model_validate({"ok": True, "result": {"message_id": 13, "date": 1700000004,
    "chat": chat, "from": {"id": 123456, "is_bot": True, "first_name": "Pico"}, "text": "hi"}},
    context=ctx).result
for i in range(1000):
    Update.model_validate({**updates[0], "update_id": 100 + i}, context=ctx)
out = {
    "text": got[0].message.text,
    "entities": [(e.type, e.offset, e.length) for e in got[0].message.entities],
    "reply_text": got[0].message.reply_to_message.text,
    "reply_from_bot": got[0].message.reply_to_message.from_user.is_bot,
    "photo": [p.file_id for p in got[1].message.photo], "caption": got[1].message.caption,
    "photo_width": got[1].message.photo[1].width,
    "callback": [got[2].callback_query.data, got[2].callback_query.message.text,
                 got[2].callback_query.message.reply_markup.inline_keyboard[0][0].callback_data],
    "edited": [got[3].edited_message.text, got[3].edited_message.edit_date,
               got[3].edited_message.date.timestamp()],
    "member": [got[4].chat_member.new_chat_member.status, got[4].chat_member.chat.title,
               got[4].chat_member.new_chat_member.user.id],
    "me": [me.username, me.can_join_groups], "sent": [sent.message_id, sent.chat.id, sent.text],
    "sender": got[0].message.from_user.username, "aiohttp": "aiohttp" in sys.modules,
    "rss_import": after_import, "rss_parsed": rss(),
}
print(json.dumps(out))
"""


def run(mode: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", PARSE, mode], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.splitlines()[-1])


def test_lazy_import_parses_real_shaped_updates_like_the_normal_import() -> None:
    lazy, normal = run("lazy"), run("normal")
    expected = {
        "text": "/start hello https://example.com",
        "entities": [["bot_command", 0, 6], ["url", 13, 19]],
        "reply_text": "earlier",
        "reply_from_bot": True,
        "photo": ["AgAD1", "AgAD2"],
        "caption": "a cat",
        "photo_width": 1280,
        "callback": ["yes", "Sure?", "yes"],
        "edited": ["edited", 1700000100, 1700000000.0],
        "member": ["member", "Team", 99],
        "me": ["pico_bot", True],
        "sent": [13, 42, "hi"],
        "sender": "ann",
    }
    for key, value in expected.items():
        assert lazy[key] == value, key
        assert normal[key] == value, key
    assert lazy["aiohttp"] is False, "the lazy import replaces aiogram's aiohttp session"
    # The point of the patch: far less memory, after import and after parsing 1,000 updates.
    assert lazy["rss_import"] < normal["rss_import"] - 25_000, (lazy, normal)
    assert lazy["rss_parsed"] < normal["rss_parsed"] - 20_000, (lazy, normal)
    print(
        f"lazy {lazy['rss_import']}/{lazy['rss_parsed']} KB, normal {normal['rss_import']}/"
        f"{normal['rss_parsed']} KB"
    )


def test_other_aiogram_versions_fall_back_to_the_normal_import() -> None:
    code = (
        "import importlib.metadata as md, sys\n"
        "real = md.version\n"
        "md.version = lambda name: '3.99.0' if name == 'aiogram' else real(name)\n"
        "from picoclaw_gateway.channels._aiogram_lazy import import_aiogram, is_patched\n"
        "import_aiogram()\n"
        "from aiogram.types import Update\n"
        "u = Update.model_validate({'update_id': 1, 'message': {'message_id': 1, 'date': 1,"
        " 'chat': {'id': 1, 'type': 'private'}, 'text': 'x'}})\n"
        "print(is_patched(), u.message.text)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["False", "x"]
    assert "not the tested 3.28.2" in proc.stderr
