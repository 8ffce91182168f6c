"""exec: run a shell command in the workspace, in its own process group, with a timeout.

The child gets a minimal environment (never the gateway's, which holds API keys), no
stdin, and on timeout the WHOLE process group is killed so background children die too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Any, ClassVar

from picoclaw_gateway.agent.tools.base import Tool, require_str
from picoclaw_gateway.config import ExecConfig

SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
READ_CHUNK = 65536


def minimal_env(workspace: Path) -> dict[str, str]:
    return {
        "PATH": SAFE_PATH,
        "HOME": str(workspace),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),  # noqa: S108 - the container's tmpfs
        "TERM": "dumb",
    }


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class ExecTool(Tool):
    name = "exec"
    description = (
        "Run a shell command in the workspace and return its combined stdout/stderr and exit code. "
        "No interactive input; long-running commands are killed at the timeout."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"command": {"type": "string", "description": "shell command line"}},
        "required": ["command"],
    }

    def __init__(self, workspace: Path, config: ExecConfig) -> None:
        self.workspace = workspace
        self.config = config

    async def run(self, args: dict[str, Any]) -> str:
        command = require_str(args, "command")
        cap = self.config.max_output_chars
        # Output goes to a pipe we own, not the subprocess transport's: asyncio's proc.wait()
        # would otherwise wait for the pipe to close, i.e. for background children too.
        read_fd, write_fd = os.pipe()
        try:
            proc = await asyncio.create_subprocess_shell(
                command,
                cwd=self.workspace,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                env=minimal_env(self.workspace),
                start_new_session=True,  # own process group: killpg reaches every descendant
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        stream = asyncio.StreamReader()
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(stream), os.fdopen(read_fd, "rb", buffering=0)
        )
        kept = bytearray()
        dropped = 0

        async def drain() -> None:
            nonlocal dropped
            # Keep reading past the cap (and discard) so the child never blocks on a full pipe.
            while chunk := await stream.read(READ_CHUNK):
                room = cap * 4 - len(kept)  # bytes: up to 4 per character
                if room > 0:
                    kept.extend(chunk[:room])
                dropped += max(0, len(chunk) - max(room, 0))

        reader = asyncio.create_task(drain())
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), timeout=self.config.timeout_s)
            # The shell exited; background children may still hold the pipe open.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), timeout=1.0)
        except TimeoutError:
            timed_out = True
        finally:
            _kill_group(proc.pid)
            if proc.returncode is None:
                await proc.wait()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(reader, timeout=1.0)
            transport.close()

        output = kept.decode("utf-8", errors="replace")
        truncated = dropped > 0 or len(output) > cap
        output = output[:cap]
        if truncated:
            output += f"\n[output truncated to {cap} characters]"
        if timed_out:
            return f"{output}\n[timed out after {self.config.timeout_s:g} s; the command was killed]".lstrip()
        return f"{output}\n[exit code {proc.returncode}]".lstrip()
