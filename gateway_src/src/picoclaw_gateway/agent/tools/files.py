"""read_file, write_file, edit_file, list_dir — all confined to the workspace.

File I/O runs on the event loop (no thread pool): reads are capped and workspace files are small.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from picoclaw_gateway.agent.tools.base import Tool, ToolError, require_str
from picoclaw_gateway.agent.tools.paths import resolve_in_workspace

MAX_READ_CHARS = 100_000
MAX_LIST_ENTRIES = 500


class _WorkspaceTool(Tool):
    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace

    def path(self, args: dict[str, Any]) -> Path:
        return resolve_in_workspace(self.workspace, require_str(args, "path"))


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise ToolError(f"{path.name!r} is not a file or does not exist")
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        text = handle.read(MAX_READ_CHARS + 1)
    return text


class ReadFileTool(_WorkspaceTool):
    name = "read_file"
    description = "Read a UTF-8 text file in the workspace."
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"path": {"type": "string", "description": "file path, relative to the workspace"}},
        "required": ["path"],
    }

    async def run(self, args: dict[str, Any]) -> str:
        text = _read_text(self.path(args))
        if len(text) > MAX_READ_CHARS:
            return text[:MAX_READ_CHARS] + f"\n[truncated at {MAX_READ_CHARS} characters]"
        return text


class WriteFileTool(_WorkspaceTool):
    name = "write_file"
    description = "Write (create or overwrite) a text file in the workspace; parent folders are created."
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
        "required": ["path", "content"],
    }

    async def run(self, args: dict[str, Any]) -> str:
        path = self.path(args)
        content = require_str(args, "content")

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")

        write()
        return f"wrote {len(content)} characters to {path.relative_to(self.workspace.resolve())}"


class EditFileTool(_WorkspaceTool):
    name = "edit_file"
    description = "Replace one exact occurrence of old_text with new_text in a workspace file."
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "old_text": {"type": "string", "description": "exact text to replace; must occur once"},
            "new_text": {"type": "string"},
        },
        "required": ["path", "old_text", "new_text"],
    }

    async def run(self, args: dict[str, Any]) -> str:
        path = self.path(args)
        old = require_str(args, "old_text")
        new = require_str(args, "new_text")
        if not old:
            raise ToolError("old_text must not be empty")

        def edit() -> str:
            if not path.is_file():
                raise ToolError(f"{path.name!r} is not a file or does not exist")
            text = path.read_text(encoding="utf-8")
            count = text.count(old)
            if count == 0:
                raise ToolError("old_text was not found in the file; read the file and copy the text exactly")
            if count > 1:
                raise ToolError(f"old_text occurs {count} times; include more context so it is unique")
            path.write_text(text.replace(old, new, 1), encoding="utf-8")
            return f"edited {path.relative_to(self.workspace.resolve())}"

        return edit()


class ListDirTool(_WorkspaceTool):
    name = "list_dir"
    description = "List a workspace folder (folders end with /)."
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"path": {"type": "string", "description": "folder path; '.' is the workspace"}},
        "required": [],
    }

    async def run(self, args: dict[str, Any]) -> str:
        path = resolve_in_workspace(self.workspace, args.get("path") or ".")

        def listing() -> str:
            if not path.is_dir():
                raise ToolError(f"{path.name or '.'!r} is not a folder")
            entries = sorted(path.iterdir(), key=lambda p: p.name)
            lines = [f"{p.name}/" if p.is_dir() else p.name for p in entries[:MAX_LIST_ENTRIES]]
            if len(entries) > MAX_LIST_ENTRIES:
                lines.append(f"[{len(entries) - MAX_LIST_ENTRIES} more entries not shown]")
            return "\n".join(lines) or "(empty folder)"

        return listing()
