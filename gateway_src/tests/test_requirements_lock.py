"""requirements.lock agrees with the pins of pyproject.toml, and the check catches a drift."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

GATEWAY_SRC = Path(__file__).resolve().parents[1]
TOOL = GATEWAY_SRC / "tools" / "requirements_lock.py"


def run_check(lock: Path, pyproject: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(TOOL), "check", str(lock), str(pyproject)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_committed_lock_agrees_with_pyproject():
    result = run_check(GATEWAY_SRC / "requirements.lock", GATEWAY_SRC / "pyproject.toml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: requirements.lock agrees")


def test_a_pin_changed_only_in_pyproject_fails_naming_both_versions(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    text = (GATEWAY_SRC / "pyproject.toml").read_text()
    pyproject.write_text(text.replace("aiogram==3.28.2", "aiogram==3.28.3"))

    result = run_check(GATEWAY_SRC / "requirements.lock", pyproject)

    assert result.returncode == 1
    assert "pins aiogram==3.28.3 but requirements.lock has aiogram==3.28.2" in result.stderr
    assert "fix: run gateway_src/tools/lock-requirements.sh" in result.stderr


def test_an_entry_without_hash_or_a_missing_pin_fails(tmp_path):
    lock = tmp_path / "requirements.lock"
    text = (GATEWAY_SRC / "requirements.lock").read_text()
    # Drop slack_sdk's entry (pinned in pyproject) and append an unhashed one.
    start = text.index("# slack_sdk-")
    end = text.index("\n", text.index("--hash", start)) + 1
    lock.write_text(text[:start] + text[end:] + "extra-project==1.0\n")
    shutil.copy(GATEWAY_SRC / "pyproject.toml", tmp_path / "pyproject.toml")

    result = run_check(lock, tmp_path / "pyproject.toml")

    assert result.returncode == 1
    assert "extra-project has no --hash" in result.stderr
    assert "pins slack-sdk==3.47.0 but requirements.lock has no slack-sdk" in result.stderr
