"""Open workspace paths without following links out of it and without a resolve-then-open race.

Every open starts from a descriptor of the workspace root. Where the kernel has openat2 (Linux 5.6+),
RESOLVE_BENEATH makes the kernel itself refuse any step (symlink, `..`, absolute link) that leaves
the root, atomically with the open; RESOLVE_NO_MAGICLINKS refuses /proc/<pid>/fd-style links.
Elsewhere (old kernel, or a seccomp profile without openat2) each component is opened with
O_NOFOLLOW relative to the previous directory's descriptor, so no symlink is followed at all.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat

from picoclaw_gateway.agent.tools.base import ToolError

SYS_OPENAT2 = 437  # one number on every architecture (the unified syscall table since 5.1)
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_BENEATH = 0x08
_WALK_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_EAGAIN_RETRIES = 16  # openat2 says EAGAIN when a concurrent rename raced a `..` step


class _OpenHow(ctypes.Structure):
    _fields_ = (("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64))


_syscall = None
_openat2_state: bool | None = None  # None: not probed yet


def _raw_openat2(dir_fd: int, path: str, flags: int, mode: int) -> int:
    global _syscall
    if _syscall is None:
        libc = ctypes.CDLL(None, use_errno=True)
        _syscall = libc.syscall
        _syscall.restype = ctypes.c_long
    resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS
    how = _OpenHow(flags | os.O_CLOEXEC, mode if flags & os.O_CREAT else 0, resolve)
    fd = _syscall(
        ctypes.c_long(SYS_OPENAT2),
        ctypes.c_int(dir_fd),
        ctypes.c_char_p(os.fsencode(path)),
        ctypes.byref(how),
        ctypes.c_size_t(ctypes.sizeof(how)),
    )
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)
    return int(fd)


def openat2_available() -> bool:
    """Probed once: ENOSYS (old kernel) or EPERM (a seccomp filter) mean: use the O_NOFOLLOW walk."""
    global _openat2_state
    if _openat2_state is None:
        if os.environ.get("PICOCLAW_SANDBOX_NO_OPENAT2") == "1":  # tests exercise the fallback
            _openat2_state = False
        else:
            try:
                os.close(_raw_openat2(-100, ".", os.O_PATH | os.O_DIRECTORY, 0))  # -100: AT_FDCWD
                _openat2_state = True
            except OSError as exc:
                _openat2_state = exc.errno not in (errno.ENOSYS, errno.EPERM)
    return _openat2_state


def _symlink_or(exc: OSError, name: str, dir_fd: int) -> OSError:
    """O_DIRECTORY|O_NOFOLLOW on a symlink says ENOTDIR; report it as the link it is (ELOOP)."""
    try:
        if stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
            return OSError(errno.ELOOP, os.strerror(errno.ELOOP), name)
    except OSError:
        pass
    return exc


def _walk_open(root_fd: int, rel: str, flags: int, mode: int) -> int:
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if ".." in parts:  # callers normalize first; never step up without the kernel's check
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), rel)
    if not parts:
        return os.open(".", flags | os.O_CLOEXEC, mode, dir_fd=root_fd)
    current = root_fd
    try:
        for part in parts[:-1]:
            # O_NOFOLLOW: a symlink component fails instead of being followed.
            try:
                step = os.open(part, _WALK_DIR_FLAGS, dir_fd=current)
            except NotADirectoryError as exc:
                raise _symlink_or(exc, part, current) from None
            if current != root_fd:
                os.close(current)
            current = step
        try:
            return os.open(parts[-1], flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=current)
        except NotADirectoryError as exc:
            raise _symlink_or(exc, parts[-1], current) from None
    finally:
        if current != root_fd:
            os.close(current)


def open_beneath(root_fd: int, rel: str, flags: int, mode: int = 0o644) -> int:
    """Open `rel` (normalized, relative) under the directory `root_fd`; OSError on refusal."""
    if not openat2_available():
        return _walk_open(root_fd, rel, flags, mode)
    for _ in range(_EAGAIN_RETRIES):
        try:
            return _raw_openat2(root_fd, rel, flags, mode)
        except BlockingIOError:
            continue
    raise OSError(errno.EAGAIN, "the workspace changed during every attempt to open the path", rel)


def normalize(root: str, user_path: str) -> str:
    """The workspace-relative form of `user_path` ('.' is the root); outside paths are refused.

    Lexical only: links are the kernel's job at open time (open_beneath).
    """
    if not user_path or "\x00" in user_path:
        raise ToolError("path must be a non-empty string without NUL bytes")
    path = os.path.expanduser(user_path)
    if os.path.isabs(path):
        path = os.path.normpath(path)
        for base in dict.fromkeys((os.path.normpath(root), os.path.realpath(root))):
            if path == base or path.startswith(base.rstrip("/") + "/"):
                path = os.path.relpath(path, base)
                break
        else:
            raise ToolError(f"path {user_path!r} is outside the workspace; use paths under {root}")
    rel = os.path.normpath(path)
    if rel == ".." or rel.startswith("../"):
        raise ToolError(f"path {user_path!r} is outside the workspace; use paths under {root}")
    return rel


def os_error(exc: OSError, user_path: str) -> ToolError:
    """One readable line for the LLM, never a traceback."""
    code = exc.errno
    if code == errno.EXDEV:
        return ToolError(f"path {user_path!r} leads outside the workspace (through a link or `..`); refused")
    if code == errno.ELOOP:
        return ToolError(
            f"path {user_path!r} goes through a symbolic link the file tools do not follow "
            "(it could lead outside the workspace); use the real path"
        )
    if code == errno.ENOENT:
        return ToolError(f"{user_path!r} does not exist")
    if code == errno.ENOTDIR:
        return ToolError(f"a part of {user_path!r} is not a folder")
    if code == errno.EISDIR:
        return ToolError(f"{user_path!r} is a folder, not a file")
    if code in (errno.EACCES, errno.EPERM):
        return ToolError(f"{user_path!r}: permission denied")
    return ToolError(f"{user_path!r}: {exc.strerror or exc}")
