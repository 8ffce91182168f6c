"""Workspace tools: confinement, file edits, exec timeout/process-group kill, output cap, env."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from picoclaw_gateway.agent.tools import build_registry
from picoclaw_gateway.agent.tools.base import ToolError
from picoclaw_gateway.agent.tools.paths import resolve_in_workspace
from picoclaw_gateway.config import ExecConfig


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    return ws


def registry(workspace: Path, **exec_kwargs: object):  # type: ignore[no-untyped-def]
    return build_registry(workspace, ExecConfig(**exec_kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["../secret.txt", "a/../../secret.txt", "/etc/passwd", "~/x"])
def test_paths_outside_the_workspace_are_refused(workspace: Path, path: str) -> None:
    with pytest.raises(ToolError, match="outside the workspace"):
        resolve_in_workspace(workspace, path)


def test_absolute_path_inside_the_workspace_is_allowed(workspace: Path) -> None:
    target = workspace / "notes" / "a.txt"
    assert resolve_in_workspace(workspace, str(target)) == target.resolve()


async def test_symlink_escape_is_refused_for_read_write_and_list(workspace: Path) -> None:
    (workspace / "link").symlink_to(workspace.parent)
    (workspace / "file_link").symlink_to(workspace.parent / "secret.txt")
    tools = registry(workspace)
    for name, args in [
        ("read_file", {"path": "file_link"}),
        ("read_file", {"path": "link/secret.txt"}),
        ("write_file", {"path": "link/evil.txt", "content": "x"}),
        ("write_file", {"path": "file_link", "content": "overwritten"}),
        ("edit_file", {"path": "file_link", "old_text": "TOP", "new_text": "NO"}),
        ("list_dir", {"path": "link"}),
    ]:
        result = await tools.run(name, args)
        assert result.startswith("error:") and "outside the workspace" in result, (name, result)
    assert (workspace.parent / "secret.txt").read_text() == "TOP SECRET"
    assert not (workspace.parent / "evil.txt").exists()


async def test_write_read_edit_and_list(workspace: Path) -> None:
    tools = registry(workspace)
    assert "wrote 11" in await tools.run("write_file", {"path": "deep/dir/f.txt", "content": "hello world"})
    assert await tools.run("read_file", {"path": "deep/dir/f.txt"}) == "hello world"
    assert await tools.run("edit_file", {"path": "deep/dir/f.txt", "old_text": "world", "new_text": "you"})
    assert (workspace / "deep/dir/f.txt").read_text() == "hello you"
    missing = await tools.run("edit_file", {"path": "deep/dir/f.txt", "old_text": "zzz", "new_text": "a"})
    assert missing.startswith("error:") and "not found" in missing
    (workspace / "dup.txt").write_text("a a")
    ambiguous = await tools.run("edit_file", {"path": "dup.txt", "old_text": "a", "new_text": "b"})
    assert ambiguous.startswith("error:") and "2 times" in ambiguous
    assert (workspace / "dup.txt").read_text() == "a a"
    assert await tools.run("list_dir", {"path": "."}) == "deep/\ndup.txt"
    assert (await tools.run("read_file", {"path": "nope.txt"})).startswith("error:")
    assert (await tools.run("read_file", {})).startswith("error:")
    assert (await tools.run("no_such_tool", {})).startswith("error: unknown tool")


async def test_exec_disabled_removes_the_tool(workspace: Path) -> None:
    assert "exec" in registry(workspace).names()
    tools = registry(workspace, enabled=False)
    assert "exec" not in tools.names()
    assert "exec" not in [spec["name"] for spec in tools.specs()]


async def test_exec_runs_in_workspace_with_exit_code(workspace: Path) -> None:
    resolved = str(workspace.resolve())  # noqa: ASYNC240 - test setup
    result = await registry(workspace).run("exec", {"command": "pwd; echo oops >&2; exit 3"})
    assert resolved in result
    assert "oops" in result
    assert result.endswith("[exit code 3]")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_exec_timeout_kills_the_whole_process_group(workspace: Path) -> None:
    tools = registry(workspace, timeout_s=1.0)
    started = time.monotonic()
    result = await tools.run("exec", {"command": "sleep 300 & echo $! > child.pid; sleep 300"})
    assert time.monotonic() - started < 10
    assert "timed out after 1 s" in result
    child = int((workspace / "child.pid").read_text())
    for _ in range(50):
        if not _alive(child):
            break
        await asyncio.sleep(0.05)
    assert not _alive(child), "the background child survived the timeout"


async def test_exec_background_child_does_not_outlive_a_finished_command(workspace: Path) -> None:
    result = await registry(workspace).run("exec", {"command": "sleep 300 & echo $! > bg.pid; echo done"})
    assert "done" in result and "[exit code 0]" in result
    child = int((workspace / "bg.pid").read_text())
    await asyncio.sleep(0.2)
    assert not _alive(child)


async def test_exec_output_is_capped(workspace: Path) -> None:
    tools = registry(workspace, max_output_chars=100)
    result = await tools.run("exec", {"command": "yes abcdefgh | head -c 5000000"})
    assert "[output truncated to 100 characters]" in result
    assert len(result) < 200


async def test_exec_env_does_not_leak_gateway_secrets(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-should-not-leak")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:should-not-leak")
    result = await registry(workspace).run("exec", {"command": "env; cat /dev/stdin"})
    assert "should-not-leak" not in result
    assert "PATH=" in result
    assert result.endswith("[exit code 0]"), "stdin is /dev/null, so cat returns at once"
