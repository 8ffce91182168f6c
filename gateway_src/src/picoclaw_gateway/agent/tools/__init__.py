"""The agent's tools, confined to the workspace.

Nothing is imported here at package level: the tools sandbox imports single tool modules
(files.py, exec_tool.py) and must not pull in the gateway's config (and asyncio) with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from picoclaw_gateway.agent.tools.base import ToolRegistry
    from picoclaw_gateway.tool_limits import ExecConfig, FilesConfig


def build_registry(
    workspace: Path, exec_config: ExecConfig, files: FilesConfig | None = None
) -> ToolRegistry:
    from picoclaw_gateway.agent.tools.base import Tool, ToolRegistry
    from picoclaw_gateway.agent.tools.exec_tool import ExecTool
    from picoclaw_gateway.agent.tools.files import EditFileTool, ListDirTool, ReadFileTool, WriteFileTool

    tools: list[Tool] = [
        ReadFileTool(workspace, files),
        WriteFileTool(workspace, files),
        EditFileTool(workspace, files),
        ListDirTool(workspace),
    ]
    if exec_config.enabled:
        tools.append(ExecTool(workspace, exec_config))
    return ToolRegistry(tools)
