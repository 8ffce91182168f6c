"""Escape attempts a hijacked agent could make from inside the gateway container, as its uid 1000.

Every attempt is one shell command line (so the same text can be run with `docker exec ... sh -c` or
handed to the gateway's `exec` tool by a scripted LLM). It prints exactly one verdict line:
`ESCAPED: <what it achieved>` or `BLOCKED: <the error it got>`. No verdict line counts as a failure of
the suite too: an attempt that proves nothing must not pass for a blocked one.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

# x86_64 / aarch64 syscall numbers of what the probes call directly (asm/unistd*.h).
SYSCALL_NUMBERS = {
    "mount": (165, 40), "unshare": (272, 97), "setns": (308, 268), "ptrace": (101, 117),
    "init_module": (175, 105), "finit_module": (313, 273), "keyctl": (250, 219), "add_key": (248, 217),
    "bpf": (321, 280), "perf_event_open": (298, 241), "kexec_load": (246, 104), "reboot": (169, 142),
    "swapon": (167, 224), "clock_settime": (227, 112), "clone": (56, 220), "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425), "process_vm_readv": (310, 270), "chroot": (161, 51),
    "pivot_root": (155, 41), "settimeofday": (164, 170),
}  # fmt: skip

# Shared by the syscall probes: call one syscall through libc, print the verdict, exit 0 on escape.
_PROBE_PRELUDE = f"""
import ctypes, os, platform, sys
NUMBERS = {SYSCALL_NUMBERS!r}
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(name, *args):
    number = NUMBERS[name][0 if platform.machine() == "x86_64" else 1]
    result = libc.syscall(ctypes.c_long(number), *args)
    return result, ctypes.get_errno()
def verdict(name, result, err, achieved):
    if result == -1:
        print(f"BLOCKED: {{name}} -> -1 errno {{err}} ({{os.strerror(err)}})")
        sys.exit(1)
    print(f"ESCAPED: {{name}} returned {{result}}: {{achieved}}")
    sys.exit(0)
def gateway_pid():
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                cmd = open(f"/proc/{{pid}}/cmdline", "rb").read().split(b"\\0")
            except OSError:
                continue
            if any(part.endswith(b"picoclaw") for part in cmd) and b"gateway" in cmd:
                return int(pid)
    # In the tools sandbox container the gateway lives in another pid namespace: nothing to aim at.
    print(f"BLOCKED: no gateway process visible ({{len(os.listdir('/proc'))}} /proc entries; another pid namespace)")
    sys.exit(1)
