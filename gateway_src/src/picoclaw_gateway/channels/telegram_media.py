"""Which attachment of a Telegram message the assistant takes: a photo, an image document, a voice
note, an audio file, an audio document or another document (a file saved to the workspace), read
from the raw update, before aiogram decodes it."""

from __future__ import annotations

from typing import Any

from picoclaw_gateway.media.ref import MediaRef


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _photo(sizes: list[Any], fit: tuple[int, int]) -> MediaRef | None:
    """Telegram sends each photo in several sizes (90 to 1280 or 2560 px): the largest that fits
    the caps, so no downscaling is needed; none fits: the smallest, which the turn then refuses."""
    usable = [s for s in sizes if isinstance(s, dict) and isinstance(s.get("file_id"), str)]
    if not usable:
        return None
    max_bytes, max_side = fit

    def side(s: dict[str, Any]) -> int:
        return max(_int(s.get("width")) or 0, _int(s.get("height")) or 0)

    usable.sort(key=side)
    fitting = [s for s in usable if side(s) <= max_side and (_int(s.get("file_size")) or 0) <= max_bytes]
    best = fitting[-1] if fitting else usable[0]
    return MediaRef(
        "image",
        best["file_id"],
        "image/jpeg",
        size=_int(best.get("file_size")),
        width=_int(best.get("width")),
        height=_int(best.get("height")),
    )


def telegram_media(message: dict[str, Any], fit: tuple[int, int]) -> MediaRef | None:
    photo = message.get("photo")
    if isinstance(photo, list):
        return _photo(photo, fit)
    for key in ("voice", "audio", "document"):
        item = message.get(key)
        if not isinstance(item, dict) or not isinstance(item.get("file_id"), str):
            continue
        mime = item.get("mime_type") if isinstance(item.get("mime_type"), str) else ""
        if key == "voice":
            mime = mime or "audio/ogg"
        kind = "audio"
        if key == "document":
            kind = (
                "image" if mime.startswith("image/") else "audio" if mime.startswith("audio/") else "document"
            )
        name = item.get("file_name") if isinstance(item.get("file_name"), str) else ""
        return MediaRef(
            kind,
            item["file_id"],
            mime,
            size=_int(item.get("file_size")),
            seconds=_int(item.get("duration")),
            name=name if kind == "document" else "",
        )
    return None
