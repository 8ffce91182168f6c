"""Is the tools sandbox answering? One `ping` request over its socket, standard library only.

Used where an event loop would cost more than the answer: the sandbox container's healthcheck
(`picoclaw sandbox --ping SOCKET`, run by Docker every few seconds) and `picoclaw doctor`. The
gateway's /ready asks through SandboxClient.ping() on its own loop.
"""

from __future__ import annotations

import socket

from picoclaw_gateway.sandbox.protocol import PING, VERSION, ProtocolError, encode, read_frame_from

PING_TIMEOUT_S = 5.0


def ping(socket_path: str, timeout_s: float = PING_TIMEOUT_S) -> str | None:
    """None when the sandbox answered the ping, else why not (one line, no traceback)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(socket_path)
            sock.sendall(encode({"v": VERSION, "tool": PING, "args": {}}))
            answer = read_frame_from(sock)
    except TimeoutError:
        return f"no answer from {socket_path} within {timeout_s:g} s"
    except OSError as exc:
        return f"cannot reach {socket_path}: {exc.strerror or type(exc).__name__}"
    except ProtocolError as exc:
        return f"the answer is not a frame of the protocol: {exc}"
    if answer.get("v") != VERSION:
        return f"the sandbox speaks protocol version {answer.get('v')!r}, the gateway {VERSION}"
    if answer.get("ok") is not True or answer.get("result") != "pong":
        return f"unexpected answer to ping: {str(answer.get('error') or answer)[:200]}"
    return None
