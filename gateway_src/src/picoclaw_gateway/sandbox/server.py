"""`picoclaw sandbox`: runs the agent's tools for the gateway, one request per connection.

It holds no secret and imports no channel or provider library. In its container it is the only
process besides init, so `--kill-all-others` kills every other process after each exec call; outside
a container it kills the call's descendants (procs.py). exec calls run one at a time: the sweep after
one must not kill another call's processes. File tools run concurrently; they start no process.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import socket
import stat
import sys
import threading
from typing import TYPE_CHECKING, Any

from picoclaw_gateway.sandbox import procs
from picoclaw_gateway.sandbox.protocol import (
    MAX_RESULT_CHARS,
    PING,
    ProtocolError,
    check_version,
    encode,
    read_frame_from,
)

if TYPE_CHECKING:
    from pathlib import Path

    from picoclaw_gateway.tool_limits import FilesConfig

log = logging.getLogger("picoclaw.sandbox")

REQUEST_READ_TIMEOUT_S = 10.0  # a client that connects and sends nothing is dropped
# Connections served at once (a thread each; threads count against the container's pids limit).
# More wait in the listen backlog: the gateway's own timeout bounds how long.
MAX_CONNECTIONS = 8
MAX_EXEC_TIMEOUT_S = 600.0  # the config validator's maximum for tools.exec.timeout_s
FILE_TOOL_TIMEOUT_S = 30.0
MAX_OUTPUT_CHARS = 1_000_000


def _request_limits(request: dict[str, Any]) -> dict[str, Any]:
    limits = request.get("limits")
    return limits if isinstance(limits, dict) else {}


def _limits(request: dict[str, Any]) -> tuple[float, int]:
    """Clamp what the gateway asked for: the sandbox never trusts a number it cannot bound."""
    limits = _request_limits(request)
    timeout = limits.get("timeout_s")
    chars = limits.get("max_output_chars")
    timeout_s = float(timeout) if isinstance(timeout, int | float) and math.isfinite(timeout) else 60.0
    max_chars = chars if isinstance(chars, int) and not isinstance(chars, bool) else 10_000
    return min(max(timeout_s, 0.1), MAX_EXEC_TIMEOUT_S), min(max(max_chars, 100), MAX_OUTPUT_CHARS)


def _file_limits(request: dict[str, Any]) -> FilesConfig:
    """The file tools' caps the gateway asked for (tools.files.*), each clamped to the validator's
    bounds; a missing or malformed one is the default."""
    from picoclaw_gateway.config_validator import BOUNDS, DEFAULTS
    from picoclaw_gateway.tool_limits import FilesConfig

    limits = _request_limits(request)
    values = {}
    for key in ("max_read_chars", "max_write_bytes", "max_edit_bytes"):
        name = f"files_{key}"
        value = limits.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            value = DEFAULTS[name]
        low, high = BOUNDS[name]
        values[key] = min(max(value, low), high)
    return FilesConfig(**values)


FILE_TOOLS = ("read_file", "write_file", "edit_file", "list_dir")


def _file_tool_class(name: str) -> Any:
    """Imported at the first file call, not at start: the idle sandbox stays small (16 MB budget)."""
    from picoclaw_gateway.agent.tools.files import EditFileTool, ListDirTool, ReadFileTool, WriteFileTool

    return {tool.name: tool for tool in (ReadFileTool, WriteFileTool, EditFileTool, ListDirTool)}[name]


class SandboxServer:
    def __init__(self, workspace: str, kill_all_others: bool) -> None:
        # A str until the first call: pathlib (with urllib.parse and ipaddress) costs ~1 MB idle.
        self._workspace_str = workspace
        self._workspace: Path | None = None
        self.kill_all_others = kill_all_others
        self._exec_lock = threading.Lock()

    @property
    def workspace(self) -> Path:
        if self._workspace is None:
            from pathlib import Path

            self._workspace = Path(self._workspace_str)
        return self._workspace

    def handle(self, conn: socket.socket) -> None:
        """One connection: one request, one answer (none when the gateway hung up first)."""
        with conn:
            try:
                try:
                    conn.settimeout(REQUEST_READ_TIMEOUT_S)
                    request = read_frame_from(conn)
                    conn.settimeout(None)
                    check_version(request, "the gateway")
                    answer = self.run_call(request, conn)
                except (ProtocolError, TimeoutError) as exc:
                    answer = {"v": 1, "ok": False, "error": f"bad request: {exc or 'no request in time'}"}
                if answer is not None:
                    conn.sendall(encode(answer))
            except (OSError, ProtocolError) as exc:
                log.warning("sandbox: could not answer: %s", exc)

    def run_call(self, request: dict[str, Any], conn: socket.socket | None = None) -> dict[str, Any] | None:
        tool = request.get("tool")
        args = request.get("args")
        if not isinstance(tool, str) or not isinstance(args, dict):
            return {"v": 1, "ok": False, "error": "bad request: 'tool' must be a string, 'args' an object"}
        if tool == PING:  # the healthcheck's, the gateway's /ready and doctor's probe: nothing runs
            return {"v": 1, "ok": True, "result": "pong"}
        timeout_s, max_chars = _limits(request)
        if tool == "exec":
            result = self._exec(args, timeout_s, max_chars, conn)
            if result is None:
                return None  # the gateway hung up (its timeout): the call was killed and swept
        elif tool in FILE_TOOLS:
            # Built per call: each call carries the caps (tools.files.*) the gateway's config sets.
            # No timeout of their own: they read and write within those caps, and never block on a FIFO.
            result = self._run(_file_tool_class(tool)(self.workspace, _file_limits(request)), args)
        else:
            return {"v": 1, "ok": False, "error": f"unknown tool {tool!r}"}
        if len(result) > MAX_RESULT_CHARS:
            result = result[:MAX_RESULT_CHARS] + "\n[result truncated by the sandbox]"
        return {"v": 1, "ok": True, "result": result}

    def _exec(
        self, args: dict[str, Any], timeout_s: float, max_chars: int, conn: socket.socket | None
    ) -> str | None:
        from picoclaw_gateway.agent.tools.exec_tool import CallerGone, ExecTool
        from picoclaw_gateway.tool_limits import ExecConfig

        tool = ExecTool(self.workspace, ExecConfig(True, timeout_s, max_chars))
        # One at a time: the sweep after a call must not kill another call's processes.
        with self._exec_lock:
            try:
                return self._run(tool, args, conn)
            except CallerGone:
                return None
            finally:
                survivors = procs.sweep(self.kill_all_others)
                if survivors:
                    log.warning("sandbox: %d processes survived the sweep: %s", len(survivors), survivors)

    @staticmethod
    def _run(tool: Any, args: dict[str, Any], conn: socket.socket | None = None) -> str:
        from picoclaw_gateway.agent.tools.base import ToolError
        from picoclaw_gateway.agent.tools.exec_tool import CallerGone

        try:
            return str(tool.call(args, conn) if conn is not None else tool.call(args))
        except ToolError as exc:
            return f"error: {exc}"
        except CallerGone:
            raise
        except Exception as exc:  # a tool bug must not end the sandbox
            log.exception("tool %s crashed", tool.name)
            return f"error: tool {tool.name} failed: {type(exc).__name__}"


def _remove_socket(path: str) -> None:
    """Remove a (stale) socket; refuse to delete anything else."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise SystemExit(f"picoclaw sandbox: {path} exists and is not a socket — fix: use another --socket")
    os.unlink(path)


