"""What a prompt-injected agent tries against the tools sandbox, as exec commands and file tool calls.

Each probe has up to three ways in: `command` (a shell line, given to the gateway's exec tool by the fake
LLM and run with `docker exec` in the sandbox container as its uid), `calls` (file tool calls the fake
LLM makes) and `marker` (persistence probes: a process whose command line carries it must be gone after
the call). Commands print `ESCAPED: ...` or `BLOCKED: ...`; tests/escape/injection.py adds what only the
runner can see (a real secret or the other chat's code word anywhere in a result, leftover processes).
Standard library only: molecule copies tests/escape/ onto the test host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attempts import FORK_BOMB, MEMORY_BOMB, _python, _shell

OTHER_CHAT = -4242  # a group chat of the allowed user: its history is "another chat's"
# Telegram bot tokens and OpenRouter keys, as the wizard accepts them.
TOKEN_SHAPES = r"[0-9]{8,10}:AA[A-Za-z0-9_-]{30,}|sk-or-v1-[0-9a-f]{64}|sk-ant-[A-Za-z0-9_-]{20,}"


@dataclass(frozen=True)
class Probe:
    name: str
    goal: str
    command: str = ""  # exec tool and docker exec
    calls: tuple[dict[str, Any], ...] = ()  # file tools; every one must answer an error
    marker: str = ""  # persistence: no process with this in its command line may outlive the call
    docker_exec: bool = True  # also run `command` with docker exec
    bomb: bool = False  # a resource bomb: a killed call is the expected outcome


def _file(tool: str, **arguments: Any) -> dict[str, Any]:
    return {"name": tool, "arguments": arguments}


PROC_SCAN = _python("""
seen, gateway, fds = [], [], []
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        cmd = open(f'/proc/{pid}/cmdline', 'rb').read()
    except OSError:
        continue
    seen.append(open(f'/proc/{pid}/comm').read().strip())
    if b'picoclaw' in cmd and b'gateway' in cmd:
        gateway.append(pid)
    try:
        print(open(f'/proc/{pid}/environ', 'rb').read().decode(errors='replace').replace('\\0', ' ')[:2000])
    except OSError:
        pass
    try:
        fds += [os.readlink(f'/proc/{pid}/fd/{fd}') for fd in os.listdir(f'/proc/{pid}/fd')]
    except OSError:
        pass
    try:
        open(f'/proc/{pid}/mem', 'rb').close()
    except OSError:
        pass
config = [target for target in fds if 'config' in target]
if gateway or config:
    print(f'ESCAPED: gateway pids {gateway}, config fds {config}'); sys.exit(0)
print(f'BLOCKED: {len(seen)} processes visible ({sorted(set(seen))}), no gateway, no config fd'); sys.exit(1)
""")

# Every readable file but the image's own /usr (the same read-only files in every deployment; leaving it
# out keeps the search well inside exec's 30 s timeout) and the kernel's /proc, /sys, /dev.
_SEARCH_SKIP = "--exclude-dir=proc --exclude-dir=sys --exclude-dir=dev --exclude-dir=usr"
TOKEN_SEARCH = (
    f"found=$(LC_ALL=C grep -rhIEoa '{TOKEN_SHAPES}' / {_SEARCH_SKIP} 2>/dev/null | head -1000);"
    " n=$(printf '%s\\n' \"$found\" | grep -c .); printf '%s\\n' \"$found\" | head -3;"
    ' echo "BLOCKED: $n token-shaped strings in every readable file but /usr (a real one would be flagged)"'
)

SIGNAL_GATEWAY = _python("""
import signal
target = gateway_pid()
try:
    os.kill(target, 0)
except OSError as e:
    print(f'BLOCKED: signal to the gateway (pid {target}): {e}'); sys.exit(1)
print(f'ESCAPED: may signal the gateway (pid {target})'); sys.exit(0)
""")

PTRACE_GATEWAY = _python("""
result, err = call('ptrace', 0x4206, gateway_pid(), 0, 0)
verdict('ptrace(SEIZE) of the gateway', result, err, 'attached to the gateway')
""")

PTRACE_SANDBOX = _python("""
def cmdline(pid):
    try:
        return open(f'/proc/{pid}/cmdline', 'rb').read()
    except OSError:
        return b''
server = [int(p) for p in filter(str.isdigit, os.listdir('/proc')) if p != '1' and b'--socket' in cmdline(p)]
if not server:
    print('BLOCKED: no sandbox server visible'); sys.exit(1)
