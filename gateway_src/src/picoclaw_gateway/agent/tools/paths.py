"""Confine every tool path to the workspace (symlinks and `..` resolved before the check)."""

from __future__ import annotations

from pathlib import Path

from picoclaw_gateway.agent.tools.base import ToolError


def resolve_in_workspace(workspace: Path, user_path: str) -> Path:
    if not user_path or "\x00" in user_path:
        raise ToolError("path must be a non-empty string without NUL bytes")
    root = workspace.resolve()
    candidate = Path(user_path).expanduser()
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = candidate.resolve()  # follows symlinks, collapses `..`
    if not resolved.is_relative_to(root):
        raise ToolError(f"path {user_path!r} is outside the workspace; use paths under {root}")
    return resolved