class _Stop(Exception):
    """SIGTERM / SIGINT: leave the accept loop."""


def _stop(signum: int, frame: object) -> None:
    raise _Stop


def serve(socket_path: str, workspace: str, kill_all_others: bool) -> None:
    server_state = SandboxServer(workspace, kill_all_others)
    _remove_socket(socket_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o117)  # socket mode 0660: the gateway shares the group
    try:
        listener.bind(socket_path)
    finally:
        os.umask(old_umask)
    listener.listen(64)
    slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
    log.info(
        "sandbox listening on %s, workspace %s, %s",
        socket_path,
        workspace,
        "kills every other process after each exec call" if kill_all_others else "local mode (descendants)",
    )

    def serve_one(conn: socket.socket) -> None:
        try:
            server_state.handle(conn)
        finally:
            slots.release()

    try:
        with contextlib.suppress(_Stop):
            while True:
                slots.acquire()
                try:
                    conn, _ = listener.accept()
                except BaseException:
                    slots.release()
                    raise
                threading.Thread(target=serve_one, args=(conn,), daemon=True).start()
    finally:
        listener.close()
        procs.sweep(kill_all_others)
        _remove_socket(socket_path)


USAGE = (
    "usage: picoclaw sandbox --socket PATH [--workspace DIR] [--kill-all-others] [--parent-pid PID]\n"
    "       picoclaw sandbox --ping PATH   (exit 0 when the sandbox on PATH answers: the healthcheck)"
)