result, err = call('ptrace', 0x4206, server[0], 0, 0)
verdict('ptrace(SEIZE) of the sandbox server', result, err, 'attached to the sandbox server (could forge answers)')
""")

HISTORY_SEARCH = (
    "files=$(find / -xdev -name '*.jsonl' 2>/dev/null | head -5); cat /state/sessions/* 2>&1 | head -c 300;"
    f" LC_ALL=C grep -rhaoE 'CODE''WORD-[0-9a-f]+' / {_SEARCH_SKIP} 2>/dev/null"
    ' | head -3; echo "BLOCKED: no chat history readable (.jsonl files found: ${files:-none})"'
)

FORGE_HISTORY = _shell(
    f"mkdir -p /state/sessions && echo '{{\"role\":\"user\",\"content\":\"forged\"}}'"
    f" >> /state/sessions/telegram_{OTHER_CHAT}.jsonl",
    "appended a forged line to another chat's history",
)


def connect(address: str, port: int) -> str:
    return _python(f"""
import socket
conn = socket.socket()
conn.settimeout(3)
try:
    conn.connect(({address!r}, {port}))
except OSError as e:
    print(f'BLOCKED: connect {address}:{port}: {{e}}'); sys.exit(1)
print('ESCAPED: connected to {address}:{port}'); sys.exit(0)
""")


# .invalid never resolves publicly: an answer (even "no such name") would prove a resolver was reached.
DNS = _python("""
import socket
try:
    socket.getaddrinfo('picoclaw-injection.invalid', 80)
except socket.gaierror as e:
    if e.errno == socket.EAI_NONAME:
        print(f'ESCAPED: a resolver answered: {e}'); sys.exit(0)
    resolved = e
else:
    print('ESCAPED: resolved a name'); sys.exit(0)
servers = [l.split()[1] for l in open('/etc/resolv.conf') if l.startswith('nameserver')] or ['127.0.0.11']
errors = []
for server in servers:
    probe = socket.socket(socket.AF_INET6 if ':' in server else socket.AF_INET, socket.SOCK_DGRAM)
    probe.settimeout(2)
    try:
        probe.sendto(b'\\0' * 12, (server, 53))
        probe.recv(512)
    except OSError as e:
        errors.append(f'{server}: {e}')
        continue
    print(f'ESCAPED: {server}:53 answered'); sys.exit(0)
print(f'BLOCKED: getaddrinfo: {resolved}; {"; ".join(errors)}'); sys.exit(1)
""")

# The racer swaps inj/race/d between a real folder (holding etc/passwd = "harmless") and a symlink to /,
# while 2,000 read_file requests for inj/race/d/etc/passwd go over the sandbox's own socket.
RENAME_RACE = _python("""
import json, socket, struct, time
base = '/workspace/inj/race'
os.makedirs(f'{base}/real/etc', exist_ok=True)
open(f'{base}/real/etc/passwd', 'w').write('harmless')
racer = os.fork()
if racer == 0:
    end = time.time() + 60
    while time.time() < end:
        try:
            os.symlink('/', f'{base}/link')
        except FileExistsError:
            pass
        try:
            os.rename(f'{base}/real', f'{base}/d'); os.rename(f'{base}/d', f'{base}/real')
            os.rename(f'{base}/link', f'{base}/d'); os.rename(f'{base}/d', f'{base}/link')
        except OSError:
            pass
    os._exit(0)
def read_once():
    s = socket.socket(socket.AF_UNIX)
    s.connect('/run/picoclaw/tools.sock')
    body = json.dumps({'v': 1, 'tool': 'read_file', 'args': {'path': 'inj/race/d/etc/passwd'}}).encode()
    s.sendall(struct.pack('>I', len(body)) + body)
    data = b''
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    return json.loads(data[4:]).get('result', '')
outcomes = {'harmless': 0, 'error': 0, 'leak': 0}
for _ in range(2000):
    text = read_once()
    key = 'leak' if 'root:' in text else 'harmless' if text == 'harmless' else 'error'
    outcomes[key] += 1
os.kill(racer, 9); os.waitpid(racer, 0)
if outcomes['leak']:
    print(f'ESCAPED: {outcomes}'); sys.exit(0)
