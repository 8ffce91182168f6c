"""Heartbeat (off by default): every heartbeat.interval_minutes the agent reads the checklist in
`<workspace>/HEARTBEAT.md` and messages the owner only when something needs attention.

No checklist (missing, empty, or only headings and comments) means no LLM call at all. The agent
answers HEARTBEAT_OK when all is well; such an answer (the token at its start or end, with at most
a few words around it) is swallowed, so the owner never gets "nothing to report". The first check
runs one interval after the start (a restart loop does not become a message loop).
A heartbeat is not a chat message: it is not in the journal or a chat's history. An alert whose
send fails is logged; if the condition persists, the next heartbeat raises it again.
The checklist is workspace content (the tools can write it): it is read with a byte cap and
given to the agent as a checklist, the same trust as a user's message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from pathlib import Path

from picoclaw_gateway.agent.loop import AgentLoop
from picoclaw_gateway.channels.base import Channel
from picoclaw_gateway.config import GatewayConfig
from picoclaw_gateway.workspace_files import WorkspaceFiles

log = logging.getLogger(__name__)

CHECKLIST = "HEARTBEAT.md"
MAX_CHECKLIST_BYTES = 16 * 1024
OK_SENTINEL = "HEARTBEAT_OK"
OK_SLACK_CHARS = 30  # "HEARTBEAT_OK - all fine" is still an OK
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
        channel: Channel,
        chat_id: str,
        interval_s: float,
    ) -> None:
        self.agent = agent
        self.files = WorkspaceFiles(workspace)
        self.channel = channel
        self.chat_id = chat_id
        self.interval_s = interval_s

    async def run(self) -> None:
        log.info("heartbeat every %.0f s to %s chat %s", self.interval_s, self.channel.name, self.chat_id)
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("heartbeat failed")

    async def beat(self) -> bool:
        """One check; True when a message was sent to the owner."""
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
        log.info("heartbeat: sending an alert to %s chat %s", self.channel.name, self.chat_id)
        with contextlib.suppress(Exception):
            await self.channel.send(self.chat_id, result.reply)
            return True
        log.warning("heartbeat: could not send the alert to %s chat %s", self.channel.name, self.chat_id)
        return False


def start_heartbeat(config: GatewayConfig, agent: AgentLoop, channels: list[Channel]) -> asyncio.Task[None]:
    """The heartbeat task of `config.heartbeat` (enabled), to the owner's chat."""
    beat = Heartbeat(
        agent,
        config.workspace,
        channels[config.heartbeat.channel],
        config.heartbeat.chat_id or "",
        config.heartbeat.interval_s,
    )
    return asyncio.create_task(beat.run(), name="heartbeat")
