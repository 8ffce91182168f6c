"""The normalized tools section of both dialects (exec, file tools, sandbox socket) and the
warning that needs the whole config (exec on an open channel)."""

from __future__ import annotations

from .checker import Checker, child, show
from .schema import (
    DEFAULTS,
    EXEC_KEYS,
    FILES_KEYS,
    MAX_SOCKET_PATH_BYTES,
    SANDBOX_KEYS,
    TOOLS_KEYS,
    UPSTREAM_TOOLS_USED,
)
from .sections import limit
from .web_section import build_web, upstream_web

_SOCKET_EXAMPLE = "/run/picoclaw/tools.sock"


def _exec(ck: Checker, section: dict, upstream: bool) -> dict:
    exec_section = ck.obj(section, "exec", "$.tools") or {}
    if upstream:
        ck.ignored(exec_section, EXEC_KEYS, "$.tools.exec", "upstream exec setting")
    else:
        ck.unknown_keys(exec_section, EXEC_KEYS, "$.tools.exec")
    return {
        "enabled": ck.boolean(exec_section, "enabled", "$.tools.exec", DEFAULTS["exec_enabled"]),
        "timeout_s": ck.number(
            exec_section,
            "timeout_s",
            "$.tools.exec",
            0.0,
            600.0,
            DEFAULTS["exec_timeout_s"],
            low_inclusive=False,
        ),
        "max_output_chars": ck.integer(
            exec_section,
            "max_output_chars",
            "$.tools.exec",
            100,
            1000000,
            DEFAULTS["exec_max_output_chars"],
        ),
    }


def _files(ck: Checker, section: dict) -> dict:
    files = ck.obj(section, "files", "$.tools") or {}
    ck.unknown_keys(files, FILES_KEYS, "$.tools.files")
    return {
        "max_read_chars": limit(ck, files, "max_read_chars", "$.tools.files", "files_max_read_chars"),
        "max_write_bytes": limit(ck, files, "max_write_bytes", "$.tools.files", "files_max_write_bytes"),
        "max_edit_bytes": limit(ck, files, "max_edit_bytes", "$.tools.files", "files_max_edit_bytes"),
    }


def _upstream_files(ck: Checker, section: dict) -> dict:
    """Upstream tools.read_file.max_read_file_size (bytes; 0 means its default) caps read_file."""
    read_file = ck.obj(section, "read_file", "$.tools") or {}
    path = "$.tools.read_file"
    ck.ignored(read_file, ("enabled", "max_read_file_size"), path, "upstream read_file setting")
    if read_file.get("enabled") is False:
        ck.warn(child(path, "enabled"), "read_file cannot be turned off in this gateway", "remove it")
    files = {
        "max_read_chars": DEFAULTS["files_max_read_chars"],
        "max_write_bytes": DEFAULTS["files_max_write_bytes"],
        "max_edit_bytes": DEFAULTS["files_max_edit_bytes"],
    }
    if read_file.get("max_read_file_size") != 0:
        files["max_read_chars"] = limit(ck, read_file, "max_read_file_size", path, "files_max_read_chars")
    return files


def _sandbox(ck: Checker, section: dict) -> dict:
    sandbox = ck.obj(section, "sandbox", "$.tools") or {}
    ck.unknown_keys(sandbox, SANDBOX_KEYS, "$.tools.sandbox")
    path = "$.tools.sandbox.socket"
    if sandbox.get("socket") is None:
        return {"socket": None}
    raw = ck.string(sandbox, "socket", "$.tools.sandbox", example=_SOCKET_EXAMPLE)
    if not raw:
        return {"socket": None}
    fix = f'write the absolute path of the sandbox container\'s socket, e.g. "{_SOCKET_EXAMPLE}"'
    if "\0" in raw or raw != raw.strip():
        ck.err(path, "socket path contains a NUL character or leading/trailing whitespace", fix)
    elif not raw.startswith("/"):
        ck.err(path, f"socket path {show(raw)} is not absolute", fix)
    elif len(raw.encode("utf-8", "replace")) > MAX_SOCKET_PATH_BYTES:
        ck.err(
            path,
            "socket path is {} bytes long, a Unix socket path is at most {}".format(
                len(raw.encode("utf-8", "replace")), MAX_SOCKET_PATH_BYTES
            ),
            "use a shorter path (mount the shared volume higher up, e.g. /run/picoclaw)",
        )
    else:
        return {"socket": raw}
    return {"socket": None}


def build_tools(ck: Checker, data: dict, upstream: bool) -> dict:
    section = ck.obj(data, "tools", "$") or {}
    if upstream:
        ck.ignored(section, UPSTREAM_TOOLS_USED, "$.tools", "upstream tool setting")
    else:
        ck.unknown_keys(section, TOOLS_KEYS, "$.tools", what="tool")
    exec_settings = _exec(ck, section, upstream)
    if upstream:
        files = _upstream_files(ck, section)
        sandbox = {"socket": None}  # upstream has no such setting: --sandbox-socket / the env var
    else:
        files = _files(ck, section)
        sandbox = _sandbox(ck, section)
    web = upstream_web(ck, section) if upstream else build_web(ck, section)
    return {"exec": exec_settings, "files": files, "sandbox": sandbox, "web": web}


def open_exec_warnings(ck: Checker, normalized: dict | None) -> None:
    if normalized is None:
        return
    exec_on = normalized["tools"]["exec"]["enabled"]
    for index, channel in enumerate(normalized["channels"]):
        if exec_on and not channel["allowed_users"]:
            ck.warn(
                ck.channel_paths[index],
                "the exec tool is enabled and this {} channel is open to everyone: anyone can run "
                "shell commands in the workspace".format(channel["type"]),
                "list allowed users, or set tools.exec.enabled to false",
            )
