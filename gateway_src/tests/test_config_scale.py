"""Big configs get the same answers as small ones (validation is linear: bench/config_bench.py
prints the times; here only the results are checked)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from picoclaw_gateway.config_validator import MAX_CONFIG_BYTES, validate_text

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
STACK = json.loads((EXAMPLES / "telegram-openrouter.json").read_text(encoding="utf-8"))
UPSTREAM = json.loads((EXAMPLES / "upstream-picoclaw.json").read_text(encoding="utf-8"))
USERS = 100_000


def with_users(users: list[object]) -> str:
    config = json.loads(json.dumps(STACK))
    config["channel"]["allowed_users"] = users
    text = json.dumps(config)
    assert len(text) <= MAX_CONFIG_BYTES
    return text


def test_100k_allowed_users_are_all_kept_in_order() -> None:
    result = validate_text(with_users(list(range(1, USERS + 1))))
    assert result.valid, [str(e) for e in result.errors[:3]]
    assert result.warnings == []
    assert result.normalized is not None
    assert result.normalized["channels"][0]["allowed_users"] == [str(n) for n in range(1, USERS + 1)]
    assert result.as_dict()["normalized"]["channels"][0]["token"] == "***"


def test_duplicates_among_100k_users_are_reported_at_their_own_index() -> None:
    # The copies sit far from the originals; "00042" is the same id as 42.
    users: list[object] = [*range(1, USERS + 1), 5, "00042", USERS + 1, USERS]
    result = validate_text(with_users(users))
    assert result.valid, [str(e) for e in result.errors[:3]]
    assert [(w.path, w.message) for w in result.warnings] == [
        (f"$.channel.allowed_users[{USERS}]", "user id listed twice"),
        (f"$.channel.allowed_users[{USERS + 1}]", "user id listed twice"),
        (f"$.channel.allowed_users[{USERS + 3}]", "user id listed twice"),
    ]
    assert result.normalized is not None
    assert result.normalized["channels"][0]["allowed_users"][-2:] == [str(USERS), str(USERS + 1)]
    assert len(result.normalized["channels"][0]["allowed_users"]) == USERS + 1


def test_duplicates_among_100k_upstream_allow_from_strings() -> None:
    config = json.loads(json.dumps(UPSTREAM))
    config["channels"]["telegram"]["allow_from"] = [str(n) for n in range(1, USERS + 1)] + ["77"]
    result = validate_text(json.dumps(config))
    assert result.valid, [str(e) for e in result.errors[:3]]
    duplicates = [w.path for w in result.warnings if w.message == "user id listed twice"]
    assert duplicates == [f"$.channels.telegram.allow_from[{USERS}]"]
    assert result.normalized is not None
    assert len(result.normalized["channels"][0]["allowed_users"]) == USERS


def test_duplicate_keys_deep_in_a_big_config_are_named_by_path() -> None:
    pad = json.dumps([{"n": n} for n in range(60_000)])
    text = with_users([1]).replace('"model": ', '"model": "x", "model": ', 1)
    text = text[:-1] + f', "pad": {pad}}}'
    text = text.replace('{"n": 59000}', '{"n": 59000, "n": 1}')
    assert len(text) <= MAX_CONFIG_BYTES
    result = validate_text(text)
    assert sorted(e.path for e in result.errors) == ["$.llm.model", "$.pad[59000].n"]
    assert all("more than once" in e.message for e in result.errors)


def test_a_megabyte_user_id_is_an_error_not_a_crash() -> None:
    digits = "1" * (MAX_CONFIG_BYTES - 1000)
    result = validate_text(with_users([1, digits]))
    assert [(e.path, e.message) for e in result.errors] == [
        ("$.channel.allowed_users[1]", f"a user id has at most 20 digits, this one has {len(digits)}")
    ]


def test_a_megabyte_integer_is_a_parse_error() -> None:
    result = validate_text(with_users([1]).replace("[1]", "[" + "7" * (MAX_CONFIG_BYTES - 1000) + "]"))
    assert [str(e) for e in result.errors] == [
        "$: cannot parse the JSON (ValueError) (fix: check the file; numbers must be short)"
    ]


def test_check_config_with_100k_allowed_users(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(with_users(list(range(1, USERS + 1))), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "picoclaw_gateway", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stderr
    assert f"  channel: telegram ({USERS} allowed user(s))" in proc.stdout.splitlines()
