"""Drive the gateway role's config wizard through a pseudo-terminal (no Docker needed).

Runs `ansible-playbook tests/wizard/wizard.yml` (the gateway role with picoclaw_deploy=false) against
localhost on a temporary stack directory, answers the questions like a user would, and checks the
config.json that lands on disk: valid for the gateway's own validator, mode 0440, group = container gid.
The wizard's checks of the answers talk to the gateway's protocol fakes on 127.0.0.1 (fakes.py), set
through picoclaw_wizard_extra_config; nothing leaves the machine.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "gateway_src" / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from wizard_fakes import ANTHROPIC_KEY, DISCORD_TOKEN, OPENAI_KEY, OPENROUTER_KEY, SLACK_APP, SLACK_BOT, TELEGRAM_TOKEN, Fakes
from picoclaw_gateway.config_validator import validate_file

VENV_BIN = Path(sys.executable).parent
PLAYBOOK = REPO / "tests" / "wizard" / "wizard.yml"
TIMEOUT = 90
# The lowest ansible-core meta/runtime.yml allows (requires_ansible ">=2.16.0"), in its own venv.
LOWEST_CORE = "2.16.0"
LOWEST_VENV = REPO / ".cache" / f"ansible-core-{LOWEST_CORE}"

NO_TERMINAL = "No terminal to ask the questions on"
# Well-formed (the validator accepts them) but refused by the fakes.
WRONG_OPENROUTER_KEY = "sk-or-v1-" + "fedcba9876543210" * 4
WRONG_TELEGRAM_TOKEN = "654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsZZZ"


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    return tmp_path / "stack"


@pytest.fixture(scope="session")
def fakes() -> Iterator[Fakes]:
    running = Fakes().start()
    yield running
    running.close()


@pytest.fixture(autouse=True)
def no_chat_request(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test does, the wizard's checks never make a chat request: no LLM token is spent."""
    yield
    if "fakes" in request.fixturenames:
        assert request.getfixturevalue("fakes").llm_counts("chat") == 0


@pytest.fixture(scope="session")
def lowest_core_bin() -> Path:
    """bin/ of a venv with ansible-core LOWEST_CORE from PyPI (created once, then reused)."""
    bin_dir = LOWEST_VENV / "bin"
    stamp = LOWEST_VENV / ".installed"
    if not stamp.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(LOWEST_VENV)], check=True)
        pip = [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, f"ansible-core=={LOWEST_CORE}"], check=True)
        stamp.write_text(LOWEST_CORE + "\n")
    version = subprocess.run(
        [str(bin_dir / "ansible-playbook"), "--version"], check=True, capture_output=True, text=True
    ).stdout
    assert f"[core {LOWEST_CORE}]" in version, version
    return bin_dir


@pytest.fixture(params=["current", "lowest"])
def core_bin(request: pytest.FixtureRequest) -> Path:
    """The pinned ansible-core of .venv, and the lowest one requires_ansible allows."""
    if request.param == "lowest":
        return request.getfixturevalue("lowest_core_bin")
    return VENV_BIN


def _command(stack_dir: Path, bin_dir: Path, *extra: str) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),  # its collections_path finds picoclaw.stack here
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
    )
    args = [
        str(bin_dir / "ansible-playbook"),
        "-i", "localhost,", "-c", "local", str(PLAYBOOK),
        "-e", f"ansible_python_interpreter={sys.executable}",
        "-e", f"picoclaw_stack_dir={stack_dir}",
        "-e", f"picoclaw_config_owner={os.getuid()}",
        "-e", f"picoclaw_uid={os.getuid()}",
        "-e", f"picoclaw_gid={os.getgid()}",
        *extra,
    ]  # fmt: skip
    return args, env


def _run(stack_dir: Path, *extra: str, bin_dir: Path = VENV_BIN) -> pexpect.spawn:
    args, env = _command(stack_dir, bin_dir, *extra)
    return pexpect.spawn(args[0], args[1:], cwd=str(REPO), env=env, encoding="utf-8", timeout=TIMEOUT)


def _answer(child: pexpect.spawn, prompt: str, answer: str) -> None:
    child.expect(prompt)
    child.sendline(answer)


