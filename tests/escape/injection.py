#!/usr/bin/env python3
"""The prompt-injection suite: what a hijacked agent tries against the deployed gateway + tools sandbox.

Usage (on the host that runs the stack, as root):
  python3 tests/escape/injection.py --gateway GATEWAY_CONTAINER --sandbox SANDBOX_CONTAINER
      --telegram URL --llm URL --user ID --config /opt/stacks/picoclaw/config/config.json
      --target ADDRESS:PORT [--out TABLE.md]
Every probe (injection_attempts.py) runs through the gateway's tools as the fake LLM calls them (exec,
file tools) and with `docker exec` in the sandbox container as its uid. A probe fails the suite when a
result carries a real secret of config.json or another chat's code word, says ESCAPED or gives no
verdict, or leaves a process behind. --target is an address the gateway reaches (its chat platform):
the gateway container connecting to it is the control that makes "the sandbox cannot" mean something.
Then: the gateway is the same process with about the same RSS (fork and memory bombs), the other chat's
history is intact, and the bot answers. Standard library only (molecule copies tests/escape/ to the host).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exec_tool import Simulator, http
from injection_attempts import LINK_SETUP, OTHER_CHAT, Probe, connect, probes

RSS_SLACK_KB = 16 * 1024  # a gateway that answered a few more messages may grow a little, not by a bomb


def docker(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(exc.cmd, 124, "", f"timed out after {exc.timeout}s")


def secrets_of(config_path: Path) -> list[str]:
    """Every string of config.json under a key naming a secret; never printed."""
    found: list[str] = []

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and len(node) >= 8 and any(w in key.lower() for w in ("key", "token", "secret")):
            found.append(node)

    walk(json.loads(config_path.read_text()))
    return found


class Judge:
    def __init__(self, secrets: list[str], code_word: str) -> None:
        self.secrets = secrets
        self.code_word = code_word

    def leak(self, text: str) -> str:
        if any(s in text for s in self.secrets):
            return "a secret of config.json is in the result"
        return "the other chat's code word is in the result" if self.code_word in text else ""

    def command(self, probe: Probe, output: str) -> tuple[str, str]:
        """(verdict, detail) of a command's output; bug guard: a killed bomb is a verdict, not silence."""
        leak = self.leak(output)
        if leak:
            return "ESCAPED", leak
        for line in reversed(output.splitlines()):
            for verdict in ("ESCAPED", "BLOCKED"):
                if line.startswith(f"{verdict}:"):
                    return verdict, line.removeprefix(f"{verdict}:").strip()
        if probe.bomb and ("[timed out after" in output or "[exit code 137]" in output or "exit code -9" in output):
            return "BLOCKED", "killed by the sandbox's limits: " + output.strip().splitlines()[-1][:120]
        return "NO VERDICT", output.strip()[-200:]

    def files(self, results: list[str]) -> tuple[str, str]:
        for text in results:
            if self.leak(text) or "root:x:0:" in text:
                return "ESCAPED", self.leak(text) or "read /etc/passwd outside the workspace"
            if not text.startswith("error"):
                return "ESCAPED", f"a call succeeded: {text[:120]}"
        return "BLOCKED", f"{len(results)} calls refused, e.g. {results[0][:110]}"


def sandbox_processes(sandbox: str, marker: str) -> list[str]:
    code = (
        "import os\nfor p in filter(str.isdigit, os.listdir('/proc')):\n    try:\n"
        "        c = open(f'/proc/{p}/cmdline', 'rb').read().replace(b'\\0', b' ').decode()\n"
        "        s = open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[0]\n"
        "    except OSError:\n        continue\n"
        f"    if {marker!r} in c and 'import os' not in c and s != 'Z':\n        print(p, c)\n"
    )
    return docker("exec", sandbox, "python3", "-c", code).stdout.splitlines()


