# -*- coding: utf-8 -*-
# Copyright (c) 2026, PicoClaw maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import stat

import pytest

from ansible_collections.picoclaw.stack.plugins.modules import picoclaw_config

API_KEY = "sk-or-v1-" + "0123456789abcdef" * 4
BOT_TOKEN = "123456789:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"
OTHER_KEY = "sk-or-v1-" + "fedcba9876543210" * 4


def config(api_key=API_KEY, users=(123456789,)):
    return {
        "llm": {"provider": "openrouter", "api_key": api_key, "model": "openai/gpt-4o-mini"},
        "channel": {"type": "telegram", "token": BOT_TOKEN, "allowed_users": list(users)},
    }


def text(data):
    return json.dumps(data, indent=2) + "\n"


INVALID = text({"llm": {"provider": "openrouter"}, "channel": {"type": "telegram", "allowed_users": ["bob"]}})


def assert_no_secrets(run):
    for secret in (API_KEY, BOT_TOKEN, OTHER_KEY):
        assert secret not in run.stdout


def test_valid_file_is_reported_with_redacted_normalized_config(tmp_path, run_module):
    path = tmp_path / "config.json"
    path.write_text(text(config()))

    run = run_module(picoclaw_config, {"path": str(path)})

    assert run.rc == 0
    assert run.result["changed"] is False
    assert run.result["valid"] is True
    assert run.result["dialect"] == "stack"
    assert run.result["errors"] == []
    normalized = run.result["normalized"]
    assert normalized["llm"]["api_key"] == "***"
    assert normalized["llm"]["model"] == "openai/gpt-4o-mini"
    assert normalized["channels"][0]["token"] == "***"
    assert normalized["channels"][0]["allowed_users"] == ["123456789"]
    assert_no_secrets(run)


def test_invalid_content_fails_listing_every_error_with_its_path(run_module):
    run = run_module(picoclaw_config, {"content": INVALID})

    assert run.rc == 1
    assert run.failed
    lines = run.result["msg"].splitlines()
    assert lines[0] == "config is invalid (%d errors):" % len(run.result["errors"])
    assert len(run.result["errors"]) >= 3
    paths = [error["path"] for error in run.result["errors"]]
    assert "$.llm.model" in paths
    assert "$.llm.api_key" in paths
    assert "$.channel.allowed_users[0]" in paths
    # One line per error, each naming its path and its fix.
    assert len(lines) == len(run.result["errors"]) + 1
    for error, line in zip(run.result["errors"], lines[1:]):
        assert set(error) == {"path", "message", "fix"}
        assert line == "%s: %s (fix: %s)" % (error["path"], error["message"], error["fix"])
    assert run.result["valid"] is False
    assert run.result["normalized"] is None


def test_invalid_without_fail_on_invalid_reports_and_does_not_write(tmp_path, run_module):
    dest = tmp_path / "config.json"

    run = run_module(picoclaw_config, {"content": INVALID, "fail_on_invalid": False, "dest": str(dest)})

    assert run.rc == 0
    assert run.result["changed"] is False
    assert run.result["valid"] is False
    assert "$.channel.allowed_users[0]" in [error["path"] for error in run.result["errors"]]
    assert not dest.exists()
    assert "was not written" in json.dumps(run.result["warnings"])


def test_missing_file_is_an_error_not_a_traceback(tmp_path, run_module):
    run = run_module(picoclaw_config, {"path": str(tmp_path / "nope.json")})

    assert run.rc == 1
    assert run.result["errors"][0]["path"] == "$"
    assert "does not exist" in run.result["msg"]


def test_dict_content_is_validated_and_written_as_json(tmp_path, run_module):
    dest = tmp_path / "config.json"

    run = run_module(picoclaw_config, {"content": config(), "dest": str(dest)})

    assert run.rc == 0
    assert run.result["changed"] is True
    assert json.loads(dest.read_text()) == config()
    assert_no_secrets(run)


def test_path_and_content_are_mutually_exclusive(tmp_path, run_module):
    run = run_module(picoclaw_config, {"content": text(config()), "path": str(tmp_path / "c.json")})

    assert run.rc == 1
    assert "mutually exclusive" in run.result["msg"]


