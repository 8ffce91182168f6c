"""A document sent in chat becomes a file in the workspace and a note for the LLM, or a notice.

The bytes are streamed from the platform into inbox/<chat>/ (media/inbox.py), never held in
memory; over media.documents.max_bytes (or the platform's own download limit) nothing is fetched
and the user is told. The turn's user message is "[the user sent a file, saved as inbox/...]"
plus the caption, so the tools (read_file, exec) can work on it; the history keeps the same note.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from picoclaw_gateway.media.download import MediaTooLarge, MediaUnavailable, fetch_into
from picoclaw_gateway.media.inbox import InboxFile, chat_folder, safe_name

if TYPE_CHECKING:
    from picoclaw_gateway.channels.base import Channel
    from picoclaw_gateway.config import MediaConfig
    from picoclaw_gateway.media.ref import MediaRef

log = logging.getLogger(__name__)

FILE_MARK = "[the user sent a file"
NO_DOCUMENTS = (
    "I do not take files on this bot (the owner can turn it on: media.documents.enabled in the config)."
)
# A document may be far larger than a photo: its download gets this many times media.download_timeout_s.
DOCUMENT_TIMEOUT_FACTOR = 5


def size_text(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB" if count >= 1024 * 1024 else f"{max(1, count // 1024)} KB"


def _default_name(mime: str) -> str:
    """A name for a file the platform sent without one (Telegram documents may lack file_name)."""
    sub = mime.split(";", 1)[0].rpartition("/")[2].strip().lower()
    return f"file.{sub}" if sub.isalnum() and len(sub) <= 8 else "file"


async def save_document(
    config: MediaConfig, workspace: Path, text: str, media: MediaRef, channel: Channel, chat_id: str
) -> tuple[str | None, str | None]:
    """(the user message for the LLM, None) once saved, or (None, the notice for the user)."""
    docs = config.documents
    if not docs.enabled:
        return None, NO_DOCUMENTS
    cap = min(docs.max_bytes, channel.max_download_bytes or docs.max_bytes)
    too_big = "This file is too large for me ({size}; the limit is {cap})."
    if media.size is not None and media.size > cap:
        return None, too_big.format(size=size_text(media.size), cap=size_text(cap))
    name = safe_name(media.name, _default_name(media.mime))
    target: InboxFile | None = None
    try:
        url, headers = await channel.media_location(media)
        target = InboxFile(workspace, chat_folder(channel.name, chat_id), name)
        size = await fetch_into(
            target.write,
            url,
            headers=headers,
            max_bytes=cap,
            timeout_s=config.download_timeout_s * DOCUMENT_TIMEOUT_FACTOR,
            proxy=channel.config.proxy,
            expect_html=media.mime.startswith("text/html"),
        )
        saved = target.commit()
    except MediaTooLarge as exc:
        return None, too_big.format(size=size_text(int(exc.args[0])), cap=size_text(cap))
    except MediaUnavailable as exc:
        log.warning("%s: could not fetch a document: %s", channel.name, exc)
        return None, f"I could not fetch that file from {channel.name} ({exc}). Please send it again."
    except OSError as exc:
        log.error("could not save a document in the workspace's inbox: %s", exc.strerror)
        return None, "I could not save that file in my workspace (a problem on my side)."
    finally:
        if target is not None:
            target.discard()  # after a commit: only closes the folder
    log.info("%s: saved a document of %d bytes as %s", channel.name, size, saved)
    note = f"{FILE_MARK}, saved as {saved} ({size_text(size)})]"
    caption = text.strip()
    return (f"{note}\n{caption}" if caption else note), None
