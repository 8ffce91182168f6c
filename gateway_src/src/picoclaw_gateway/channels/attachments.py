"""Discord and Slack attachments: which one the assistant takes, and where its bytes may be fetched.

The file URL comes in the platform's event; it is fetched only from the platform's own file hosts
(or the host of a configured api_base, for test doubles and proxies). On Slack the request carries
the bot token, which must never go to another host.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from picoclaw_gateway.media.download import MediaUnavailable
from picoclaw_gateway.media.ref import MediaRef


def _int(value: Any) -> int | None:
    if isinstance(value, float) and value >= 0:
        return round(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def pick_attachment(
    items: list[dict[str, Any]],
    *,
    url: str,
    mime: str,
    size: str,
    width: str,
    height: str,
    seconds: str,
    name: str,
) -> MediaRef | None:
    """The first image or audio item (Slack `files`, Discord `attachments`), named by its field
    names; with neither, the first other file, as a document."""
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get(url), str):
            continue
        kind_mime = item.get(mime) if isinstance(item.get(mime), str) else ""
        kind = (
            "image" if kind_mime.startswith("image/") else "audio" if kind_mime.startswith("audio/") else None
        )
        if kind is None:
            continue
        return MediaRef(
            kind,
            item[url],
            kind_mime,
            size=_int(item.get(size)),
            seconds=_int(item.get(seconds)),
            width=_int(item.get(width)),
            height=_int(item.get(height)),
        )
    for item in items:
        if isinstance(item, dict) and isinstance(item.get(url), str):
            kind_mime = item.get(mime) if isinstance(item.get(mime), str) else ""
            filename = item.get(name) if isinstance(item.get(name), str) else ""
            return MediaRef("document", item[url], kind_mime, size=_int(item.get(size)), name=filename)
    return None


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
