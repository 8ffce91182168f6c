"""Allowed users: one canonical string id per person, per platform."""

from __future__ import annotations

import re

from .checker import Checker, child, is_int, json_type, show

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{6,20}$")
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,}$")
MAX_ID_DIGITS = 20  # Telegram and Discord user ids are 64-bit numbers


def _user_id(ck: Checker, kind: str, value: object, path: str, upstream: bool) -> str | None:
    """One allowed user as a canonical string, or None after reporting."""
    if kind in ("telegram", "discord"):
        text = None  # type: str | None
        if is_int(value):
            if value <= 0:
                extra = " (a group/chat id? list people's user ids)" if value < 0 else ""
                ck.err(
                    path,
                    f"user id must be a positive number, got {value}{extra}",
                    "use the numeric user id of a person",
                )
                return None
            text = str(value)
        elif isinstance(value, str):
            text = value
            if upstream and kind == "telegram" and "|" in value:
                # Upstream logs senders as "id|username" and users paste that; the id decides.
                head = value.split("|", 1)[0]
                if head.isdigit():
                    ck.warn(
                        path,
                        'entry is "id|username"; only the numeric id is used',
                        "write just the number before '|'",
                    )
                    text = head
            if not (text.isdigit() and text.isascii()):
                if text.startswith("@") or _USERNAME.match(text):
                    ck.err(
                        path,
                        f"{show(value)} looks like a username; only numeric user ids are accepted "
                        "(usernames can be changed and reused)",
                        "replace it with the person's numeric user id",
                    )
                else:
                    ck.err(
                        path,
                        f"user id must be digits only, got {show(value)}",
                        "write the numeric user id, e.g. 123456789",
                    )
                return None
            text = text.lstrip("0") or "0"  # what str(int(text)) gives, in linear time
            if text == "0":
                ck.err(
                    path, "user id must be a positive number, got 0", "use the numeric user id of a person"
                )
                return None
        else:
            ck.err(
                path,
                f"user id must be a whole number or a string of digits, got {show(value)}"
                if isinstance(value, float)
                else f"user id must be a number or a string of digits, got {json_type(value)}",
                "write the numeric user id, e.g. 123456789",
            )
            return None
        if kind == "telegram" and len(text) > MAX_ID_DIGITS:
            ck.err(
                path,
                f"a user id has at most {MAX_ID_DIGITS} digits, this one has {len(text)}",
                "write the numeric user id of a person, e.g. 123456789",
            )
            return None
        if kind == "discord" and not 17 <= len(text) <= 20:
            ck.err(
                path,
                f"a Discord user id (snowflake) has 17 to 20 digits, this one has {len(text)}",
                "copy the id with Developer Mode > right-click the user > Copy User ID",
            )
            return None
        return text
    if not isinstance(value, str):
        ck.err(
            path,
            f"Slack user id must be a string, got {json_type(value)}",
            'write the member id in quotes, e.g. "U0123ABCD"',
        )
        return None
    if not _SLACK_USER.match(value):
        ck.err(
            path,
            f"{show(value)} is not a Slack user id (U or W followed by 6-20 capital letters/digits)",
            'copy the Member ID from the user\'s profile (... > Copy member ID), e.g. "U0123ABCD"',
        )
        return None
    return value


def check_allowed_users(ck: Checker, kind: str, raw: object, path: str, upstream: bool) -> list | None:
    if not isinstance(raw, list):
        ck.err(path, f"must be an array of user ids, got {json_type(raw)}", "write [123456789] (an array)")
        return None
    out = []  # type: list
    seen = set()  # type: set  # a set, not `in out`: 100k users must stay linear
    for index, value in enumerate(raw):
        item = _user_id(ck, kind, value, child(path, index), upstream)
        if item is None:
            continue
        if item in seen:
            ck.warn(child(path, index), "user id listed twice", "remove the duplicate")
            continue
        seen.add(item)
        out.append(item)
    return out
