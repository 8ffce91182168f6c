"""Heartbeat (off by default): every heartbeat.interval_minutes the agent reads the checklist in
`<workspace>/HEARTBEAT.md` and messages the owner only when something needs attention.

No checklist (missing, empty, or only headings and comments) means no LLM call at all. The agent
answers HEARTBEAT_OK when all is well; such an answer (the token at its start or end, with at most
a few words around it) is swallowed, so the owner never gets "nothing to report".

The schedule survives restarts: the next check's time is kept in `<state>/heartbeat.json`
(durable.replace_file) and moved on *before* each check runs. A check that fell due while the
gateway was down runs once at the start, however many were missed; a restart loop does not
repeat one (the next is an interval away); a check cut by a crash is not repeated either (if the
condition persists, the next check raises it). A new installation checks one interval after
its start.
The check is not a chat message (no journal entry, no chat history); its alert is: it goes
through the delivery journal like a reminder (delivery/own_messages.py, delivery id
"heartbeat:<due time>"), so an alert produced before a crash is sent exactly once after it.
The checklist is workspace content (the tools can write it): it is read with a byte cap and
given to the agent as a checklist, the same trust as a user's message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Callable
from pathlib import Path

from picoclaw_gateway.agent.loop import AgentLoop
from picoclaw_gateway.channels.base import Channel
from picoclaw_gateway.config import GatewayConfig
from picoclaw_gateway.delivery import own_messages
from picoclaw_gateway.delivery.entry import JournalError
from picoclaw_gateway.durable import replace_file
from picoclaw_gateway.router import ChatRouter
from picoclaw_gateway.workspace_files import WorkspaceFiles

log = logging.getLogger(__name__)

CHECKLIST = "HEARTBEAT.md"
MAX_CHECKLIST_BYTES = 16 * 1024
OK_SENTINEL = "HEARTBEAT_OK"
OK_SLACK_CHARS = 30  # "HEARTBEAT_OK - all fine" is still an OK
STATE_FILE = "heartbeat.json"  # in the state directory: when the next check is due
MAX_SLEEP_S = 60.0  # wake at least this often: a wall-clock jump (NTP, suspend) is noticed soon
_NOT_A_TASK = re.compile(r"^\s*(#.*|<!--.*-->|[-*]\s*)?\s*$")
PROMPT = (
    "[heartbeat] This is a scheduled check, not a message from the user. Go through the checklist "
    "below (from HEARTBEAT.md in the workspace), using the tools where needed. If nothing needs the "
    f"owner's attention, answer exactly {OK_SENTINEL} and nothing else. Otherwise answer with a short "
    "message to the owner saying what needs attention.\n\n<checklist>\n{checklist}\n</checklist>"
)


def has_tasks(checklist: str) -> bool:
    """False for a checklist of only headings, empty items, comments and blank lines."""
    return any(not _NOT_A_TASK.match(line) for line in checklist.splitlines())


def is_ok(reply: str) -> bool:
    """The agent said all is well: HEARTBEAT_OK at the start or end, little else."""
    text = reply.strip().strip("*_`").strip()
    if text.startswith(OK_SENTINEL):
        rest = text[len(OK_SENTINEL) :]
    elif text.endswith(OK_SENTINEL):
        rest = text[: -len(OK_SENTINEL)]
    else:
        return False
    return len(rest.strip(" \n\t.,;:!-*_`")) <= OK_SLACK_CHARS


class Heartbeat:
    def __init__(
        self,
        agent: AgentLoop,
        workspace: Path,
        router: ChatRouter,
        owner: tuple[Channel, str],
        interval_s: float,
        state_dir: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.agent = agent
        self.files = WorkspaceFiles(workspace)
        self.router = router
        self.channel, self.chat_id = owner
        self.interval_s = interval_s
        self.path = state_dir / STATE_FILE
        self.clock = clock

    async def run(self) -> None:
        log.info("heartbeat every %.0f s to %s chat %s", self.interval_s, self.channel.name, self.chat_id)
        due = self.first_due()
        while True:
            now = self.clock()
            if now < due:
                await asyncio.sleep(min(due - now, MAX_SLEEP_S))
                continue
            tick, due = due, now + self.interval_s  # missed checks are not caught up: one covers them
            if not self._save(due):
                continue  # not moved on: a crash could repeat this check, so it is skipped
            try:
                await self.beat(tick)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("heartbeat failed")

    def first_due(self) -> float:
        """When the first check of this process runs: the kept time (at once, if it passed)."""
        now = self.clock()
        due = self._load()
        if due is not None and due <= now:
            log.info("heartbeat: a check fell due while the gateway was down; it runs now, once")
            return due
        if due is None or due > now + self.interval_s:  # new, or the clock went back, or a shorter interval
            due = now + self.interval_s
            self._save(due)
        return due

    def _load(self) -> float | None:
        try:
            due = json.loads(self.path.read_bytes())["next_due"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("heartbeat: %s is unreadable (%s); next check in one interval", self.path, exc)
            return None
        return float(due) if isinstance(due, int | float) and math.isfinite(due) else None

    def _save(self, due: float) -> bool:
        data = json.dumps({"next_due": due}).encode()
        try:
            replace_file(self.path, self.path.with_name(f".{STATE_FILE}.tmp"), data)
        except OSError as exc:
            log.error(
                "heartbeat: cannot write %s (%s); skipping this check — fix: free disk space or check "
                "the state directory's permissions",
                self.path,
                exc.strerror,
            )
            return False
        return True

    async def beat(self, due: float) -> bool:
        """The check due at `due`; True when an alert for the owner was queued."""
        checklist = self.files.read("", CHECKLIST, MAX_CHECKLIST_BYTES)
        if checklist is None or not has_tasks(checklist):
            log.debug("heartbeat: no checklist in %s, nothing to do", CHECKLIST)
            return False
        # One turn at a time (the loop awaits it): at most one more turn in flight than the chats'.
        result = await self.agent.run_turn([], PROMPT.format(checklist=checklist.strip()))
        if not result.new_messages:
            log.warning("heartbeat: the check failed: %s", result.reply)
            return False
        if is_ok(result.reply):
            log.info("heartbeat: nothing needs attention")
            return False
        where = (self.channel.name, self.chat_id)
        try:
            entry_id = own_messages.record(self.router.journal, *where, result.reply, f"heartbeat:{due:.3f}")
        except JournalError as exc:
            log.warning("heartbeat: the alert for %s chat %s was not recorded: %s", *where, exc)
            return False
        if entry_id is None:
            return False  # this check's alert was recorded before: the journal delivers it
        self.router.queue(self.channel, self.chat_id, entry_id)
        log.info("heartbeat: an alert for %s chat %s is queued", *where)
        return True


def start_heartbeat(
    config: GatewayConfig, agent: AgentLoop, router: ChatRouter, state_dir: Path
) -> asyncio.Task[None]:
    """The heartbeat task of `config.heartbeat` (enabled), to the owner's chat."""
    channel = list(router.channels.values())[config.heartbeat.channel]
    beat = Heartbeat(
        agent,
        config.workspace,
        router,
        (channel, config.heartbeat.chat_id or ""),
        config.heartbeat.interval_s,
        state_dir,
    )
    return asyncio.create_task(beat.run(), name="heartbeat")
