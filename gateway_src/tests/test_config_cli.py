"""`python -m picoclaw_gateway check-config FILE` on real and hostile files: exit codes, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
GOOD = json.loads((EXAMPLES / "telegram-openrouter.json").read_text(encoding="utf-8"))


def check_config(path: str | bytes) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "picoclaw_gateway", "check-config", path],
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": ""},
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def write(tmp_path: Path, name: str, data: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def assert_invalid(proc: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert errors, proc.stderr
    assert any(fragment in line for line in errors), proc.stderr
    assert all("(fix: " in line for line in errors)


def test_valid_file_exits_0_with_dialect_and_no_secret(tmp_path: Path) -> None:
    proc = check_config(write(tmp_path, "c.json", json.dumps(GOOD)))
    assert proc.returncode == 0, proc.stderr
    assert "dialect: stack" in proc.stdout
    assert GOOD["llm"]["api_key"] not in proc.stdout + proc.stderr
    assert GOOD["channel"]["token"] not in proc.stdout + proc.stderr


def test_warnings_are_printed_for_valid_file() -> None:
    proc = check_config(str(EXAMPLES / "upstream-picoclaw.json"))
    assert proc.returncode == 0
    assert "dialect: upstream" in proc.stdout
    assert "warning: $.gateway:" in proc.stdout


def test_invalid_file_one_line_per_problem_without_secrets(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(GOOD))
    bad["channel"]["token"] = "123456789:short-secret-part"
    bad["llm"]["provider"] = "groq"
    proc = check_config(write(tmp_path, "c.json", json.dumps(bad)))
    assert_invalid(proc, "$.channel.token: token has 17 characters after ':', needs 30 or more")
    assert_invalid(proc, "$.llm.provider: unknown provider")
    assert "short-secret-part" not in proc.stdout + proc.stderr
    assert "INVALID (2 errors)" in proc.stderr


HOSTILE = [
    ("empty.json", b"", "empty"),
    ("binary.json", bytes(range(256)) * 8, "not valid UTF-8"),
    ("utf16.json", json.dumps(GOOD).encode("utf-16"), "UTF-16"),
    ("huge.json", b"{" + b" " * (2 * 1024 * 1024) + b"}", "limit is 1048576"),
    ("deep.json", b"[" * 100000 + b"]" * 100000, "nested too deeply"),
    ("deep-objects.json", b'{"a":' * 100000 + b"1" + b"}" * 100000, "nested too deeply"),
    ("nan.json", b'{"llm": NaN}', "NaN"),
    ("dupes.json", b'{"llm": {}, "llm": {}}', "$.llm: key appears more than once"),
    ("array.json", b"[1, 2, 3]", "must be a JSON object"),
    ("trailing-comma.json", b'{"llm": {},}', "not valid JSON"),
    ("types.json", json.dumps({"llm": [], "channel": 5, "agent": "x", "tools": None}).encode(), "$.llm"),
]


# explicit ids: the default ones would embed megabytes in PYTEST_CURRENT_TEST (E2BIG on exec)
@pytest.mark.parametrize(("name", "data", "fragment"), HOSTILE, ids=[case[0] for case in HOSTILE])
def test_hostile_files(tmp_path: Path, name: str, data: bytes, fragment: str) -> None:
    assert_invalid(check_config(write(tmp_path, name, data)), fragment)


def test_directory(tmp_path: Path) -> None:
    assert_invalid(check_config(str(tmp_path)), "is a directory")


def test_missing_file(tmp_path: Path) -> None:
    assert_invalid(check_config(str(tmp_path / "nope.json")), "does not exist")


def test_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert_invalid(check_config(str(fifo)), "not a regular file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_permission_denied(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.json", json.dumps(GOOD))
    os.chmod(path, 0)
    assert_invalid(check_config(path), "permission denied")


def test_permission_denied_as_unprivileged_user(tmp_path: Path) -> None:
    """Root ignores file modes: fork, drop to `nobody`, and run check-config's entry point there."""
    if os.geteuid() != 0:
        pytest.skip("covered by test_permission_denied")
    from picoclaw_gateway.check_config import run

    path = write(tmp_path, "secret.json", json.dumps(GOOD))
    os.chmod(path, 0o600)
    os.chmod(tmp_path, 0o755)  # noqa: S103 - nobody must reach the file to be refused by its mode
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 99
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            sys.stderr = os.fdopen(write_end, "w")
            code = run(path)
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        output = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 2, output
    assert "Traceback" not in output
    assert "error: $: permission denied reading" in output
    assert GOOD["llm"]["api_key"] not in output


def test_undecodable_file_name(tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/caf\xe9.json"
    with open(name, "wb") as handle:
        handle.write(b"{")
    proc = check_config(name)
    assert_invalid(proc, "not valid JSON")
    assert "caf\\" in proc.stderr
