"""The agent's tools, confined to the workspace."""

from __future__ import annotations

from pathlib import Path

from picoclaw_gateway.agent.tools.base import Tool, ToolRegistry
from picoclaw_gateway.agent.tools.exec_tool import ExecTool
from picoclaw_gateway.agent.tools.files import EditFileTool, ListDirTool, ReadFileTool, WriteFileTool
from picoclaw_gateway.config import ExecConfig, FilesConfig


def build_registry(
    workspace: Path, exec_config: ExecConfig, files: FilesConfig | None = None
) -> ToolRegistry:
    tools: list[Tool] = [
        ReadFileTool(workspace, files),
        WriteFileTool(workspace, files),
        EditFileTool(workspace, files),
        ListDirTool(workspace),
    ]
    if exec_config.enabled:
        tools.append(ExecTool(workspace, exec_config))
    return ToolRegistry(tools)
