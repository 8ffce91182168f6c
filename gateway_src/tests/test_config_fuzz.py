"""Property tests: whatever the input, the validator answers with problems, never an exception."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from picoclaw_gateway.config_validator import (
    AGENT_KEYS,
    CHANNEL_KEYS,
    CHANNEL_TYPES,
    EXEC_KEYS,
    LLM_KEYS,
    PROVIDERS,
    ValidationResult,
    redact,
    validate,
    validate_text,
)

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.json"))
BASES = [json.loads(path.read_text(encoding="utf-8")) for path in EXAMPLES]
SECRET_KEYS = {"api_key", "token", "bot_token", "app_token", "proxy"}
VOCABULARY = sorted(
    set(LLM_KEYS + CHANNEL_KEYS + AGENT_KEYS + EXEC_KEYS + PROVIDERS + CHANNEL_TYPES)
    | {
        "llm",
        "channel",
        "channels",
        "agent",
        "tools",
        "exec",
        "agents",
        "defaults",
        "providers",
        "enabled",
        "allow_from",
        "model_list",
        "gateway",
        "base_url",
    }
)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(VOCABULARY)
)
keys = st.sampled_from(VOCABULARY) | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=6),
    max_leaves=40,
)


def check_result(result: ValidationResult) -> None:
    assert isinstance(result, ValidationResult)
    assert result.valid == (not result.errors)
    assert (result.normalized is not None) == result.valid
    for problem in result.errors + result.warnings:
        assert "internal validator error" not in problem.message  # the safety net must never fire
        assert problem.path.startswith("$")
        assert problem.message and problem.fix
        assert "\n" not in str(problem)
    if result.valid:
        assert result.dialect in ("stack", "upstream")
        assert result.normalized["channels"]
        json.dumps(result.as_dict())  # plain JSON-able data


@FUZZ
@given(json_values)
def test_arbitrary_json_never_raises(value: Any) -> None:
    check_result(validate(value))
    check_result(validate_text(json.dumps(value)))


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["llm", "channel", "channels", "agent", "tools", "agents", "providers"]),
        json_values,
        max_size=5,
    )
)
def test_arbitrary_sections_never_raise(value: dict) -> None:
    check_result(validate(value))


def paths_of(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            out += paths_of(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            out += paths_of(child, (*prefix, index))
    return out


def secrets_of(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k in SECRET_KEYS and isinstance(v, str) and len(v) >= 8]
        # a proxy URL is only secret when it carries credentials (redact keeps plain ones)
        found = [v for v in found if v != node.get("proxy") or "@" in v]
        return found + [s for child in node.values() for s in secrets_of(child)]
    if isinstance(node, list):
        return [s for child in node for s in secrets_of(child)]
    return []


@st.composite
def mutated_configs(draw: st.DrawFn) -> tuple[dict, dict]:
    base = draw(st.sampled_from(BASES))
    config = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = [p for p in paths_of(config) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = config
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return base, config


@FUZZ
@given(mutated_configs())
def test_mutated_valid_configs_never_raise_nor_leak(pair: tuple[dict, dict]) -> None:
    base, config = pair
    result = validate(config)
    check_result(result)
    text = " ".join(str(p) for p in result.errors + result.warnings)
    for secret in secrets_of(base):
        assert secret not in text
    as_text = validate_text(json.dumps(config))
    assert [str(p) for p in as_text.errors] == [str(p) for p in result.errors]
    if result.valid:
        dumped = json.dumps(redact(result.normalized))
        for secret in secrets_of(base):
            assert secret not in dumped


@FUZZ
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b))
def test_arbitrary_text_and_bytes_never_raise(data: str | bytes) -> None:
    check_result(validate_text(data))
