"""The gateway's side of the sandbox protocol. Everything that comes back is untrusted.

Each tool call opens one connection, sends one request and reads one answer under a deadline.
An answer of the wrong shape, version or size, a timeout or a dead sandbox becomes a tool error
(text for the LLM); it never raises into the agent loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from picoclaw_gateway.agent.tools.base import Tool, ToolRegistry
from picoclaw_gateway.config import ExecConfig, FilesConfig
from picoclaw_gateway.sandbox.protocol import (
    MAX_RESULT_CHARS,
    PING,
    VERSION,
    ProtocolError,
    check_version,
    encode,
    read_frame,
)

log = logging.getLogger(__name__)

FILE_CALL_TIMEOUT_S = 45.0  # the sandbox's own file-tool bound is 30 s
EXEC_MARGIN_S = 15.0  # on top of tools.exec.timeout_s: the sandbox kills, sweeps, then answers


class SandboxClient:
    def __init__(self, socket_path: str, before_call: Callable[[], Awaitable[None]] | None = None) -> None:
        self.socket_path = socket_path
        self._before_call = before_call  # the local sandbox restarts a dead subprocess here

    async def call(
        self,
        tool: str,
        args: dict[str, Any],
        exec_config: ExecConfig,
        timeout_s: float,
        files: FilesConfig | None = None,
    ) -> str:
        files = files or FilesConfig()
        request: dict[str, Any] = {
            "v": VERSION,
            "tool": tool,
            "args": args,
            "limits": {
                "timeout_s": exec_config.timeout_s,
                "max_output_chars": exec_config.max_output_chars,
                "max_read_chars": files.max_read_chars,
                "max_write_bytes": files.max_write_bytes,
                "max_edit_bytes": files.max_edit_bytes,
            },
        }
        try:
            frame = encode(request)
        except (ProtocolError, TypeError, ValueError) as exc:
            return f"error: the {tool} call is too large or not serializable ({exc})"
        return await self._exchange(tool, frame, timeout_s)

    async def ping(self, timeout_s: float = 5.0) -> str | None:
        """None when the sandbox answers a ping (the gateway's /ready), else why not."""
        answer = await self._exchange(PING, encode({"v": VERSION, "tool": PING, "args": {}}), timeout_s)
        if answer == "pong":
            return None
        if answer.startswith("error: "):
            return answer.removeprefix("error: ")
        return f"unexpected answer to ping: {answer[:200]!r}"

    async def _exchange(self, tool: str, frame: bytes, timeout_s: float) -> str:
        writer = None
        try:
            async with asyncio.timeout(timeout_s):
                if self._before_call is not None:
                    await self._before_call()
                reader, writer = await asyncio.open_unix_connection(self.socket_path)
                writer.write(frame)
                await writer.drain()
                answer = await read_frame(reader)
            return _result(answer)
        except TimeoutError:
            log.warning("sandbox: %s call got no answer within %.0f s", tool, timeout_s)
            return f"error: the tools sandbox did not answer within {timeout_s:g} s; the call was abandoned"
        except ProtocolError as exc:
            log.warning("sandbox: invalid answer to a %s call: %s", tool, exc)
            return f"error: the tools sandbox sent an invalid answer ({exc})"
        except OSError as exc:
            log.warning("sandbox: %s unreachable: %s", self.socket_path, exc)
            return (
                f"error: the tools sandbox is not reachable ({exc.strerror or type(exc).__name__}); "
                "the tool did not run"
            )
        finally:
            if writer is not None:
                writer.close()  # on a timeout this hang-up makes the sandbox cancel the call


def _result(answer: dict[str, Any]) -> str:
    check_version(answer, "the sandbox")
    ok = answer.get("ok")
    if ok is True:
        result = answer.get("result")
        if not isinstance(result, str):
            raise ProtocolError("'result' is not a string")
        if len(result) > MAX_RESULT_CHARS + 100:
            raise ProtocolError(f"result of {len(result)} characters is over the cap")
        return result
    if ok is False:
        error = answer.get("error")
        if not isinstance(error, str):
            raise ProtocolError("'error' is not a string")
        return f"error: sandbox: {error[:2000]}"
    raise ProtocolError("'ok' is not a boolean")


class SandboxTool(Tool):
    """The gateway-side stand-in for a tool: the same spec, the work done in the sandbox."""

    def __init__(
        self, spec: Tool, client: SandboxClient, exec_config: ExecConfig, files: FilesConfig | None = None
    ) -> None:
        self.name = spec.name
        self.description = spec.description
        self.parameters = spec.parameters  # type: ignore[misc]
        self._client = client
        self._exec_config = exec_config
        self._files = files

    async def run(self, args: dict[str, Any]) -> str:
        timeout = self._exec_config.timeout_s + EXEC_MARGIN_S if self.name == "exec" else FILE_CALL_TIMEOUT_S
        return await self._client.call(self.name, args, self._exec_config, timeout, self._files)


def sandboxed_registry(
    local: ToolRegistry, client: SandboxClient, exec_config: ExecConfig, files: FilesConfig | None = None
) -> ToolRegistry:
    """The registry the agent sees: `local`'s tools (specs only), each run through the sandbox."""
    return ToolRegistry([SandboxTool(tool, client, exec_config, files) for tool in local.tools()])
