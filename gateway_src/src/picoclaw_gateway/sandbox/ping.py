"""Is the tools sandbox answering? One `ping` request over its socket, standard library only.

Used where an event loop would cost more than the answer: the sandbox container's healthcheck
(`picoclaw sandbox --ping SOCKET`, run by Docker every few seconds) and `picoclaw doctor`. The
gateway's /ready asks through SandboxClient.ping() on its own loop.
"""

from __future__ import annotations

import json
import socket

from picoclaw_gateway.sandbox.protocol import MAX_FRAME_BYTES, PING, VERSION, encode

PING_TIMEOUT_S = 5.0


def ping(socket_path: str, timeout_s: float = PING_TIMEOUT_S) -> str | None:
    """None when the sandbox answered the ping, else why not (one line, no traceback)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(socket_path)
            sock.sendall(encode({"v": VERSION, "tool": PING, "args": {}}))
            header = _read(sock, 4)
            size = int.from_bytes(header, "big")
            if size > MAX_FRAME_BYTES:
                return f"answer of {size} bytes is over the frame cap"
            answer = json.loads(_read(sock, size).decode("utf-8"))
    except TimeoutError:
        return f"no answer from {socket_path} within {timeout_s:g} s"
    except OSError as exc:
        return f"cannot reach {socket_path}: {exc.strerror or type(exc).__name__}"
    except (UnicodeDecodeError, ValueError):
        return "the answer is not UTF-8 JSON"
    if not isinstance(answer, dict):
        return "the answer is not a JSON object"
    if answer.get("v") != VERSION:
        return f"the sandbox speaks protocol version {answer.get('v')!r}, the gateway {VERSION}"
    if answer.get("ok") is not True or answer.get("result") != "pong":
        return f"unexpected answer to ping: {str(answer.get('error') or answer)[:200]}"
    return None


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(min(size - len(data), 65536))
        if not chunk:
            raise ConnectionResetError(0, "the connection closed early")
        data += chunk
    return data
