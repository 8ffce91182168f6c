"""Discord and Slack attachments: which one the assistant takes, and where its bytes may be fetched.

The file URL comes in the platform's event; it is fetched only from the platform's own file hosts
(or the host of a configured api_base, for test doubles and proxies). On Slack the request carries
the bot token, which must never go to another host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from picoclaw_gateway.media.download import MediaUnavailable
from picoclaw_gateway.media.ref import MediaRef


def _int(value: Any) -> int | None:
    if isinstance(value, float) and value >= 0:
        return round(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@dataclass(frozen=True, slots=True)
class Fields:
    """A platform's names for an attachment's fields."""

    url: str
    mime: str
    size: str
    width: str
    height: str
    seconds: str
    name: str


DISCORD_FIELDS = Fields("url", "content_type", "size", "width", "height", "duration", "filename")
# url_private: with the bot token it answers the file's bytes; "seconds" is derived from duration_ms
SLACK_FIELDS = Fields("url_private", "mimetype", "size", "original_w", "original_h", "seconds", "name")


def pick_attachment(items: list[dict[str, Any]], fields: Fields) -> MediaRef | None:
    """The first image or audio item (Slack `files`, Discord `attachments`), read through the
    platform's field names; with neither, the first other file, as a document."""
    usable = [item for item in items if isinstance(item, dict) and isinstance(item.get(fields.url), str)]
    for item in usable:
        mime = item.get(fields.mime) if isinstance(item.get(fields.mime), str) else ""
        kind = "image" if mime.startswith("image/") else "audio" if mime.startswith("audio/") else None
        if kind is not None:
            return MediaRef(
                kind,
                item[fields.url],
                mime,
                size=_int(item.get(fields.size)),
                seconds=_int(item.get(fields.seconds)),
                width=_int(item.get(fields.width)),
                height=_int(item.get(fields.height)),
            )
    if not usable:
        return None
    first = usable[0]
    mime = first.get(fields.mime) if isinstance(first.get(fields.mime), str) else ""
    name = first.get(fields.name) if isinstance(first.get(fields.name), str) else ""
    return MediaRef("document", first[fields.url], mime, size=_int(first.get(fields.size)), name=name)


def checked_url(url: str, hosts: tuple[str, ...], api_base: str | None) -> str:
    """`url` when it is https on one of `hosts` (or on the configured api_base's host and scheme)."""
    parts = urlsplit(url)
    if api_base:
        base = urlsplit(api_base)
        if (parts.scheme, parts.hostname, parts.port) == (base.scheme, base.hostname, base.port):
            return url
    if parts.scheme == "https" and parts.hostname in hosts and parts.port in (None, 443):
        return url
    raise MediaUnavailable("the attachment is not on the platform's file host")