def test_dest_is_written_atomically_with_mode_then_idempotent(tmp_path, run_module):
    dest = tmp_path / "config.json"
    dest.write_text(text(config(api_key=OTHER_KEY)))
    os.chmod(str(dest), 0o644)
    old_inode = dest.stat().st_ino
    reader = open(str(dest))  # a reader holding the old file keeps seeing it whole
    try:
        run = run_module(picoclaw_config, {"content": text(config()), "dest": str(dest), "mode": "0640"})
        assert reader.read() == text(config(api_key=OTHER_KEY))
    finally:
        reader.close()

    assert run.rc == 0
    assert run.result["changed"] is True
    assert dest.read_text() == text(config())
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640
    assert dest.stat().st_ino != old_inode  # replaced by rename, not rewritten in place
    assert sorted(os.listdir(str(tmp_path))) == ["config.json"]  # no temp file left behind

    again = run_module(picoclaw_config, {"content": text(config()), "dest": str(dest), "mode": "0640"})
    assert again.result["changed"] is False


def test_new_dest_defaults_to_private_mode(tmp_path, run_module):
    dest = tmp_path / "config.json"

    run = run_module(picoclaw_config, {"content": text(config()), "dest": str(dest)})

    assert run.result["changed"] is True
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600


def test_path_copied_to_dest_byte_for_byte(tmp_path, run_module):
    source = tmp_path / "rendered.json"
    source.write_bytes(b'{"llm": {"provider": "openrouter", "api_key": "%s", "model": "x/y"},\n'
                       b' "channel": {"type": "telegram", "token": "%s", "allowed_users": [1]}}'
                       % (API_KEY.encode(), BOT_TOKEN.encode()))
    dest = tmp_path / "config.json"

    run = run_module(picoclaw_config, {"path": str(source), "dest": str(dest)})

    assert run.result["changed"] is True
    assert dest.read_bytes() == source.read_bytes()


def test_check_mode_reports_change_and_writes_nothing(tmp_path, run_module):
    dest = tmp_path / "config.json"
    run = run_module(picoclaw_config, {"content": text(config()), "dest": str(dest), "mode": "0600"},
                     check_mode=True)
    assert run.result["changed"] is True
    assert not dest.exists()

    dest.write_text(text(config()))
    os.chmod(str(dest), 0o644)
    run = run_module(picoclaw_config, {"content": text(config()), "dest": str(dest), "mode": "0600"},
                     check_mode=True)
    assert run.result["changed"] is True  # mode would change
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644
    assert os.listdir(str(tmp_path)) == ["config.json"]


def test_diff_shows_redacted_configs_only(tmp_path, run_module):
    dest = tmp_path / "config.json"
    dest.write_text(text(config(api_key=OTHER_KEY, users=(111,))))

    run = run_module(picoclaw_config, {"content": text(config(users=(222,))), "dest": str(dest)},
                     diff=True, check_mode=True)

    assert run.result["changed"] is True
    content_diff = run.result["diff"][0]
    before = json.loads(content_diff["before"])
    after = json.loads(content_diff["after"])
    assert before["channels"][0]["allowed_users"] == ["111"]
    assert after["channels"][0]["allowed_users"] == ["222"]
    assert before["llm"]["api_key"] == after["llm"]["api_key"] == "***"
    assert_no_secrets(run)


def test_diff_hides_an_existing_file_that_is_not_a_valid_config(tmp_path, run_module):
    dest = tmp_path / "config.json"
    dest.write_text('{"llm": {"api_key": "%s"' % OTHER_KEY)  # truncated JSON holding a secret

    run = run_module(picoclaw_config, {"content": text(config()), "dest": str(dest)}, diff=True)

    assert run.result["changed"] is True
    assert "not shown" in run.result["diff"][0]["before"]
    assert dest.read_text() == text(config())
    assert_no_secrets(run)


def test_numeric_owner_group_and_read_only_mode_like_the_role_uses(tmp_path, run_module):
    if os.geteuid() != 0:
        pytest.skip("needs root to chown")
    dest = tmp_path / "config.json"
    args = {"content": text(config()), "dest": str(dest), "owner": "1000", "group": "1000", "mode": "0440"}

    run = run_module(picoclaw_config, args)

    assert run.result["changed"] is True
    info = dest.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1000, 1000, 0o440)
    assert run_module(picoclaw_config, args).result["changed"] is False


def test_secrets_of_an_invalid_config_stay_out_of_the_failure(run_module):
    data = config()
    data["llm"]["provider"] = "openrouterr"  # typo: invalid, but the key and token are real-looking

    run = run_module(picoclaw_config, {"content": text(data)})

    assert run.rc == 1
    assert "$.llm.provider" in run.result["msg"]
    assert_no_secrets(run)


