"""Tool interface and registry. Tools return text; errors become text for the LLM, never raise."""

from __future__ import annotations

import abc
import logging
from typing import Any, ClassVar

log = logging.getLogger(__name__)


class ToolError(Exception):
    """A tool failed in a way the LLM should read about (bad path, missing file...)."""


class Tool(abc.ABC):
    name: str
    description: str
    parameters: ClassVar[dict[str, Any]]

    @abc.abstractmethod
    async def run(self, args: dict[str, Any]) -> str: ...

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


class SyncTool(Tool):
    """A tool whose work is plain blocking code: the tools sandbox calls `call` from its threads
    (it runs no event loop: asyncio alone would cost it ~6 MB of its 16 MB budget)."""

    @abc.abstractmethod
    def call(self, args: dict[str, Any]) -> str: ...

    async def run(self, args: dict[str, Any]) -> str:
        return self.call(args)


def require_str(args: dict[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str):
        raise ToolError(f"argument {key!r} is required and must be a string")
    return value


class ToolRegistry:
    def __init__(self, tools: list[Tool]) -> None:
        self._tools = {tool.name: tool for tool in tools}

    def tools(self) -> list[Tool]:
        return list(self._tools.values())

    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self) -> list[dict[str, Any]]:
        return [tool.spec() for tool in self._tools.values()]

    async def run(self, name: str, args: dict[str, Any]) -> str:
        tool = self._tools.get(name)
        if tool is None:
            return f"error: unknown tool {name!r}; available: {', '.join(self._tools)}"
        try:
            return await tool.run(args)
        except ToolError as exc:
            return f"error: {exc}"
        except Exception as exc:  # a tool bug must not end the conversation
            log.exception("tool %s crashed", name)
            return f"error: tool {name} failed: {type(exc).__name__}: {exc}"
