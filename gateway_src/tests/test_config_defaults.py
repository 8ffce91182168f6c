"""Runtime defaults have one source: the validator's DEFAULTS, which the dataclasses reuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from picoclaw_gateway.config import AgentConfig, ExecConfig, LLMConfig, from_normalized, load_config
from picoclaw_gateway.config_validator import DEFAULT_SYSTEM_PROMPT, validate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
MINIMAL = {
    "stack": json.loads((EXAMPLES / "telegram-openrouter.json").read_text(encoding="utf-8")),
    "upstream": {
        "agents": {"defaults": {"model": "openai/gpt-4o-mini"}},
        "providers": {"openrouter": {"api_key": "sk-or-v1-" + "0" * 64}},
        "channels": {
            "telegram": {
                "enabled": True,
                "token": "123456789:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789",
                "allow_from": ["123456789"],
            }
        },
    },
}


@pytest.mark.parametrize("dialect", sorted(MINIMAL))
def test_a_config_without_optional_keys_runs_with_the_dataclass_defaults(dialect: str) -> None:
    result = validate(MINIMAL[dialect])
    assert result.valid and result.normalized is not None, [str(e) for e in result.errors]
    config = from_normalized(result.normalized, "/tmp/workspace")
    assert config.agent == AgentConfig()
    assert config.exec == ExecConfig()
    default_llm = LLMConfig("openrouter", "k", "m", "https://example.invalid")
    assert (config.llm.max_tokens, config.llm.temperature, config.llm.timeout_s) == (
        default_llm.max_tokens,
        default_llm.temperature,
        default_llm.timeout_s,
    )


def test_the_effective_defaults_are_the_documented_ones(tmp_path: Path) -> None:
    # gateway_src/docs/configuration.md: 10 tool iterations, 20 messages of history, exec 30 s.
    path = tmp_path / "config.json"
    path.write_text(json.dumps(MINIMAL["stack"]), encoding="utf-8")
    config, warnings = load_config(str(path), tmp_path)
    assert warnings == []
    assert config.agent == AgentConfig(DEFAULT_SYSTEM_PROMPT, 10, 20)
    assert config.exec == ExecConfig(True, 30.0, 10_000)
    assert (config.llm.max_tokens, config.llm.temperature, config.llm.timeout_s) == (4096, None, 120.0)
