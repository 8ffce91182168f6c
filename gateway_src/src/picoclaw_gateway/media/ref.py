"""What a channel knows of an attachment at intake: a reference, never its bytes.

The journal records the reference with the message, so a restart fetches the bytes again
instead of keeping them on disk; the bytes live only for the duration of one turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = ("image", "audio", "document")


@dataclass(frozen=True, slots=True)
class MediaRef:
    kind: str  # "image" | "audio" | "document"
    ref: str  # Telegram file_id, Discord attachment URL, Slack url_private
    mime: str = ""  # as the platform says (checked again against the bytes for images)
    size: int | None = None  # bytes, when the platform says
    seconds: int | None = None  # audio duration, when the platform says
    width: int | None = None
    height: int | None = None
    name: str = ""  # a document's file name as the sender's platform says (untrusted: media/inbox.py)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "ref": self.ref}
        for key in ("mime", "size", "seconds", "width", "height", "name"):
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = value
        return out

    @classmethod
    def from_json(cls, raw: Any) -> MediaRef:
        """Raises TypeError/ValueError for anything that is not one of ours (a damaged journal frame)."""
        if not isinstance(raw, dict) or raw.get("kind") not in KINDS or not isinstance(raw.get("ref"), str):
            raise TypeError("not a media reference")
        ints = {key: _opt_int(raw.get(key)) for key in ("size", "seconds", "width", "height")}
        mime, name = raw.get("mime", ""), raw.get("name", "")
        if not isinstance(mime, str) or not isinstance(name, str):
            raise TypeError("mime or name is not a string")
        return cls(raw["kind"], raw["ref"], mime, **ints, name=name)


def _opt_int(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("not a size")
    return value
