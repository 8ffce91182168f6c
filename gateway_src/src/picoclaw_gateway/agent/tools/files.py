"""read_file, write_file, edit_file, list_dir — all confined to the workspace.

Every path is opened through safe_fs (no link is followed out of the workspace, no resolve-then-open
race). Sizes are capped (tools.files.* of the config, FilesConfig) so a huge file cannot blow up
the process that runs the tool; hard-linked
files are refused (the other name may be outside the workspace). Writes go to a temp file that is
renamed over the target: the rename replaces the directory entry, it never writes through a link.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Any, ClassVar

from picoclaw_gateway.agent.tools.base import SyncTool, ToolError, require_str
from picoclaw_gateway.agent.tools.safe_fs import normalize, open_beneath, os_error
from picoclaw_gateway.tool_limits import FilesConfig

# The defaults of tools.files.* (the validator's DEFAULTS via FilesConfig).
MAX_READ_CHARS = FilesConfig().max_read_chars
MAX_WRITE_BYTES = FilesConfig().max_write_bytes
MAX_EDIT_BYTES = FilesConfig().max_edit_bytes
MAX_LIST_ENTRIES = 500
MAX_SCAN_ENTRIES = 20_000  # a folder with millions of entries must not be read whole
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY


class _WorkspaceTool(SyncTool):
    def __init__(self, workspace: Path, limits: FilesConfig | None = None) -> None:
        self.workspace = workspace
        self.limits = limits or FilesConfig()

    def rel(self, user_path: str) -> str:
        return normalize(str(self.workspace), user_path)

    def root_fd(self) -> int:
        try:
            return os.open(self.workspace, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise ToolError(f"the workspace {self.workspace} is not usable: {exc.strerror}") from None


def check_regular(st: os.stat_result, user_path: str, action: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise ToolError(f"{user_path!r} is not a regular file")
    if st.st_nlink > 1:
        raise ToolError(
            f"{user_path!r} has {st.st_nlink} hard links; the file tools do not {action} hard-linked files "
            "(another name may be outside the workspace) — fix: copy it and use the copy"
        )


def open_regular(root: int, rel: str, user_path: str, action: str) -> tuple[int, os.stat_result]:
    """A read descriptor of the regular, singly linked file `rel` beneath `root`, and its stat.
    OSError as open_beneath raises it; ToolError (the descriptor closed) when it is not such a file."""
    # O_NONBLOCK: opening a FIFO must not hang; it is refused as not regular right after.
    fd = open_beneath(root, rel, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        check_regular(st, user_path, action)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def _read_bytes(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit and (chunk := os.read(fd, min(65536, limit - size))):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _open_parent(root_fd: int, rel: str, user_path: str) -> tuple[int, str]:
    """(descriptor of rel's folder, created as needed, beneath the root; the last name)."""
    parent, _, name = rel.rpartition("/")
    if name in ("", ".", ".."):
        raise ToolError(f"{user_path!r} is a folder, not a file")
    parts = parent.split("/") if parent else []
    for depth in range(len(parts)):
        prefix = "/".join(parts[: depth + 1])
        try:
            os.close(open_beneath(root_fd, prefix, os.O_PATH | os.O_DIRECTORY))
        except FileNotFoundError:
            above = open_beneath(root_fd, "/".join(parts[:depth]) or ".", _DIR_FLAGS)
            try:
                os.mkdir(parts[depth], 0o755, dir_fd=above)
            except FileExistsError:
                pass  # created meanwhile; the open below checks what it is
            finally:
                os.close(above)
    return open_beneath(root_fd, parent or ".", _DIR_FLAGS), name


def _replace(dir_fd: int, name: str, data: bytes, mode: int) -> None:
    """Crash-safe: temp file, fsync, rename over `name`, fsync the folder."""
    tmp = f".{name[:100]}.picoclaw-{os.urandom(4).hex()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, mode, dir_fd=dir_fd)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    os.fsync(dir_fd)


class ReadFileTool(_WorkspaceTool):
    name = "read_file"
    description = "Read a UTF-8 text file in the workspace."
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"path": {"type": "string", "description": "file path, relative to the workspace"}},
        "required": ["path"],
    }

    def call(self, args: dict[str, Any]) -> str:
        user_path = require_str(args, "path")
        rel = self.rel(user_path)
        max_chars = self.limits.max_read_chars
        max_bytes = max_chars * 4  # UTF-8: at most 4 bytes per character
        root = self.root_fd()
        try:
            fd, _ = open_regular(root, rel, user_path, "read")
            try:
                data = _read_bytes(fd, max_bytes + 1)
            finally:
                os.close(fd)
        except OSError as exc:
            raise os_error(exc, user_path) from None
        finally:
            os.close(root)
        text = data.decode("utf-8", errors="replace")
        if len(data) > max_bytes or len(text) > max_chars:
            return text[:max_chars] + f"\n[truncated at {max_chars} characters]"
        return text


