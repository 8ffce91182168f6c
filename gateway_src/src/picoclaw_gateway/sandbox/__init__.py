"""The tools sandbox: every tool runs in a separate process reached over a Unix socket.

protocol.py (frames, version, caps), server.py (`picoclaw sandbox`), procs.py (no process outlives
a call), client.py (the gateway's side, untrusting), local.py (a subprocess sandbox for laptops).
"""
