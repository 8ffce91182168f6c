"""File tools: no link out of the workspace (openat2 and the O_NOFOLLOW walk), no race, size caps."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from picoclaw_gateway.agent.tools import build_registry, safe_fs
from picoclaw_gateway.agent.tools.base import ToolRegistry
from picoclaw_gateway.agent.tools.files import MAX_EDIT_BYTES, MAX_READ_CHARS, MAX_WRITE_BYTES
from picoclaw_gateway.config import ExecConfig


@pytest.fixture(params=["openat2", "nofollow-walk"])
def tools(request: pytest.FixtureRequest, workspace: Path) -> Iterator[ToolRegistry]:
    """Every test runs with the kernel's RESOLVE_BENEATH and with the fallback walk."""
    if request.param == "openat2" and not safe_fs.openat2_available():
        pytest.skip("this kernel has no openat2")
    saved = safe_fs._openat2_state
    safe_fs._openat2_state = request.param == "openat2"
    yield build_registry(workspace, ExecConfig())
    safe_fs._openat2_state = saved


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("TOP SECRET")
    return secret


async def test_symlinks_out_are_refused(tools: ToolRegistry, workspace: Path, outside: Path) -> None:
    (workspace / "dir_link").symlink_to(outside.parent)
    (workspace / "file_link").symlink_to(outside)
    (workspace / "proc_link").symlink_to("/proc/self/root/etc")
    for name, args in [
        ("read_file", {"path": "file_link"}),
        ("read_file", {"path": "dir_link/secret.txt"}),
        ("read_file", {"path": "proc_link/passwd"}),
        ("write_file", {"path": "dir_link/new.txt", "content": "x"}),
        ("write_file", {"path": "file_link", "content": "x"}),
        ("edit_file", {"path": "file_link", "old_text": "TOP", "new_text": "NO"}),
        ("list_dir", {"path": "dir_link"}),
    ]:
        result = await tools.run(name, args)
        assert result.startswith("error:") and "outside the workspace" in result, (name, result)
    assert outside.read_text() == "TOP SECRET"  # noqa: ASYNC240 - test check
    assert sorted(p.name for p in outside.parent.iterdir()) == ["secret.txt"]


async def test_symlinks_inside_the_workspace_still_work_with_openat2(
    tools: ToolRegistry, workspace: Path
) -> None:
    (workspace / "real").mkdir()
    (workspace / "real" / "f.txt").write_text("inside")
    (workspace / "alias").symlink_to("real")
    result = await tools.run("read_file", {"path": "alias/f.txt"})
    if safe_fs._openat2_state:
        assert result == "inside"
    else:  # the walk follows no symlink at all
        assert result.startswith("error:") and "symbolic link" in result


async def test_hardlinks_out_are_refused(tools: ToolRegistry, workspace: Path, outside: Path) -> None:
    os.link(outside, workspace / "hard.txt")
    for name, args in [
        ("read_file", {"path": "hard.txt"}),
        ("write_file", {"path": "hard.txt", "content": "overwritten"}),
        ("edit_file", {"path": "hard.txt", "old_text": "TOP", "new_text": "NO"}),
    ]:
        result = await tools.run(name, args)
        assert result.startswith("error:") and "2 hard links" in result and "fix:" in result, (name, result)
    assert outside.read_text() == "TOP SECRET"  # noqa: ASYNC240 - test check


async def test_oversize_read_write_and_edit_are_bounded(tools: ToolRegistry, workspace: Path) -> None:
    big = workspace / "big.log"
    with big.open("wb") as handle:  # 400 MB, sparse: costs no disk
        handle.truncate(400 * 1024 * 1024)
        handle.seek(0)
        handle.write(b"start\n")
    read = await tools.run("read_file", {"path": "big.log"})
    assert read.startswith("start\n") and read.endswith(f"[truncated at {MAX_READ_CHARS} characters]")
    assert len(read) < MAX_READ_CHARS + 100
    edit = await tools.run("edit_file", {"path": "big.log", "old_text": "start", "new_text": "x"})
    assert edit.startswith("error:") and f"up to {MAX_EDIT_BYTES} bytes" in edit and "fix:" in edit
    assert big.stat().st_size == 400 * 1024 * 1024
    write = await tools.run("write_file", {"path": "new.txt", "content": "y" * (MAX_WRITE_BYTES + 1)})
    assert write.startswith("error:") and f"at most {MAX_WRITE_BYTES} bytes" in write
    assert not (workspace / "new.txt").exists()
    (workspace / "grow.txt").write_text("MARK" + "a" * (MAX_EDIT_BYTES - 10))
    grow = await tools.run("edit_file", {"path": "grow.txt", "old_text": "MARK", "new_text": "b" * 100})
    assert grow.startswith("error:") and "would be over" in grow


async def test_writes_replace_atomically_and_leave_no_temp_files(
    tools: ToolRegistry, workspace: Path
) -> None:
    target = workspace / "keep.txt"
    target.write_text("old")
    target.chmod(0o600)
    assert (await tools.run("write_file", {"path": "keep.txt", "content": "new"})).startswith("wrote")
    assert target.read_text() == "new" and (target.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in workspace.iterdir()] == ["keep.txt"]  # noqa: ASYNC240 - test check


SWAPPER = """
import os, sys
ws, outside = sys.argv[1], sys.argv[2]
d, real, link = os.path.join(ws, "d"), os.path.join(ws, "d.real"), os.path.join(ws, "d.link")
os.symlink(outside, link)
while True:  # d is a real folder, then a symlink out, then the folder again
    os.rename(d, real); os.rename(link, d); os.rename(d, link); os.rename(real, d)
"""


async def test_directory_to_symlink_swap_race_never_leaks(
    tools: ToolRegistry, workspace: Path, outside: Path
) -> None:
    (workspace / "d").mkdir()
    (workspace / "d" / "secret.txt").write_text("inside")
    swapper = subprocess.Popen([sys.executable, "-c", SWAPPER, str(workspace), str(outside.parent)])  # noqa: ASYNC220 - test setup
    reads = {"inside": 0, "error": 0, "leak": 0}
    try:
        await asyncio.sleep(0.2)
        for _ in range(3000):
            result = await tools.run("read_file", {"path": "d/secret.txt"})
            reads["leak" if "TOP SECRET" in result else "inside" if result == "inside" else "error"] += 1
    finally:
        swapper.kill()
        swapper.wait()
    print(f"swap race: {reads}")
    assert reads["leak"] == 0, reads
    assert reads["inside"] > 0, f"the race never let a read through, so it proved nothing: {reads}"