class WriteFileTool(_WorkspaceTool):
    name = "write_file"
    description = "Write (create or overwrite) a text file in the workspace; parent folders are created."
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
        "required": ["path", "content"],
    }

    def call(self, args: dict[str, Any]) -> str:
        user_path = require_str(args, "path")
        content = require_str(args, "content")
        rel = self.rel(user_path)
        data = content.encode("utf-8", errors="surrogatepass")
        cap = self.limits.max_write_bytes
        if len(data) > cap:
            raise ToolError(
                f"content is {len(data)} bytes; write_file writes at most {cap} bytes per call "
                "— fix: split it into smaller files"
            )
        root = self.root_fd()
        try:
            write_in(root, rel, user_path, data, None)
        except OSError as exc:
            raise os_error(exc, user_path) from None
        finally:
            os.close(root)
        return f"wrote {len(content)} characters to {rel}"


def write_in(root: int, rel: str, user_path: str, data: bytes, expect: os.stat_result | None) -> None:
    """Replace rel's content; `expect`: the file an edit read, which must still be the one there."""
    try:  # the kernel's verdict on the whole path first: a link out of the workspace is refused
        os.close(open_beneath(root, rel, os.O_PATH))
    except FileNotFoundError:
        if expect is not None:
            raise
    dir_fd, name = _open_parent(root, rel, user_path)
    try:
        try:
            st: os.stat_result | None = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if st is not None:
            if stat.S_ISLNK(st.st_mode):
                raise ToolError(
                    f"{user_path!r} is a symbolic link; the file tools do not write through links "
                    "(it could lead outside the workspace) — fix: write to the file it points to"
                )
            check_regular(st, user_path, "write")
        if expect is not None and (st is None or (st.st_dev, st.st_ino) != (expect.st_dev, expect.st_ino)):
            raise ToolError(f"{user_path!r} changed while it was edited; read it again and retry")
        _replace(dir_fd, name, data, stat.S_IMODE(st.st_mode) & 0o777 if st else 0o644)
    finally:
        os.close(dir_fd)


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

    def call(self, args: dict[str, Any]) -> str:
        user_path = require_str(args, "path")
        old = require_str(args, "old_text")
        new = require_str(args, "new_text")
        if not old:
            raise ToolError("old_text must not be empty")
        rel = self.rel(user_path)
        cap = self.limits.max_edit_bytes
        root = self.root_fd()
        try:
            fd, st = open_regular(root, rel, user_path, "edit")
            try:
                if st.st_size > cap:
                    raise ToolError(
                        f"{user_path!r} is {st.st_size} bytes; edit_file edits files up to {cap} "
                        "bytes — fix: use exec (sed) for large files"
                    )
                data = _read_bytes(fd, cap + 1)
            finally:
                os.close(fd)
            if len(data) > cap:
                raise ToolError(f"{user_path!r} grew over {cap} bytes while it was read")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ToolError(f"{user_path!r} is not UTF-8 text; edit_file edits text files") from None
            count = text.count(old)
            if count == 0:
                raise ToolError("old_text was not found in the file; read the file and copy the text exactly")
            if count > 1:
                raise ToolError(f"old_text occurs {count} times; include more context so it is unique")
            result = text.replace(old, new, 1).encode("utf-8", errors="surrogatepass")
            if len(result) > cap:
                raise ToolError(f"the edited file would be over {cap} bytes; refused")
            write_in(root, rel, user_path, result, st)
        except OSError as exc:
            raise os_error(exc, user_path) from None
        finally:
            os.close(root)
        return f"edited {rel}"


class ListDirTool(_WorkspaceTool):
    name = "list_dir"
    description = "List a workspace folder (folders end with /)."
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"path": {"type": "string", "description": "folder path; '.' is the workspace"}},
        "required": [],
    }

    def call(self, args: dict[str, Any]) -> str:
        user_path = args.get("path") or "."
        if not isinstance(user_path, str):
            raise ToolError("argument 'path' must be a string")
        rel = self.rel(user_path)
        root = self.root_fd()
        names: list[str] = []
        more = False
        try:
            fd = open_beneath(root, rel, _DIR_FLAGS)
            try:
                with os.scandir(fd) as entries:
                    for entry in entries:
                        if len(names) == MAX_SCAN_ENTRIES:
                            more = True
                            break
                        names.append(f"{entry.name}/" if entry.is_dir(follow_symlinks=False) else entry.name)
            finally:
                os.close(fd)
        except OSError as exc:
            if exc.errno == 20:  # ENOTDIR
                raise ToolError(f"{user_path!r} is not a folder") from None
            raise os_error(exc, user_path) from None
        finally:
            os.close(root)
        names.sort(key=lambda n: n.rstrip("/"))
        lines = names[:MAX_LIST_ENTRIES]
        hidden = len(names) - len(lines)
        if hidden or more:
            lines.append(f"[{hidden}{'+' if more else ''} more entries not shown]")
        return "\n".join(lines) or "(empty folder)"
