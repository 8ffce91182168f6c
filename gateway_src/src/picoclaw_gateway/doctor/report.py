"""What `picoclaw doctor` found: one Check per line, printed as text or JSON, never with a secret."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from picoclaw_gateway.check_config import say
from picoclaw_gateway.logging_setup import SecretMasker

OK, WARN, SKIP, FAIL = "ok", "warn", "skip", "fail"
EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
_SHOWN = {OK: "ok", WARN: "warn", SKIP: "skip", FAIL: "FAIL"}


@dataclass(frozen=True, slots=True)
class Check:
    """One verdict. `name` is the setting it is about, as the config names it (llm.api_key,
    channel.token, $.llm.model for a validator problem); `fix` is empty when nothing is to do."""

    name: str
    status: str
    message: str
    fix: str = ""

    def line(self) -> str:
        text = f"{_SHOWN[self.status]:<4} {self.name}: {self.message}"
        return f"{text} — fix: {self.fix}" if self.fix else text


def exit_code(checks: Sequence[Check]) -> int:
    return EXIT_FAILED if any(c.status == FAIL for c in checks) else EXIT_OK


def summary(checks: Sequence[Check], code: int) -> str:
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    notes = f", {warned} warning{'s' if warned != 1 else ''}" if warned else ""
    if code == EXIT_INVALID:
        errors = f"{failed} error{'s' if failed != 1 else ''}"
        return f"doctor: INVALID config ({errors}{notes}); nothing else checked"
    if failed:
        return f"doctor: FAIL ({failed} of {len(checks)} checks failed{notes})"
    return f"doctor: ok ({len(checks)} checks{notes})"


def emit(checks: Sequence[Check], code: int, *, as_json: bool, masker: SecretMasker) -> None:
    """Print the report on stdout. Everything goes through the masker: a provider or platform
    that echoes a key in an error must not put it on a deploy log."""
    if as_json:
        document = {
            "exit_code": code,
            "summary": summary(checks, code),
            "checks": [
                {
                    "name": masker.mask(c.name),
                    "status": c.status,
                    "message": masker.mask(c.message),
                    "fix": masker.mask(c.fix),
                }
                for c in checks
            ],
        }
        say(sys.stdout, json.dumps(document, ensure_ascii=False))
        return
    for check in checks:
        say(sys.stdout, masker.mask(check.line()))
    say(sys.stdout, masker.mask(summary(checks, code)))
