"""Live replies (replies.live): one message shows the answer as it arrives, edited in place.

The preview is cosmetic and never delays the answer: the first text is sent as a plain message,
later text replaces it at most every `interval_s` (never faster than the platform's floor,
Channel.live_min_interval_s), a flood-control pause (429 retry_after) is waited out by skipping
the edits it covers (the latest text is shown after it), any failure only stops the preview.
Text is masked and cut to one message with a trailing "…". When the turn is done, `finish()`
hands the message over to the delivery: the reply's first part is written into it
(Channel.send, with the usual retries), so the chat ends with the same messages as without live
replies. A preview left by a crash mid-answer stays as it was; the answer comes as a new message
after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from picoclaw_gateway.logging_setup import mask_secrets

log = logging.getLogger(__name__)

SendPreview = Callable[[str], Awaitable[str]]  # text -> message id (Slack's is a timestamp)
EditPreview = Callable[[str, str], Awaitable[float | None]]  # -> a pause the platform asked for
MORE = " …"
FINISH_WAIT_S = 5.0


class LivePreview:
    def __init__(
        self, send: SendPreview, edit: EditPreview, interval_s: float, cut: Callable[[str], str]
    ) -> None:
        self._send, self._edit, self._interval_s, self._cut = send, edit, interval_s, cut
        self._latest = ""
        self._shown = ""
        self._changed = asyncio.Event()
        self._stop = asyncio.Event()
        self._done = False
        self._task: asyncio.Task[None] | None = None
        self.message_id: str | None = None

    def update(self, text: str) -> None:
        """All of the answer's text so far (called for every piece that arrives)."""
        if self._done:
            return
        self._latest = text
        self._changed.set()
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        try:
            while not self._done:
                await self._changed.wait()
                self._changed.clear()
                if self._done:
                    return
                text = self._cut(mask_secrets(self._latest)).rstrip()
                if not text.strip() or text == self._shown:
                    continue
                pause = None
                if self.message_id is None:
                    self.message_id = await self._send(text + MORE)
                else:
                    pause = await self._edit(self.message_id, text + MORE)
                if pause is None:
                    self._shown = text
                with contextlib.suppress(TimeoutError):  # finish() ends the pause at once
                    await asyncio.wait_for(self._stop.wait(), max(self._interval_s, pause or 0.0))
                if pause is not None:  # a skipped edit is made up after the pause, with the latest text
                    self._changed.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # cosmetic: the answer itself is delivered as usual
            log.warning("live reply preview stopped: %s", type(exc).__name__)

    async def finish(self) -> str | None:
        """Stop updating; the preview's message id (None: nothing was shown). A send or edit in
        flight is waited for (briefly): cut, it could leave a message whose id is unknown."""
        self._done = True
        self._changed.set()
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), FINISH_WAIT_S)
            except TimeoutError:
                self._task.cancel()
        return self.message_id