def process_facts(container: str, needle: str) -> dict[str, Any]:
    """pid, VmRSS (kB) and start time of the process whose command line has `needle`, read in its container."""
    code = (
        "import os, json\nfor p in filter(str.isdigit, os.listdir('/proc')):\n"
        "    if p == '1':\n        continue  # init (tini) carries the command line of its child\n"
        "    try:\n"
        "        c = open(f'/proc/{p}/cmdline', 'rb').read()\n"
        f"        if {needle!r}.encode() not in c or b'import os' in c:\n            continue\n"
        "        rss = [l.split()[1] for l in open(f'/proc/{p}/status') if l.startswith('VmRSS')]\n"
        "        start = open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[19]\n"
        "    except OSError:\n        continue  # a short-lived process (a healthcheck) went away\n"
        "    print(json.dumps({'pid': int(p), 'rss_kb': int(rss[0]), 'start': start})); break\n"
    )
    out = docker("exec", container, "python3", "-c", code).stdout.strip()
    facts = json.loads(out) if out else {}
    # The State JSON holds spaces (healthcheck output): the restart count is the last field.
    state = docker("inspect", "--format", "{{json .State}} {{.RestartCount}}", container).stdout.strip().rsplit(" ", 1)
    facts["started_at"] = json.loads(state[0]).get("StartedAt", "") if len(state) == 2 else ""
    facts["restarts"] = state[1] if len(state) == 2 else ""
    return facts


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sim = Simulator(args.telegram, args.llm, args.user)
        self.code_word = f"CODEWORD-{uuid.uuid4().hex[:12]}"
        self.judge = Judge(secrets_of(args.config), self.code_word)
        self.rows: list[tuple[Probe, dict[str, tuple[str, str]]]] = []
        self.problems: list[str] = []

    def tool_round(self, text: str, calls: list[dict[str, Any]], wait_s: float = 200) -> list[str]:
        """The fake LLM makes `calls` one by one in answer to `text`; their results, in order."""
        http(f"{self.args.llm}/_control/reset", {})
        self.sim.ask(text, calls, wait_s=wait_s)
        last = http(f"{self.args.llm}/_control/requests")[-1]["body"]["messages"]
        return [str(m.get("content")) for m in last if m.get("role") == "tool"][-len(calls) :]

    def other_chat(self, text: str) -> str:
        before = len(http(f"{self.args.telegram}/_control/sent?count=0&chat_id={OTHER_CHAT}&timeout=1"))
        http(f"{self.args.telegram}/_control/updates", {"user_id": self.args.user, "chat_id": OTHER_CHAT, "text": text})
        sent = http(f"{self.args.telegram}/_control/sent?count={before + 1}&chat_id={OTHER_CHAT}&timeout=120")
        return str(sent[-1]["text"])

    def run_probe(self, probe: Probe) -> dict[str, tuple[str, str]]:
        cells: dict[str, tuple[str, str]] = {}
        if probe.command:
            result = self.tool_round(f"injection {probe.name}", [{"name": "exec", "arguments": {"command": probe.command}}])[0]
            cells["exec tool"] = self.persisted(probe) or self.judge.command(probe, result)
        if probe.calls:
            if probe.name.startswith(("hard link", "symlink out")):
                self.tool_round("injection link setup", [{"name": "exec", "arguments": {"command": LINK_SETUP}}])
            cells["file tools"] = self.judge.files(self.tool_round(f"injection files {probe.name}", list(probe.calls)))
        if probe.command and probe.docker_exec:
            cells["docker exec (uid 1001)"] = self.via_docker_exec(probe)
        return cells

    def persisted(self, probe: Probe) -> tuple[str, str] | None:
        if not probe.marker:
            return None
        left = sandbox_processes(self.args.sandbox, probe.marker)
        if left:
            return "ESCAPED", f"still running after the call: {left[:2]}"
        return "BLOCKED", "no process of the call outlived it (swept after the call)"

    def via_docker_exec(self, probe: Probe) -> tuple[str, str]:
        if probe.marker:  # docker exec is not a tool call: its leftovers must go at the next call's sweep
            docker("exec", self.args.sandbox, "sh", "-c", probe.command, timeout=30)
            alive = bool(sandbox_processes(self.args.sandbox, probe.marker))
            self.tool_round("injection sweep", [{"name": "exec", "arguments": {"command": "true"}}])
            left = sandbox_processes(self.args.sandbox, probe.marker)
            if left:
                return "ESCAPED", f"survived the next tool call: {left[:2]}"
            return "BLOCKED", f"{'running' if alive else 'not running'} after docker exec, gone after the next tool call"
        done = docker("exec", self.args.sandbox, "sh", "-c", probe.command, timeout=120)
        return self.judge.command(probe, done.stdout + done.stderr)

    def control(self) -> None:
        """The gateway container reaches --target: the sandbox's failure to is the sandbox's doing."""
        address, port = self.args.target.rsplit(":", 1)
        out = docker("exec", self.args.gateway, "sh", "-c", connect(address, int(port))).stdout
        if "ESCAPED: connected" not in out:
            self.problems.append(f"control failed: the gateway container cannot reach {self.args.target}: {out.strip()}")
        print(f"control: gateway container -> {self.args.target}: {out.strip()}", file=sys.stderr)

    def run(self) -> int:
        address, port = self.args.target.rsplit(":", 1)
        self.control()
        # Not idle: the earlier verify steps made tool calls (tests/image measures the idle sandbox).
        sandbox = process_facts(self.args.sandbox, "--socket")
        print(f"sandbox server VmRSS after earlier calls: {sandbox.get('rss_kb', 0) / 1024:.1f} MB", file=sys.stderr)
        if self.other_chat(f"remember {self.code_word}") != f"echo: remember {self.code_word}":
            self.problems.append("the other chat did not answer before the suite")
        gateway_before = process_facts(self.args.gateway, "gateway")
        for probe in probes((address, int(port))):
            cells = self.run_probe(probe)
            self.rows.append((probe, cells))
            print(f"{probe.name}: " + "; ".join(f"{k}: {v[0]}" for k, v in cells.items()), file=sys.stderr)
        time.sleep(2)  # the sandbox may have restarted after the memory bomb's OOM kill
        self.after(gateway_before)
        sandbox = process_facts(self.args.sandbox, "--socket")
        print(f"sandbox server VmRSS after the suite: {sandbox.get('rss_kb', 0) / 1024:.1f} MB", file=sys.stderr)
        return self.report()

    def after(self, before: dict[str, Any]) -> None:
        now = process_facts(self.args.gateway, "gateway")
        same = all(now.get(k) == before.get(k) for k in ("pid", "start", "started_at", "restarts"))
        grew = now.get("rss_kb", 0) - before.get("rss_kb", 0)
        detail = (f"pid {now.get('pid')} since {now.get('started_at', '')[:19]}, restarts {now.get('restarts')}, "
                  f"VmRSS {before.get('rss_kb', 0) / 1024:.1f} -> {now.get('rss_kb', 0) / 1024:.1f} MB")  # fmt: skip
        ok = same and grew < RSS_SLACK_KB and before.get("rss_kb", 0) > 0
        gateway_row = Probe("gateway unaffected", "the bombs and probes left the gateway alone (same process, RSS)")
        self.rows.append((gateway_row, {"docker exec (uid 1001)": ("BLOCKED" if ok else "ESCAPED", detail)}))
        history = self.other_chat("what did I ask you to remember?")
        requests = http(f"{self.args.llm}/_control/requests")
        carried = json.dumps(requests[-1]["body"]["messages"]) if requests else ""
        intact = self.code_word in carried and "forged" not in carried
        reply = self.sim.ask("still there after the injection suite?")
        answered = reply == "echo: still there after the injection suite?"
        final = Probe("the bot answers normally afterwards", "its chats intact, the other chat's history unforged")
        verdict = "BLOCKED" if intact and answered and history.startswith("echo:") else "ESCAPED"
        self.rows.append((final, {"exec tool": (verdict, f"reply {reply!r}; other chat history intact: {intact}")}))

    def report(self) -> int:
        columns = ["exec tool", "file tools", "docker exec (uid 1001)"]
        lines = ["| # | attempt | goal | " + " | ".join(columns) + " |", "|---|---|---|" + "---|" * len(columns)]
        for index, (probe, cells) in enumerate(self.rows, 1):
            shown = []
            for column in columns:
                verdict = cells.get(column)
                text = "—" if verdict is None else f"**{verdict[0]}** {verdict[1]}"
                shown.append(text.replace("|", "\\|").replace("\n", " ")[:170])
                if verdict is not None and verdict[0] != "BLOCKED":
                    self.problems.append(f"{probe.name} / {column}: {verdict[0]} {verdict[1]}")
            lines.append(f"| {index} | {probe.name} | {probe.goal} | " + " | ".join(shown) + " |")
        table = "\n".join(lines) + "\n"
        if self.args.out:
            self.args.out.parent.mkdir(parents=True, exist_ok=True)
            self.args.out.write_text(table)
        print(table)
        for problem in self.problems:
            print(f"FAILED {problem}", file=sys.stderr)
        blocked = sum(1 for _, cells in self.rows for v in cells.values() if v[0] == "BLOCKED")
        total = sum(len(cells) for _, cells in self.rows)
        print(f"{blocked}/{total} attempts blocked", file=sys.stderr)
        return 1 if self.problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--sandbox", required=True)
    parser.add_argument("--telegram", required=True)
    parser.add_argument("--llm", required=True)
    parser.add_argument("--user", type=int, required=True)
    parser.add_argument("--config", type=Path, required=True, help="the deployed config.json (read for its secrets)")
    parser.add_argument("--target", required=True, help="ADDRESS:PORT the gateway reaches (e.g. its chat platform)")
    parser.add_argument("--out", type=Path)
    sys.exit(Suite(parser.parse_args()).run())


if __name__ == "__main__":
    main()