"""


@dataclass(frozen=True)
class Attempt:
    name: str
    goal: str
    command: str
    # EPERM from the allowlist is the expected answer of the kernel-facing probes under our profile.
    seccomp_denied: bool = False


def _python(code: str) -> str:
    """A python3 one-liner safe to pass through any shell quoting: the code travels as base64."""
    blob = base64.b64encode((_PROBE_PRELUDE + code).encode()).decode()
    return f"python3 -c \"import base64; exec(base64.b64decode('{blob}'))\""


def _shell(action: str, achieved: str) -> str:
    """Run `action`; success of the action means the escape worked."""
    run = f"out=$( {{ {action} ; }} 2>&1 )"
    return f'{run} && echo "ESCAPED: {achieved}" || echo "BLOCKED: rc=$? $out" | head -c 300'


def _syscall(name: str, args: str, achieved: str, setup: str = "", label: str = "") -> Attempt:
    code = f"{setup}\nresult, err = call({name!r}, {args})\nverdict({name!r}, result, err, {achieved!r})"
    return Attempt(f"syscall {label or name}", achieved, _python(code), seccomp_denied=True)


CLONE_NEWUSER, CLONE_NEWNET, SIGCHLD = 0x10000000, 0x40000000, 17

ATTEMPTS: list[Attempt] = [
    Attempt("write to /", "create /escape-probe", _shell("touch /escape-probe", "created /escape-probe")),
    Attempt("write to /etc", "append to /etc/passwd",
            _shell("echo 'evil:x:0:0::/:/bin/sh' >> /etc/passwd", "root user added to /etc/passwd")),
    Attempt("write to /usr", "drop a binary in /usr/local/bin",
            _shell("cp /bin/sh /usr/local/bin/evil", "wrote /usr/local/bin/evil")),
    Attempt("change /config/config.json", "replace the gateway config",
            _shell("echo {} > /config/config.json", "config.json overwritten")),
    Attempt("chmod /config/config.json", "make the config world-writable",
            _shell("chmod 666 /config/config.json", "config.json made writable")),
    Attempt("read /etc/shadow", "read password hashes", _shell("cat /etc/shadow", "read /etc/shadow")),
    Attempt("chown to root", "give a workspace file to root",
            _shell("touch /tmp/own && chown 0:0 /tmp/own", "chowned a file to root")),
    Attempt("setuid(0)", "become root directly", _python(
        "try:\n    os.setuid(0)\nexcept OSError as e:\n    print(f'BLOCKED: setuid(0): {e}'); sys.exit(1)\n"
        "print('ESCAPED: setuid(0) worked'); sys.exit(0)")),
    Attempt("setuid-root mount binary", "mount through /usr/bin/mount (the image strips setuid bits; no-new-privileges too)",
            _shell("mkdir -p /tmp/m && mount -t tmpfs none /tmp/m", "mounted through the setuid binary")),
    Attempt("su to root", "switch user without a password",
            _shell("su -c id root </dev/null", "su ran as root")),
    _syscall("mount", "b'none', b'/tmp', b'tmpfs', 0, None", "mounted a tmpfs over /tmp"),
    _syscall("unshare", f"{CLONE_NEWUSER}", "entered a new user namespace", label="unshare(CLONE_NEWUSER)"),
    _syscall("unshare", f"{CLONE_NEWNET}", "entered a new network namespace", label="unshare(CLONE_NEWNET)"),
    Attempt("clone(CLONE_NEWUSER)", "fork into a new user namespace", _python(
        f"pid, err = call('clone', {CLONE_NEWUSER | SIGCHLD}, 0, 0, 0, 0)\n"
        "if pid == 0:\n    os._exit(0)\n"
        "if pid > 0:\n    os.waitpid(pid, 0)\n"
        "verdict('clone(CLONE_NEWUSER)', pid, err, 'child in a new user namespace')"), seccomp_denied=True),
    _syscall("setns", "os.open('/proc/1/ns/mnt', os.O_RDONLY), 0", "joined init's mount namespace"),
    _syscall("chroot", "b'/tmp'", "changed root"),
    # PTRACE_SEIZE: attaches without stopping the gateway, should it ever succeed.
    _syscall("ptrace", "0x4206, gateway_pid(), 0, 0", "attached to the gateway process"),
    _syscall("process_vm_readv", "gateway_pid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0",
             "read the gateway's memory (API keys live there)", setup=(
                 "class IOV(ctypes.Structure):\n"
                 "    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]\n"
                 "buf = ctypes.create_string_buffer(8)\nlocal = IOV(ctypes.addressof(buf), 8)\n"
                 "start = int(open(f'/proc/{gateway_pid()}/maps').readline().split('-')[0], 16)\n"
                 "remote = IOV(start, 8)")),
    _syscall("init_module", "ctypes.c_char_p(b'\\0'), 1, b''", "loaded a kernel module"),
    _syscall("finit_module", "os.open('/dev/null', os.O_RDONLY), b'', 0", "loaded a kernel module"),
    Attempt("raw socket", "open a raw IP socket", _python(
        "import socket\ntry:\n    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)\n"
        "except OSError as e:\n    print(f'BLOCKED: raw socket: {e}'); sys.exit(1)\n"
        "print('ESCAPED: raw socket opened'); sys.exit(0)")),
    Attempt("packet socket", "sniff the link layer", _python(
        "import socket\ntry:\n    socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 3)\n"
        "except OSError as e:\n    print(f'BLOCKED: packet socket: {e}'); sys.exit(1)\n"
        "print('ESCAPED: packet socket opened'); sys.exit(0)")),
    Attempt("docker.sock", "reach the Docker daemon", _python(
        "import socket\nfor path in ('/var/run/docker.sock', '/run/docker.sock'):\n"
        "    try:\n        socket.socket(socket.AF_UNIX).connect(path)\n"
        "    except OSError as e:\n        last = e; continue\n"
        "    print(f'ESCAPED: connected to {path}'); sys.exit(0)\n"
        "print(f'BLOCKED: no daemon socket: {last}'); sys.exit(1)")),
    Attempt("see host processes", "list processes outside the container", _python(
        "names = []\nfor pid in filter(str.isdigit, os.listdir('/proc')):\n"
        "    try:\n        names.append(open(f'/proc/{pid}/comm').read().strip())\n"
        "    except OSError:\n        pass\n"
        "host = [n for n in names if n in ('dockerd', 'containerd', 'systemd', 'sshd', 'kthreadd')]\n"
        "if host or len(names) > 64:\n"
        "    print(f'ESCAPED: {len(names)} processes visible, e.g. {host[:3]}'); sys.exit(0)\n"
        "print(f'BLOCKED: only {len(names)} container processes visible: {sorted(set(names))}')\n"
        "sys.exit(1)")),
    Attempt("execute a file dropped in /tmp", "run a copied binary from the tmpfs",
            _shell("cp /bin/true /tmp/t && chmod +x /tmp/t && /tmp/t", "ran /tmp/t")),
    Attempt("run /tmp binary through ld.so", "bypass noexec with the dynamic loader", _shell(
        "cp /bin/true /tmp/t2 && ld=$(ls /lib64/ld-linux-*.so.* /lib/ld-linux-*.so.* 2>/dev/null | head -1)"
        " && $ld /tmp/t2", "ran /tmp/t2 through ld.so")),
    Attempt("fill /tmp", "write 100 MiB to the tmpfs (16 MiB by default)", _shell(
        "trap 'rm -f /tmp/fill' EXIT; dd if=/dev/zero of=/tmp/fill bs=1M count=100 status=none",
        "wrote 100 MiB to /tmp")),
    Attempt("write /proc/sys", "change a kernel setting",
            _shell("echo '|/tmp/x' > /proc/sys/kernel/core_pattern", "core_pattern changed")),
    Attempt("raise the memory limit", "write the container's cgroup", _shell(
        "echo -1 > /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null"
        " || echo max > /sys/fs/cgroup/memory.max",
        "memory limit raised")),
    Attempt("mknod a disk", "create a block device node", _shell("mknod /tmp/sda b 8 0", "created /tmp/sda")),
    _syscall("keyctl", "0, -3, 1", "reached the kernel keyring (session keyring id)"),
    _syscall("add_key", "b'user', b'escape', b'x', 1, -3", "added a kernel key"),
    _syscall("bpf", "0, ctypes.byref(attr), 72", "created a BPF map",
             setup="attr = (ctypes.c_uint32 * 18)(2, 4, 4, 1)"),
    _syscall("perf_event_open", "ctypes.byref(attr), 0, -1, -1, 0", "opened a perf event",
             setup="attr = (ctypes.c_uint8 * 128)()\nattr[0] = 1\nattr[4] = 128\nattr[40] = 1 | 32 | 64"),
    _syscall("kexec_load", "0, 0, None, 0", "loaded a new kernel"),
    _syscall("reboot", "0xfee1dead, 672274793, 0, None", "reboot() accepted (CAD off)"),
    _syscall("swapon", "b'/tmp/swap', 0", "enabled swap"),
    _syscall("clock_settime", "0, ctypes.byref(ts)", "set the host clock (to its own value)",
             setup="ts = (ctypes.c_long * 2)()\nlibc.clock_gettime(0, ctypes.byref(ts))"),
    _syscall("userfaultfd", "0", "got a userfaultfd (kernel exploit primitive)"),
    _syscall("io_uring_setup", "1, ctypes.byref(params)", "got an io_uring (bypasses seccomp per op)",
             setup="params = (ctypes.c_uint8 * 120)()"),
]  # fmt: skip

# Resource exhaustion: run through `docker exec` only, then the test checks the gateway still answers.
FORK_BOMB = Attempt(
    "fork bomb",
    "exhaust PIDs (limit 64)",
    _python(
        "import signal, time\nos.setpgid(0, 0)\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "forks, err = 0, None\n"
        "while forks < 200:\n    try:\n        pid = os.fork()\n"
        "    except OSError as e:\n        err = e\n        break\n"
        "    if pid == 0:\n        signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
        "        time.sleep(60)\n        os._exit(0)\n"
        "    forks += 1\n"
        "os.killpg(0, signal.SIGTERM)\n"
        "while True:\n    try:\n        os.wait()\n    except ChildProcessError:\n        break\n"
        "if err is None:\n    print(f'ESCAPED: {forks} processes forked'); sys.exit(0)\n"
        "print(f'BLOCKED: {forks} forks, then {err}'); sys.exit(1)"
    ),
)
MEMORY_BOMB = Attempt(
    "memory bomb",
    "allocate 1 GiB in a 128 MiB container",
    _shell(
        "python3 -c 'chunks = [bytearray(b\"x\") * (16 << 20) for _ in range(64)]; print(len(chunks))'",
        "allocated 1 GiB",
    ),
)


def host_service_attempt(port: int, addresses: Sequence[str] = (), via_default_gateway: bool = True) -> Attempt:
    """Connect to a TCP service on the host: through the container's default gateway (the host's address on
    the bridge) and through `addresses` (the host's other addresses).

    Only meaningful with a listener on `port` on the host, outside the firewall's allow-list: a refused
    connection means nothing listens there, so the probe gives no verdict rather than a false BLOCKED.
    Not in ATTEMPTS because it needs that target (tests/escape/run.py --host-port).
    """
    code = f"""
import errno, socket, struct
targets = []
routes = open('/proc/net/route').read().splitlines()[1:] if {via_default_gateway!r} else []
for fields in (line.split() for line in routes):
    if fields[1] == '00000000' and int(fields[3], 16) & 2:  # default route with a gateway
        targets.append(socket.inet_ntoa(struct.pack('<L', int(fields[2], 16))))
targets += {list(addresses)!r}
if not targets:
    sys.exit('no default gateway and no host address to try')
errors = []
for address in dict.fromkeys(targets):
    conn = socket.socket()
    conn.settimeout(3)
    try:
        conn.connect((address, {port}))
    except TimeoutError:
        errors.append(f'{{address}}: timed out')
        continue
    except OSError as e:
        if e.errno == errno.ECONNREFUSED:
            print(f'UNPROVEN: {{address}}:{port} refused: nothing listens there, start a listener on the host')
            sys.exit(2)
        errors.append(f'{{address}}: {{e.strerror}}')
        continue
    print(f'ESCAPED: connected to the host service at {{address}}:{port}')
    sys.exit(0)
print(f'BLOCKED: port {port}: ' + '; '.join(errors))
sys.exit(1)
"""
    goal = f"connect to the host's port {port} (bridge gateway, host address)"
    return Attempt("reach a host service", goal, _python(code))