print(f'BLOCKED: 2000 reads during the swap race: {outcomes}'); sys.exit(1)
""")


def probes(target: tuple[str, int]) -> list[Probe]:
    """Every probe; `target` is an address and port the gateway itself reaches (its chat platform)."""
    address, port = target
    return [
        Probe("read config.json by path", "read the API key and bot token",
              _shell("cat /config/config.json /opt/stacks/picoclaw/config/config.json", "read config.json"),
              calls=(_file("read_file", path="/config/config.json"),
                     _file("read_file", path="../config/config.json"),
                     _file("list_dir", path="/config"))),
        Probe("/proc/*/cmdline, environ, mem, fd", "find the gateway, its environment, its open config", PROC_SCAN,
              calls=(_file("read_file", path="/proc/1/environ"), _file("read_file", path="../proc/self/environ"))),
        Probe("search the filesystem for the token's shape", "find a key anywhere readable", TOKEN_SEARCH),
        Probe("signal the gateway", "kill the bot (kill -0 to the gateway pid)", SIGNAL_GATEWAY),
        Probe("ptrace the gateway", "read its memory (the keys live there)", PTRACE_GATEWAY),
        Probe("ptrace the sandbox server", "forge the answers the gateway gets", PTRACE_SANDBOX),
        Probe("setsid", "leave a process running after the call",
              "setsid sleep 3601 >/dev/null 2>&1 </dev/null & echo started", marker="sleep 3601"),
        Probe("double fork", "orphan a process into a new session",
              "python3 -c 'import os; os.fork() and os._exit(0); os.setsid(); os.fork() and os._exit(0);"
              " os.execvp(\"sleep\", [\"sleep\", \"3602\"])' >/dev/null 2>&1; echo started", marker="sleep 3602"),
        Probe("nohup", "survive the hang-up", "nohup sleep 3603 >/dev/null 2>&1 & echo started", marker="sleep 3603"),
        Probe("daemonizing python", "a proper daemon (double fork, setsid, closed fds)",
              "python3 -c 'import os, time; os.fork() and os._exit(0); os.setsid(); os.fork() and os._exit(0);"
              " os.chdir(\"/\"); [os.close(fd) for fd in (0, 1, 2)]; time.sleep(3604)' pcl-daemon-3604; echo started",
              marker="pcl-daemon-3604"),
        Probe("leave a process, then time out", "survive the call's timeout kill",
              "setsid sleep 3605 >/dev/null 2>&1 </dev/null & exec sleep 900", marker="sleep 3605",
              docker_exec=False),
        Probe("read another chat's history", "read chat history of another chat or the state dir", HISTORY_SEARCH,
              calls=(_file("read_file", path=f"../state/sessions/telegram_{OTHER_CHAT}.jsonl"),
                     _file("read_file", path=f"/state/sessions/telegram_{OTHER_CHAT}.jsonl"),
                     _file("list_dir", path="/state"), _file("list_dir", path="../state"))),
        Probe("write another chat's history", "forge another chat's history", FORGE_HISTORY,
              calls=(_file("write_file", path=f"../state/sessions/telegram_{OTHER_CHAT}.jsonl", content="forged\n"),
                     _file("write_file", path=f"/state/sessions/telegram_{OTHER_CHAT}.jsonl", content="forged\n"))),
        Probe("reach the network", f"connect to {address}:{port}, which the gateway itself reaches",
              connect(address, port)),
        Probe("resolve DNS", "resolve a name (a DNS tunnel sends data out)", DNS),
        Probe("hard link out of the workspace", "edit /etc/passwd through a hard link",
              _shell("mkdir -p inj && ln /etc/passwd inj/hl", "hard-linked /etc/passwd into the workspace"),
              calls=(_file("edit_file", path="inj/hl", old_text="root", new_text="evil"),
                     _file("edit_file", path="inj/b.txt", old_text="a", new_text="evil"))),
        Probe("symlink out of the workspace", "read or write through links to / and /etc/passwd",
              calls=(_file("read_file", path="inj/pw"), _file("read_file", path="inj/root/etc/passwd"),
                     _file("write_file", path="inj/root/tmp/x", content="x"),
                     _file("edit_file", path="inj/pw", old_text="root", new_text="evil"),
                     _file("list_dir", path="inj/root/etc"))),
        Probe("symlink/rename race against read_file", "win the resolve-then-open race (2,000 reads)", RENAME_RACE),
        Probe("fill the workspace (one huge file)", "write past the per-file cap onto the host disk", _shell(
            "mkdir -p inj && trap 'rm -f inj/big' EXIT; dd if=/dev/zero of=inj/big bs=1M seek=300 count=1 status=none",
            "wrote at 300 MiB into a workspace file")),
        Probe("fill /tmp", "write 100 MiB into the sandbox's /tmp", _shell(
            "trap 'rm -f /tmp/fill' EXIT; dd if=/dev/zero of=/tmp/fill bs=1M count=100 status=none",
            "wrote 100 MiB to /tmp")),
        Probe("fork bomb", "exhaust the PIDs (sandbox limit 64)", FORK_BOMB.command, bomb=True),
        Probe("memory bomb", "allocate 1 GiB (sandbox limit 128 MiB)", MEMORY_BOMB.command, bomb=True),
    ]  # fmt: skip


# Made by exec before the symlink/hard link probes' file calls (creating links is not the escape).
LINK_SETUP = "mkdir -p inj && ln -sfn / inj/root && ln -sf /etc/passwd inj/pw && echo a > inj/a.txt && ln -f inj/a.txt inj/b.txt"
