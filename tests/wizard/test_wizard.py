"""Drive the gateway role's config wizard through a pseudo-terminal (no Docker needed).

Runs `ansible-playbook tests/wizard/wizard.yml` (the gateway role with picoclaw_deploy=false) against
localhost on a temporary stack directory, answers the questions like a user would, and checks the
config.json that lands on disk: valid for the gateway's own validator, mode 0440, group = container gid.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pexpect
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "gateway_src" / "src"))

from picoclaw_gateway.config_validator import validate_file

VENV_BIN = Path(sys.executable).parent
PLAYBOOK = REPO / "tests" / "wizard" / "wizard.yml"
TIMEOUT = 90

# Shaped like real credentials (the validator checks shapes); they are not real.
OPENROUTER_KEY = "sk-or-v1-" + "0123456789abcdef" * 4
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
SLACK_BOT = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef"


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    return tmp_path / "stack"


def _run(stack_dir: Path, *extra: str) -> pexpect.spawn:
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),  # its collections_path finds picoclaw.stack here
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    args = [
        "-i", "localhost,", "-c", "local", str(PLAYBOOK),
        "-e", f"ansible_python_interpreter={sys.executable}",
        "-e", f"picoclaw_stack_dir={stack_dir}",
        "-e", f"picoclaw_config_owner={os.getuid()}",
        "-e", f"picoclaw_uid={os.getuid()}",
        "-e", f"picoclaw_gid={os.getgid()}",
        *extra,
    ]  # fmt: skip
    return pexpect.spawn(
        str(VENV_BIN / "ansible-playbook"),
        args,
        cwd=str(REPO),
        env=env,
        encoding="utf-8",
        timeout=TIMEOUT,
    )


def _answer(child: pexpect.spawn, prompt: str, answer: str) -> None:
    child.expect(prompt)
    child.sendline(answer)


def _finish(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    child.close()
    return child.before or ""


def _check_written(stack_dir: Path) -> dict:
    config = stack_dir / "config" / "config.json"
    mode = stat.S_IMODE(config.stat().st_mode)
    assert mode == 0o440, oct(mode)
    assert config.stat().st_gid == os.getgid()
    result = validate_file(str(config))
    assert result.valid, [str(p) for p in result.errors]
    return json.loads(config.read_text())


def test_wizard_telegram_with_one_bad_answer(stack_dir: Path) -> None:
    child = _run(stack_dir)
    _answer(child, r"LLM provider: 1\) OpenRouter", "1")
    _answer(child, r"Openrouter API key \(input hidden\)", OPENROUTER_KEY)
    _answer(child, r"Model \[openai/gpt-4o-mini\]", "")  # accept the provider's default
    _answer(child, r"Chat channel: 1\) Telegram", "telegram")
    # A token without the "<digits>:" part is refused with the reason, then asked again.
    _answer(child, r"Telegram bot token from @BotFather", "not-a-token")
    child.expect(r"Invalid bot token: .*fix: ")
    _answer(child, r"Telegram bot token from @BotFather", TELEGRAM_TOKEN)
    _answer(child, r"Your Telegram user id", "987654321")
    child.expect(r"Review of config.json")
    review_and_prompt = child.before or ""
    child.expect(r"\(yes/no\)")
    review = review_and_prompt + (child.before or "")
    assert "***" in review
    child.sendline("yes")
    output = _finish(child)
    assert child.exitstatus == 0, output

    config = _check_written(stack_dir)
    assert config["llm"] == {
        "provider": "openrouter",
        "api_key": OPENROUTER_KEY,
        "model": "openai/gpt-4o-mini",
    }
    assert config["channel"] == {
        "type": "telegram",
        "token": TELEGRAM_TOKEN,
        "allowed_users": ["987654321"],
    }
    for secret in (OPENROUTER_KEY, TELEGRAM_TOKEN):
        assert secret not in review
        assert secret not in output


def test_wizard_slack_asks_both_tokens(stack_dir: Path) -> None:
    child = _run(stack_dir)
    _answer(child, r"LLM provider: ", "3")
    _answer(child, r"Openai API key", "sk-" + "A1b2C3d4" * 6)
    _answer(child, r"Model \[gpt-4o-mini\]", "gpt-4o")
    _answer(child, r"Chat channel: ", "3")
    _answer(child, r"Slack bot token \(xoxb-", SLACK_BOT)
    _answer(child, r"Slack app-level token .*xapp-", SLACK_APP)
    _answer(child, r"Your Slack member id", "U0123ABCD")
    _answer(child, r"\(yes/no\)", "y")
    output = _finish(child)
    assert child.exitstatus == 0, output

    config = _check_written(stack_dir)
    assert config["channel"]["app_token"] == SLACK_APP
    assert config["llm"]["model"] == "gpt-4o"
    assert SLACK_APP not in output and SLACK_BOT not in output


def test_wizard_gives_up_after_bounded_retries(stack_dir: Path) -> None:
    child = _run(stack_dir, "-e", "picoclaw_wizard_max_attempts=2")
    _answer(child, r"LLM provider: ", "nonsense")
    child.expect(r"Invalid LLM provider: unknown provider")
    _answer(child, r"LLM provider: ", "still-nonsense")
    output = _finish(child)
    assert child.exitstatus != 0
    assert "Invalid LLM provider after 2 attempts" in output
    assert "$.llm.provider" in output
    assert not (stack_dir / "config" / "config.json").exists()


def test_wizard_not_confirmed_writes_nothing(stack_dir: Path) -> None:
    child = _run(stack_dir)
    _answer(child, r"LLM provider: ", "2")
    _answer(child, r"Anthropic API key", "sk-ant-" + "x1Y2z3W4" * 6)
    _answer(child, r"Model \[", "")
    _answer(child, r"Chat channel: ", "2")
    _answer(
        child,
        r"Discord bot token",
        "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789AB",
    )
    _answer(child, r"Your Discord user id", "123456789012345678")
    _answer(child, r"\(yes/no\)", "no")
    output = _finish(child)
    assert child.exitstatus != 0
    assert "Not confirmed: nothing was written" in output
    assert not (stack_dir / "config" / "config.json").exists()


def test_assume_yes_without_config_lists_the_fields(stack_dir: Path) -> None:
    child = _run(stack_dir, "-e", "picoclaw_assume_yes=true")
    output = _finish(child)
    assert child.exitstatus != 0
    assert "picoclaw_assume_yes=true, so the wizard does not ask" in output
    for field in (
        "llm.provider",
        "llm.api_key",
        "llm.model",
        "channel.type",
        "channel.token",
        "channel.app_token",
        "channel.allowed_users",
    ):
        assert field in output
    assert not (stack_dir / "config").exists()