def _answer_openrouter_telegram(child: pexpect.spawn, key: str, model: str, token: str) -> None:
    """Enter at the provider and the channel (OpenRouter, Telegram), then these answers."""
    _answer(child, r"LLM provider: ", "")
    _answer(child, r"OpenRouter API key \(hidden\): ", key)
    _answer(child, r"Model \[openai/gpt-4\.1-mini\]: ", model)
    _answer(child, r"Chat channel: ", "")
    _answer(child, r"Telegram bot token \(hidden\): ", token)
    _answer(child, r"Your Telegram user id", "987654321")


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


def _transcript(child: pexpect.spawn) -> io.StringIO:
    """Everything the terminal shows from now on (what the user sees, echo included)."""
    seen = io.StringIO()
    child.logfile_read = seen
    return seen


def test_wizard_enter_takes_the_defaults_with_hints(stack_dir: Path, core_bin: Path, fakes: Fakes) -> None:
    """Enter at every question with a suggestion, one bad answer, the services' checks pass, Enter at
    the review = yes; on the pinned ansible-core and on the lowest one requires_ansible allows."""
    models_before = fakes.llm_counts("models")
    child = _run(stack_dir, "-e", fakes.extra_config("openrouter", "telegram"), bin_dir=core_bin)
    seen = _transcript(child)
    _answer(child, r"LLM provider: 1\) OpenRouter  2\) Anthropic  3\) OpenAI \[1\]: ", "")
    child.expect(r"https://openrouter\.ai/settings/keys")
    _answer(child, r"OpenRouter API key \(hidden\): ", OPENROUTER_KEY)
    _answer(child, r"Model \[openai/gpt-4\.1-mini\]: ", "")  # accept the provider's default
    _answer(child, r"Chat channel: 1\) Telegram  2\) Discord  3\) Slack \[1\]: ", "")
    child.expect(r"@BotFather, send /newbot")
    # A token without the "<digits>:" part is refused with the reason, then asked again.
    _answer(child, r"Telegram bot token \(hidden\): ", "not-a-token")
    child.expect(r"Invalid bot token: .*fix: ")
    _answer(child, r"Telegram bot token \(hidden\): ", TELEGRAM_TOKEN)
    _answer(child, r"Your Telegram user id", "987654321")
    child.expect(r"Checking the answers with openrouter and telegram \(no tokens spent\)")
    child.expect(r"ok   llm\.api_key: the LLM server at http://127\.0\.0\.1:\d+/api/v1 accepted the API key")
    child.expect(r"ok   llm\.model: .* offers openai/gpt-4\.1-mini")
    child.expect(r"ok   channel\.token: telegram accepted the bot token \(bot @")
    child.expect(r"Review of config.json")
    _answer(child, r"config\.json\? \[Y/n\]: ", "")  # Enter = yes, like the old installer
    output = _finish(child)
    shown = seen.getvalue()
    assert child.exitstatus == 0, shown

    config = _check_written(stack_dir)
    assert config["llm"] == {
        "provider": "openrouter",
        "api_key": OPENROUTER_KEY,
        "model": "openai/gpt-4.1-mini",
        "api_base": f"{fakes.openrouter.base_url}/api/v1",
    }
    assert config["channel"] == {
        "type": "telegram",
        "token": TELEGRAM_TOKEN,
        "allowed_users": ["987654321"],
        "api_base": fakes.telegram.base_url,
    }
    assert fakes.llm_counts("models") > models_before  # the model was looked up in the list
    review = shown[shown.index("Review of config.json") :]
    assert "API key:       ***" in review and "bot token:     ***" in review
    # ansible-core 2.16 once showed VALUE_SPECIFIED_IN_NO_LOG_PARAMETER for every field here.
    assert "provider:      openrouter" in review and "model:         openai/gpt-4.1-mini" in review
    assert "allowed users: 987654321" in review and "VALUE_SPECIFIED" not in shown
    for secret in (OPENROUTER_KEY, TELEGRAM_TOKEN, "not-a-token"):
        assert secret not in shown  # never echoed while typed, never in the review or the task output
    # One task asks everything: no task banner between the questions, no pause-module decorations.
    questions = shown[shown.index("LLM provider") : shown.index("Review of config.json")]
    assert "TASK [" not in questions
    assert "output is hidden" not in shown and "input hidden" not in shown
    assert output.count("TASK [") < 20, output


