"""send_file: the agent sends a workspace file to the chat whose turn is running.

It runs in the gateway (it needs the chat platform's connection), so it reads what the tools
sandbox may have shaped to trick it: the path is opened through safe_fs.open_beneath from the
workspace root (no link followed out of it, no resolve-then-open race), only a regular file with
a single link is sent (another name of a hard-linked file may be outside the workspace), and the
file is streamed from that one open descriptor: what is sent is what was checked. The gateway's
state (other chats' histories, the journal) is outside the workspace and so out of reach.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from picoclaw_gateway.agent.tools.base import Tool, ToolError, require_str
from picoclaw_gateway.agent.tools.files import open_regular
from picoclaw_gateway.agent.tools.safe_fs import normalize, os_error
from picoclaw_gateway.agent.turn_context import CURRENT_TURN
from picoclaw_gateway.media.documents import size_text

if TYPE_CHECKING:
    from picoclaw_gateway.channels.base import Channel

log = logging.getLogger(__name__)


class SendFileTool(Tool):
    name = "send_file"
    description = (
        "Send a file from the workspace to the user in this chat, as a document they can download, "
        "with an optional caption. Files the user sent are saved under inbox/. Size limits: "
        "Telegram 50 MB, Discord 10 MB (unless the owner raised it), Slack 1 GB."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "file path, relative to the workspace"},
            "caption": {"type": "string", "description": "a short text sent with the file"},
        },
        "required": ["path"],
    }

    def __init__(self, workspace: Path, channels: Mapping[str, Channel]) -> None:
        self.workspace = workspace
        self.channels = channels

    async def run(self, args: dict[str, Any]) -> str:
        turn = CURRENT_TURN.get()
        channel = self.channels.get(turn.channel) if turn is not None else None
        if turn is None or channel is None:
            raise ToolError("send_file works only in a chat — fix: ask from the chat the file is for")
        user_path = require_str(args, "path")
        caption = args.get("caption") if isinstance(args.get("caption"), str) else ""
        limit = channel.upload_max_bytes
        if limit <= 0:
            raise ToolError(f"{channel.name} does not take files from this bot")
        rel = normalize(str(self.workspace), user_path)
        root = os.open(self.workspace, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fd, st = open_regular(root, rel, user_path, "send")
        except OSError as exc:
            raise os_error(exc, user_path) from None
        finally:
            os.close(root)
        try:
            if st.st_size == 0:
                raise ToolError(f"{user_path!r} is empty; the chat platforms refuse empty files")
            if st.st_size > limit:
                raise ToolError(
                    f"{user_path!r} is {size_text(st.st_size)}; {channel.name} takes files of at most "
                    f"{size_text(limit)} from a bot — fix: compress or split it, or tell the user where it is"
                )
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as handle:
            name = os.path.basename(rel)
            try:
                await channel.with_retries(
                    "send_file",
                    lambda: channel.send_file(turn.chat_id, handle, name, st.st_size, caption),
                )
            except Exception as exc:
                log.warning("%s: send_file failed: %s", channel.name, type(exc).__name__)
                raise ToolError(
                    f"{channel.name} did not take the file: {str(exc)[:300] or type(exc).__name__}"
                ) from None
        log.info("%s: sent a file of %d bytes to chat %s", channel.name, st.st_size, turn.chat_id)
        return f"sent {rel} ({size_text(st.st_size)}) to the chat"
