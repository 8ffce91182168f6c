"""`picoclaw check-config PATH`: validate a config file and explain every problem.

Exit 0 when valid (prints the dialect, a secret-free summary and any warnings),
exit 2 when invalid (one line per problem on stderr: JSON path, what is wrong,
how to fix it). Never prints a traceback, whatever the file holds.
"""

from __future__ import annotations

import sys
from typing import TextIO

from picoclaw_gateway.config_validator import ValidationResult, redact, validate_file

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INVALID = 2


def say(stream: TextIO, line: str) -> None:
    # Paths may hold undecodable bytes and the terminal may not be UTF-8: never crash on output.
    try:
        stream.write(line + "\n")
    except UnicodeEncodeError:
        stream.write(line.encode("ascii", "backslashreplace").decode("ascii") + "\n")


def summary(result: ValidationResult) -> list[str]:
    """Human summary of a valid config: what will run, without any secret."""
    normalized = redact(result.normalized or {})  # api_base may carry user:password@
    llm = normalized.get("llm", {})
    lines = [f"  llm: {llm.get('provider')} model {llm.get('model')} at {llm.get('api_base')}"]
    for channel in normalized.get("channels", []):
        users = channel["allowed_users"]
        who = f"{len(users)} allowed user(s)" if users else "open to everyone"
        lines.append(f"  channel: {channel['type']} ({who})")
    exec_tool = normalized.get("tools", {}).get("exec", {})
    lines.append(f"  exec tool: {'enabled' if exec_tool.get('enabled') else 'disabled'}")
    web = normalized.get("tools", {}).get("web", {})
    fetch = "enabled" if web.get("fetch", {}).get("enabled") else "disabled"
    search = web.get("search", {}).get("provider") or "not configured"
    lines.append(
        f"  web tools: web_fetch {fetch}, web_search {search}, allow-list {web.get('allow') or 'empty'}"
    )
    api = normalized.get("api", {})
    if api.get("enabled"):
        lines.append(f"  automation API: http://{api.get('listen')}:{api.get('port')}/v1")
    return lines


def run(path: str) -> int:
    """Validate the file at `path`; print the verdict; return the exit code."""
    try:
        result = validate_file(path)
        shown = path.encode("ascii", "backslashreplace").decode("ascii")
        if not result.valid:
            for problem in result.errors:
                say(sys.stderr, f"error: {problem}")
            for problem in result.warnings:
                say(sys.stderr, f"warning: {problem}")
            count = len(result.errors)
            say(sys.stderr, f"{shown}: INVALID ({count} error{'s' if count != 1 else ''})")
            return EXIT_INVALID
        say(sys.stdout, f"{shown}: OK (dialect: {result.dialect})")
        for line in summary(result):
            say(sys.stdout, line)
        for problem in result.warnings:
            say(sys.stdout, f"warning: {problem}")
        return EXIT_OK
    except Exception as exc:  # last resort: a bug here must still not dump a traceback or a secret
        say(sys.stderr, f"check-config: internal error ({type(exc).__name__}); please report it")
        return EXIT_INTERNAL
