"""What a Telegram group message says about the bot, read from the raw update (before decoding).

A group is a chat of type "group" or "supergroup". The bot is mentioned by "@its_username" in the
text or caption, or by a text_mention entity naming its user id; replied to when the message
answers one of the bot's messages; given a command by "/cmd" or "/cmd@its_username" ("/cmd@other_bot"
is for another bot). The bot's user id is the number before ":" in its token; its username comes
from getMe, asked once, when the first group message needs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

GROUP_TYPES = ("group", "supergroup")
_COMMAND = re.compile(r"^/\w+(?:@(\w+))?")


@dataclass(frozen=True, slots=True)
class GroupSignals:
    group: bool
    mentioned: bool = False
    replied: bool = False
    command: bool = False


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def is_group(message: dict[str, Any]) -> bool:
    return _dict(message.get("chat")).get("type") in GROUP_TYPES


def message_text(message: dict[str, Any]) -> str:
    text = message.get("text")
    if not isinstance(text, str):
        text = message.get("caption")
    return text if isinstance(text, str) else ""


def mention_pattern(username: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@])@{re.escape(username)}\b", re.IGNORECASE)


def signals(message: dict[str, Any], bot_id: int, username: str | None) -> GroupSignals:
    if not is_group(message):
        return GroupSignals(group=False)
    text = message_text(message)
    entities = message.get("entities") or message.get("caption_entities") or []
    mentioned = bool(username) and bool(mention_pattern(username or "").search(text))
    mentioned = mentioned or any(
        _dict(e).get("type") == "text_mention" and _dict(_dict(e).get("user")).get("id") == bot_id
        for e in (entities if isinstance(entities, list) else [])
    )
    replied = _dict(_dict(message.get("reply_to_message")).get("from")).get("id") == bot_id
    command = False
    match = _COMMAND.match(text)
    if match:
        target = match.group(1)
        command = target is None or (bool(username) and target.lower() == (username or "").lower())
    return GroupSignals(group=True, mentioned=mentioned, replied=replied, command=command)


def without_mention(text: str, username: str | None) -> str:
    """The text with "@its_username" taken out (kept whole if nothing else is left)."""
    if not username:
        return text
    stripped = mention_pattern(username).sub("", text).strip()
    return stripped or text