def test_wizard_slack_asks_both_tokens(stack_dir: Path, fakes: Fakes) -> None:
    child = _run(stack_dir, "-e", fakes.extra_config("openai", "slack"))
    seen = _transcript(child)
    _answer(child, r"LLM provider: ", "3")
    child.expect(r"https://platform\.openai\.com/api-keys")
    _answer(child, r"OpenAI API key", OPENAI_KEY)
    _answer(child, r"Model \[gpt-4\.1-mini\]", "gpt-4o")
    _answer(child, r"Chat channel: ", "3")
    child.expect(r"Socket Mode: enable it; this creates the app-level token \(xapp-")
    _answer(child, r"Slack bot token \(xoxb-", SLACK_BOT)
    _answer(child, r"Slack app-level token .*xapp-", SLACK_APP)
    _answer(child, r"Your Slack member id", "U0123ABCD")
    child.expect(r"ok   llm\.model: .* offers gpt-4o")
    child.expect(r"ok   channel\.token: slack accepted the bot token")
    child.expect(r"skip channel\.app_token: shape checked only")
    child.expect(r"app token:     \*\*\*")
    _answer(child, r"\[Y/n\]", "y")
    _finish(child)
    shown = seen.getvalue()
    assert child.exitstatus == 0, shown

    config = _check_written(stack_dir)
    assert config["channel"]["app_token"] == SLACK_APP
    assert config["llm"]["model"] == "gpt-4o"
    assert SLACK_APP not in shown and SLACK_BOT not in shown


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


def test_wizard_not_confirmed_writes_nothing(stack_dir: Path, fakes: Fakes) -> None:
    child = _run(stack_dir, "-e", fakes.extra_config("anthropic", "discord"))
    _answer(child, r"LLM provider: ", "2")
    child.expect(r"https://console\.anthropic\.com/settings/keys")
    _answer(child, r"Anthropic API key", ANTHROPIC_KEY)
    _answer(child, r"Model \[claude-haiku-4-5\]", "")
    _answer(child, r"Chat channel: ", "2")
    child.expect(r"MESSAGE CONTENT INTENT")
    _answer(child, r"Discord bot token", DISCORD_TOKEN)
    _answer(child, r"Your Discord user id", "123456789012345678")
    child.expect(r"ok   llm\.api_key: .* accepted the API key")
    child.expect(r"ok   llm\.model: .* offers claude-haiku-4-5")
    child.expect(r"ok   channel\.token: discord accepted the bot token")
    _answer(child, r"\[Y/n\]", "no")
    output = _finish(child)
    assert child.exitstatus != 0
    assert "Not confirmed: nothing was written" in output
    assert not (stack_dir / "config" / "config.json").exists()


