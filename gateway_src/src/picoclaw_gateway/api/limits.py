"""Per-client request windows for the automation API: every request counts toward the configured rate,
and failed token checks toward a much smaller one, so a token cannot be guessed at speed."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable

WINDOW_S = 60.0
MAX_AUTH_FAILURES = 10  # per client and window
MAX_CLIENTS = 1024  # tracked clients; the longest-idle one is forgotten past this (bounded memory)


class SlidingWindow:
    """At most `limit` events per client in any WINDOW_S seconds."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._events: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()

    def _recent(self, client: str) -> collections.deque[float]:
        events = self._events.pop(client, None) or collections.deque()
        horizon = self._clock() - WINDOW_S
        while events and events[0] <= horizon:
            events.popleft()
        self._events[client] = events  # most recently seen last
        while len(self._events) > MAX_CLIENTS:
            self._events.popitem(last=False)
        return events

    def retry_after(self, client: str) -> int:
        """0 when the client is under the limit, else the seconds until it is."""
        events = self._recent(client)
        if len(events) < self.limit:
            return 0
        return max(1, int(events[0] + WINDOW_S - self._clock()) + 1)

    def add(self, client: str) -> None:
        self._recent(client).append(self._clock())
