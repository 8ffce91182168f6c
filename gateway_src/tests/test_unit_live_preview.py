"""LivePreview (channels/live.py): the throttle, and a flood-control pause that skips an edit."""

from __future__ import annotations

import asyncio
import time

from picoclaw_gateway.channels.live import LivePreview


class Chat:
    """One message that the preview sends and edits; the first `refuse` edits answer a pause."""

    def __init__(self, refuse: int = 0, pause_s: float = 0.3) -> None:
        self.shown: list[tuple[str, float]] = []
        self.refuse, self.pause_s = refuse, pause_s

    async def send(self, text: str) -> str:
        self.shown.append((text, time.monotonic()))
        return "m1"

    async def edit(self, message_id: str, text: str) -> float | None:
        assert message_id == "m1"
        if self.refuse:
            self.refuse -= 1
            return self.pause_s  # like a 429: not shown
        self.shown.append((text, time.monotonic()))
        return None


async def test_edits_are_throttled_and_a_skipped_edit_is_made_up_with_the_latest_text() -> None:
    chat = Chat(refuse=1)
    preview = LivePreview(chat.send, chat.edit, 0.2, lambda text: text)
    preview.update("one")
    await asyncio.sleep(0.25)
    preview.update("one two")  # this edit is refused: the pause (0.3 s) is waited out
    await asyncio.sleep(0.6)  # no newer text: the refused text is tried again
    assert await preview.finish() == "m1"
    assert [text for text, _at in chat.shown] == ["one …", "one two …"]
    gap = chat.shown[1][1] - chat.shown[0][1]
    assert gap >= 0.2 + 0.3 - 0.02, "the edit waited the interval, then the pause"


async def test_finish_ends_the_preview_at_once() -> None:
    chat = Chat()
    preview = LivePreview(chat.send, chat.edit, 30.0, lambda text: text)
    preview.update("hello")
    await asyncio.sleep(0.05)
    started = time.monotonic()
    assert await preview.finish() == "m1"
    assert time.monotonic() - started < 1.0, "the 30 s interval does not hold up the answer"
    preview.update("ignored after finish")
    assert [text for text, _at in chat.shown] == ["hello …"]