def test_dict_content_masks_only_its_secrets(tmp_path, run_module):
    # A dict option that is no_log would have every leaf masked, provider and model included.
    run = run_module(picoclaw_config, {"content": config(), "dest": str(tmp_path / "config.json")}, diff=True)

    assert run.rc == 0
    assert run.result["normalized"]["llm"]["provider"] == "openrouter"
    assert run.result["normalized"]["llm"]["model"] == "openai/gpt-4o-mini"
    assert run.result["normalized"]["channels"][0]["allowed_users"] == ["123456789"]
    shown = run.result["invocation"]["module_args"]["content"]
    assert shown["llm"]["model"] == "openai/gpt-4o-mini"
    assert shown["llm"]["api_key"] != API_KEY
    assert "openai/gpt-4o-mini" in run.result["diff"][0]["after"]
    assert_no_secrets(run)


def test_invalid_dict_content_names_the_bad_value_and_hides_the_secrets(run_module):
    data = config()
    data["llm"]["provider"] = "openrouterr"

    run = run_module(picoclaw_config, {"content": data})

    assert run.rc == 1
    assert 'unknown provider "openrouterr"' in run.result["msg"]
    assert run.result["invocation"]["module_args"]["content"]["llm"]["model"] == "openai/gpt-4o-mini"
    assert_no_secrets(run)


def test_unknown_keys_of_a_dict_content_stay_masked(run_module):
    data = config()
    data["llm"]["api_kye"] = OTHER_KEY  # a misspelt key: the validator cannot tell it is harmless

    run = run_module(picoclaw_config, {"content": data, "fail_on_invalid": False})

    assert OTHER_KEY not in run.stdout
    assert_no_secrets(run)


def test_unreadable_dest_fails_with_a_fix_not_a_traceback(tmp_path, run_module):
    dest = tmp_path / "config.json"
    os.symlink(str(dest), str(dest))  # a symlink loop: open() fails with ELOOP, not "no such file"

    run = run_module(picoclaw_config, {"content": text(config()), "dest": str(dest)})

    assert run.rc == 1
    assert run.result["msg"].startswith("cannot read the existing dest %s: " % dest)
    assert "— fix: " in run.result["msg"]
    assert "Traceback" not in run.stdout
    assert_no_secrets(run)


def test_check_mode_without_the_directory_predicts_a_new_file_with_its_redacted_diff(tmp_path, run_module):
    dest = tmp_path / "config" / "config.json"

    run = run_module(picoclaw_config, {"content": text(config()), "dest": str(dest), "mode": "0440"},
                     check_mode=True, diff=True)

    assert run.rc == 0
    assert run.result["changed"] is True
    diff = run.result["diff"][0]
    assert diff["before"] == ""
    assert json.loads(diff["after"])["llm"]["model"] == "openai/gpt-4o-mini"
    assert not (tmp_path / "config").exists()
    assert_no_secrets(run)


def test_model_change_shows_in_the_redacted_diff(tmp_path, run_module):
    dest = tmp_path / "config.json"
    dest.write_text(text(config()))
    changed = config()
    changed["llm"]["model"] = "anthropic/claude-sonnet-4"

    run = run_module(picoclaw_config, {"content": text(changed), "dest": str(dest)}, check_mode=True, diff=True)

    diff = run.result["diff"][0]
    assert json.loads(diff["before"])["llm"]["model"] == "openai/gpt-4o-mini"
    assert json.loads(diff["after"])["llm"]["model"] == "anthropic/claude-sonnet-4"
    assert dest.read_text() == text(config())
    assert_no_secrets(run)


def test_checksum_is_the_content_to_be_written_also_in_check_mode(tmp_path, run_module):
    """The role labels the container with it: check mode must predict the new digest, not the old file's."""
    dest = tmp_path / "config.json"
    dest.write_text(text(config()))
    changed = config()
    changed["llm"]["model"] = "anthropic/claude-sonnet-4"

    preview = run_module(picoclaw_config, {"content": text(changed), "dest": str(dest)}, check_mode=True)
    assert dest.read_text() == text(config())
    run = run_module(picoclaw_config, {"content": text(changed), "dest": str(dest)})
    assert preview.result["checksum"] == run.result["checksum"] == hashlib.sha256(dest.read_bytes()).hexdigest()