def main(argv: list[str]) -> int:
    """`picoclaw sandbox ...`, parsed without argparse (its import alone is ~0.4 MB of RSS)."""
    options = {
        "--socket": "",
        "--workspace": os.environ.get("PICOCLAW_WORKSPACE", "/workspace"),
        "--parent-pid": "",
        "--ping": "",
    }
    kill_all = False
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=")
        if arg in ("-h", "--help"):
            print(USAGE)
            return 0
        if arg == "--kill-all-others":
            kill_all = True
        elif name in options and (eq or rest):
            options[name] = value if eq else rest.pop(0)
        else:
            print(f"picoclaw sandbox: unexpected argument {arg!r}\n{USAGE}", file=sys.stderr)
            return 2
    if options["--ping"]:
        from picoclaw_gateway.sandbox.ping import ping

        problem = ping(options["--ping"])
        print(f"unhealthy: {problem}" if problem else "ok: the tools sandbox answered")
        return 1 if problem else 0
    if not options["--socket"]:
        print(f"picoclaw sandbox: --socket is required\n{USAGE}", file=sys.stderr)
        return 2
    parent = options["--parent-pid"]
    if parent and not parent.isdigit():
        print(f"picoclaw sandbox: --parent-pid must be a process id, got {parent!r}", file=sys.stderr)
        return 2
    return run_sandbox(options["--socket"], options["--workspace"], kill_all, int(parent or 0))


def run_sandbox(socket_path: str, workspace: str, kill_all_others: bool, parent_pid: int = 0) -> int:
    from picoclaw_gateway import hardening

    logging.basicConfig(
        level=os.environ.get("PICOCLAW_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not os.path.isdir(workspace):
        print(f"picoclaw sandbox: workspace {workspace} is not a folder — fix: mount one", file=sys.stderr)
        return 2
    if parent_pid:
        # Started by a gateway as its local sandbox: die with it (even on its kill -9). Checked after
        # arming, so a parent that died in between is not missed.
        hardening.die_with_parent(signal.SIGKILL)
        if os.getppid() != parent_pid:
            return 0
        # Beside the gateway (the same memory limit in a container, the same machine on a laptop):
        # a tool's memory bomb must be what the kernel kills, not the gateway.
        with contextlib.suppress(OSError):
            hardening.prefer_as_oom_victim()
    hardening.set_child_subreaper()
    if kill_all_others:
        # Its own container: the workspace is shared with the gateway through its setgid group, so
        # what the tools create stays usable by both (and by no one else).
        os.umask(0o007)
    with contextlib.suppress(OSError):
        hardening.set_non_dumpable()  # a tool's process must not ptrace the sandbox to forge answers
    if kill_all_others and (found := procs.others()):
        print(
            f"picoclaw sandbox: --kill-all-others would kill {len(found)} other processes "
            f"(pids {found[:10]}); it is only for a container where the sandbox is alone with pid 1 "
            "— fix: drop --kill-all-others outside such a container",
            file=sys.stderr,
        )
        return 2
    serve(socket_path, workspace, kill_all_others)
    return 0