def test_no_terminal_says_so_and_points_to_unattended_mode(stack_dir: Path, core_bin: Path) -> None:
    """No controlling terminal (own session, stdin not a tty): one clear message, no retries."""
    args, env = _command(stack_dir, core_bin)
    run = subprocess.run(
        args, cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        start_new_session=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert NO_TERMINAL in output
    assert "picoclaw_config" in output and "-e picoclaw_assume_yes=true" in output
    assert "attempts" not in output
    assert not (stack_dir / "config").exists()


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


def test_wizard_doctor_asks_again_only_what_the_services_refuse(stack_dir: Path, fakes: Fakes) -> None:
    """A key the provider refuses (401), a model it does not offer and a token Telegram refuses: one
    line per check with the fix, only those answers asked again, the others kept; no chat request."""
    key_checks_before = fakes.openrouter.script.counts["key"]
    child = _run(stack_dir, "-e", fakes.extra_config("openrouter", "telegram"))
    seen = _transcript(child)
    _answer_openrouter_telegram(child, WRONG_OPENROUTER_KEY, "openai/gpt-4.1-minii", WRONG_TELEGRAM_TOKEN)
    # Round 1: the key and the token are refused; the model cannot be looked up without a key.
    child.expect(
        r"FAIL llm\.api_key: the LLM server at http://127\.0\.0\.1:\d+/api/v1 rejected the API key \(HTTP 401\)"
        r" — fix: enter a key this server accepts"
    )
    child.expect(r"skip llm\.model: not checked: the API key was rejected")
    child.expect(r"FAIL channel\.token: telegram rejected the bot token \(HTTP 401 Unauthorized\) — fix: enter the token @BotFather")
    child.expect(r"Enter the refused answers again \(the others are kept\)")
    _answer(child, r"OpenRouter API key \(hidden\): ", OPENROUTER_KEY)
    _answer(child, r"Telegram bot token \(hidden\): ", TELEGRAM_TOKEN)
    # Round 2: the key passes, so the model is looked up: unknown, with the closest ids as the fix.
    child.expect(r"ok   llm\.api_key: ")
    child.expect(r"FAIL llm\.model: .* does not offer the model 'openai/gpt-4\.1-minii' — fix: enter a model id it offers \(closest: openai/gpt-4\.1-mini")
    child.expect(r"ok   channel\.token: telegram accepted")
    _answer(child, r"Model \[openai/gpt-4\.1-mini\]: ", "")
    # Round 3: everything passes; the answers that were never refused were not asked again.
    child.expect(r"ok   llm\.model: .* offers openai/gpt-4\.1-mini")
    child.expect(r"Review of config.json")
    _answer(child, r"\[Y/n\]: ", "")
    _finish(child)
    shown = seen.getvalue()
    assert child.exitstatus == 0, shown

    config = _check_written(stack_dir)
    assert config["llm"]["api_key"] == OPENROUTER_KEY and config["llm"]["model"] == "openai/gpt-4.1-mini"
    assert config["channel"]["token"] == TELEGRAM_TOKEN and config["channel"]["allowed_users"] == ["987654321"]
    assert shown.count("LLM provider: ") == 1 and shown.count("Your Telegram user id") == 1
    assert fakes.openrouter.script.counts["key"] >= key_checks_before + 3
    for secret in (OPENROUTER_KEY, WRONG_OPENROUTER_KEY, TELEGRAM_TOKEN, WRONG_TELEGRAM_TOKEN):
        assert secret not in shown
    assert "Traceback" not in shown


def test_wizard_stops_when_the_services_keep_refusing(stack_dir: Path, fakes: Fakes) -> None:
    """Bounded: after picoclaw_wizard_max_attempts rounds of checks the wizard stops and writes nothing."""
    child = _run(stack_dir, "-e", fakes.extra_config("openrouter", "telegram"), "-e", "picoclaw_wizard_max_attempts=1")
    _answer_openrouter_telegram(child, WRONG_OPENROUTER_KEY, "", TELEGRAM_TOKEN)
    output = _finish(child)
    assert child.exitstatus != 0
    assert "Still refused after 1 round of checks: FAIL llm.api_key:" in output
    assert "Nothing was written" in output and WRONG_OPENROUTER_KEY not in output
    assert not (stack_dir / "config" / "config.json").exists()


def test_wizard_without_doctor_does_not_ask_the_services(stack_dir: Path, fakes: Fakes) -> None:
    """picoclaw_doctor=false: no request to any service; the answers are only validated."""
    before = fakes.llm_counts("models") + fakes.llm_counts("key")
    child = _run(stack_dir, "-e", fakes.extra_config("openrouter", "telegram"), "-e", "picoclaw_doctor=false")
    _answer_openrouter_telegram(child, WRONG_OPENROUTER_KEY, "", TELEGRAM_TOKEN)
    _answer(child, r"\[Y/n\]: ", "y")
    output = _finish(child)
    assert child.exitstatus == 0, output
    assert "Checking the answers" not in output
    assert fakes.llm_counts("models") + fakes.llm_counts("key") == before
    assert _check_written(stack_dir)["llm"]["api_key"] == WRONG_OPENROUTER_KEY
