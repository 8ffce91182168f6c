"""exec: run a shell command in the workspace, in its own process group, with a timeout.

The child gets a minimal environment (never the gateway's, which holds API keys), no
stdin, and on timeout the WHOLE process group is killed so background children die too.
Plain blocking code (poll on the output pipe): the tools sandbox runs it in a thread, without
an event loop; `run` hands it to a thread for in-process callers.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from picoclaw_gateway.agent.tools.base import Tool, require_str
from picoclaw_gateway.tool_limits import ExecConfig

if TYPE_CHECKING:
    import socket

SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
READ_CHUNK = 65536
EXIT_GRACE_S = 1.0  # after the shell exits (or is killed), how long its output pipe may stay open
POLL_S = 0.05  # how often the loop looks whether the shell exited while its pipe stays open


class CallerGone(Exception):
    """The caller hung up (the gateway's own timeout): the command was killed, no one waits for it."""


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


class _Output:
    """What the command printed, kept up to the cap (in bytes: up to 4 per character); the rest is
    read and dropped so the child never blocks on a full pipe."""

    def __init__(self, cap_chars: int) -> None:
        self.cap_chars = cap_chars
        self.kept = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.cap_chars * 4 - len(self.kept)
        if room > 0:
            self.kept.extend(chunk[:room])
        self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        output = self.kept.decode("utf-8", errors="replace")
        truncated = self.dropped > 0 or len(output) > self.cap_chars
        output = output[: self.cap_chars]
        return output + f"\n[output truncated to {self.cap_chars} characters]" if truncated else output


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
        import asyncio  # in-process callers only; the sandbox calls `call` from its own threads

        return await asyncio.to_thread(self.call, args)

    def call(self, args: dict[str, Any], caller: socket.socket | None = None) -> str:
        """Run the command; CallerGone when `caller` (the gateway's connection) hangs up first."""
        command = require_str(args, "command")
        # Output goes to a pipe we own: the shell's exit is watched apart from the pipe, which
        # background children may hold open.
        read_fd, write_fd = os.pipe()
        try:
            proc = subprocess.Popen(  # noqa: S602 - running the LLM's shell command is this tool's job
                command,
                shell=True,
                cwd=self.workspace,
                stdin=subprocess.DEVNULL,
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
        output = _Output(self.config.max_output_chars)
        try:
            timed_out, gone = _pump(proc, read_fd, output, self.config.timeout_s, caller)
        finally:
            _kill_group(proc.pid)
            proc.wait()
            with contextlib.suppress(OSError):
                _pump(None, read_fd, output, EXIT_GRACE_S, None)  # what is left in the pipe
            os.close(read_fd)
        if gone:
            raise CallerGone
        if timed_out:
            killed = f"[timed out after {self.config.timeout_s:g} s; the command was killed]"
            return f"{output.text()}\n{killed}".lstrip()
        return f"{output.text()}\n[exit code {proc.returncode}]".lstrip()


def _pump(
    proc: subprocess.Popen[bytes] | None,
    read_fd: int,
    output: _Output,
    timeout_s: float,
    caller: socket.socket | None,
) -> tuple[bool, bool]:
    """Read the pipe until it closes; (timed out, caller gone). Once `proc` exits, the pipe gets
    EXIT_GRACE_S more (a background child holding it open is killed with the group after)."""
    poller = select.poll()
    poller.register(read_fd, select.POLLIN)
    if caller is not None:
        poller.register(caller.fileno(), select.POLLIN)
    deadline = time.monotonic() + timeout_s
    exited_by: float | None = None if proc is not None else deadline
    while True:
        now = time.monotonic()
        if exited_by is None and proc is not None and proc.poll() is not None:
            exited_by = min(deadline, now + EXIT_GRACE_S)
        limit = deadline if exited_by is None else exited_by
        if now >= limit:
            return exited_by is None, False
        wait_s = min(limit - now, POLL_S) if exited_by is None else limit - now
        for fd, _ in poller.poll(wait_s * 1000):
            if fd != read_fd:  # the caller sent EOF (or anything: it speaks one frame only)
                return False, True
            chunk = os.read(read_fd, READ_CHUNK)
            if not chunk:
                return False, False
            output.add(chunk)
