"""Per-user daily budgets: messages that reach the LLM and the tokens the providers report.

Counted per user (channel name + user id, not per chat: a user cannot reset a limit by writing in
another group) and per UTC day. Before a turn `admit()` says whether the user is over a limit:
then the user gets a plain notice and no LLM call is made. A turn that starts under the token
limit may end above it (its tokens are known only afterwards); the next one is refused.
The owner (the first allowed user of a channel) has separate limits, none unless set.

Once per accepted message: each count is keyed by the message's journal entry id (`turns`: entry
id -> what was counted for it), written in the same file as the counters. A message whose turn a
crash cut is run again after the restart (the journal resumes it); it was admitted and counted
before, so it is neither counted again nor refused by its own count. Ids whose entry is no
longer waiting for its turn (`pending` is false: the outcome is staged or sent) are dropped at
each write, so `turns` holds at most the journal's unfinished entries.

State: `<state>/usage.json`, today's counters only, at most MAX_USERS users (an open bot cannot
grow it without bound: users past it are refused for the day). It is written crash-safe
(durable.replace_file) every few seconds (the gateway's housekeeping) and at shutdown, so a
crash loses at most a few seconds of counting, never the file.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from picoclaw_gateway.config import BudgetConfig
from picoclaw_gateway.durable import replace_file

log = logging.getLogger(__name__)

MAX_USERS = 10000
FILE_NAME = "usage.json"
MAX_TURNS = 10000  # counted ids kept when nothing prunes them (no journal): bounds the file
FULL_NOTICE = "Sorry, this bot has reached its number of users for today. Please try again tomorrow."
MESSAGE, TOKENS = 1, 2  # what was counted for a turn (bits of `turns`' values)


def today() -> str:
    return time.strftime("%Y-%m-%d", time.gmtime())


def _limit_text(used: int, limit: int | None) -> str:
    return f"{used:,} of {limit:,}" if limit is not None else f"{used:,} (no limit)"


class UsageLedger:
    def __init__(
        self,
        state_dir: Path,
        config: BudgetConfig,
        owners: set[str],
        pending: Callable[[int], bool] = lambda _turn: True,
    ) -> None:
        self.path = state_dir / FILE_NAME
        self.config = config
        self.owners = owners  # "channel:user" keys of the owners
        self.pending = pending  # whether a journal entry may still run its turn
        self.day = today()
        self.users: dict[str, list[int]] = {}  # key -> [messages, tokens]
        self.turns: dict[int, int] = {}  # journal entry id -> MESSAGE | TOKENS counted for it
        self.dirty = False
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("usage counters in %s are unreadable (%s); counting from zero", self.path, exc)
            return
        if (
            not isinstance(data, dict)
            or data.get("day") != self.day
            or not isinstance(data.get("users"), dict)
        ):
            return  # another day (or not ours): today starts at zero
        for key, value in list(data["users"].items())[:MAX_USERS]:
            if isinstance(value, list) and len(value) == 2 and all(type(v) is int and v >= 0 for v in value):
                self.users[str(key)] = list(value)
        turns = data.get("turns")
        for raw_id, done in list(turns.items())[-MAX_TURNS:] if isinstance(turns, dict) else ():
            if str(raw_id).isdigit() and type(done) is int and self.pending(int(raw_id)):
                self.turns[int(raw_id)] = done & (MESSAGE | TOKENS)

    def _roll(self) -> None:
        day = today()
        if day != self.day:
            self.day, self.users, self.turns, self.dirty = day, {}, {}, True

    def limits(self, key: str) -> tuple[int | None, int | None]:
        if key in self.owners:
            return self.config.owner_daily_messages, self.config.owner_daily_tokens
        return self.config.daily_messages, self.config.daily_tokens

    def refusal(self, key: str) -> str | None:
        """The notice for a user over a limit today, or None (the turn may run)."""
        self._roll()
        max_messages, max_tokens = self.limits(key)
        if max_messages is None and max_tokens is None:
            return None
        used = self.users.get(key)
        if used is None:
            if len(self.users) >= MAX_USERS:
                log.warning("usage: %d users today already; refusing a new one", MAX_USERS)
                return FULL_NOTICE
            return None
        if max_messages is not None and used[0] >= max_messages:
            return f"You have used your {max_messages:,} messages for today. The limit resets at 00:00 UTC."
        if max_tokens is not None and used[1] >= max_tokens:
            return (
                f"You have used your {max_tokens:,} language-model tokens for today. "
                "The limit resets at 00:00 UTC."
            )
        return None

    def admit(self, key: str, turn: int) -> str | None:
        """Before journal entry `turn` runs for user `key`: the notice when the user is over a
        limit, else None, and the message is counted, once per `turn`: one admitted before a
        crash is admitted again without a second count."""
        self._roll()
        if self.turns.get(turn, 0) & MESSAGE:
            return None
        notice = self.refusal(key)
        if notice is None:
            self._count(key, turn, MESSAGE, messages=1)
        return notice

    def spent(self, key: str, turn: int, tokens: int) -> None:
        """The tokens the providers reported for entry `turn`'s turn; counted once per turn."""
        self._roll()
        if not self.turns.get(turn, 0) & TOKENS:
            self._count(key, turn, TOKENS, tokens=tokens)

    def _count(self, key: str, turn: int, what: int, messages: int = 0, tokens: int = 0) -> None:
        used = self.users.get(key)
        if used is None:
            if len(self.users) >= MAX_USERS:
                return
            used = self.users[key] = [0, 0]
        used[0] += messages
        used[1] += max(0, tokens)
        self.turns[turn] = self.turns.get(turn, 0) | what
        if len(self.turns) > MAX_TURNS:
            del self.turns[next(iter(self.turns))]  # the oldest: long finished, or the journal is gone
        self.dirty = True

    def report(self, key: str) -> str:
        """The /usage reply."""
        self._roll()
        messages, tokens = self.users.get(key, (0, 0))
        max_messages, max_tokens = self.limits(key)
        return (
            f"Your usage today ({self.day}, UTC):\n"
            f"messages: {_limit_text(messages, max_messages)}\n"
            f"language-model tokens: {_limit_text(tokens, max_tokens)}"
        )

    def flush(self) -> None:
        """Write the counters if they changed (crash-safe); errors are logged, counting goes on."""
        if not self.dirty:
            return
        self.turns = {turn: done for turn, done in self.turns.items() if self.pending(turn)}
        body = {"day": self.day, "users": self.users, "turns": self.turns}
        data = json.dumps(body, separators=(",", ":")).encode()
        tmp = self.path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
        try:
            replace_file(self.path, tmp, data)
        except OSError as exc:
            log.error("could not write the usage counters %s: %s", self.path, exc.strerror)
            return
        self.dirty = False
