"""validate(): recognise the dialect of parsed JSON and check it, never raising."""

from __future__ import annotations

from .checker import Checker, json_type
from .result import ValidationResult
from .stack import validate_stack
from .tools_section import open_exec_warnings
from .upstream import validate_upstream


def _dialect(ck: Checker, data: dict) -> str | None:
    stack = [k for k in ("llm", "channel", "agent") if k in data]
    upstream = [k for k in ("agents", "providers", "model_list", "channel_list") if k in data]
    if isinstance(data.get("channels"), list):
        stack.append("channels (array)")
    elif isinstance(data.get("channels"), dict):
        upstream.append("channels (object)")
    if stack and upstream:
        ck.err(
            "$",
            "mixes the stack form ({}) with the upstream PicoClaw form ({})".format(
                ", ".join(stack), ", ".join(upstream)
            ),
            "use one form: llm + channel/channels[] (stack) or agents + providers + channels{} (upstream)",
        )
        return None
    if upstream:
        return "upstream"
    if stack:
        return "stack"
    ck.err(
        "$",
        'no "llm" section (and no upstream "providers"/"agents") found',
        'start from an example in docs/configuration.md: {"llm": {...}, "channel": {...}}',
    )
    return None


def validate(data: object) -> ValidationResult:
    """Validate already-parsed JSON data. Never raises."""
    ck = Checker()
    try:
        if not isinstance(data, dict):
            ck.err(
                "$",
                f"the config must be a JSON object ({{...}}), got {json_type(data)}",
                "wrap the settings in { }; see docs/configuration.md",
            )
            return ValidationResult(ck.errors, ck.warnings)
        dialect = _dialect(ck, data)
        if dialect is None:
            return ValidationResult(ck.errors, ck.warnings)
        normalized = validate_stack(ck, data) if dialect == "stack" else validate_upstream(ck, data)
        open_exec_warnings(ck, normalized)
        return ValidationResult(ck.errors, ck.warnings, dialect, normalized)
    except RecursionError:
        ck.err("$", "the data is nested too deeply", "flatten the config")
        return ValidationResult(ck.errors, ck.warnings)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # the contract is "never raises"
        ck.err(
            "$",
            f"internal validator error ({type(exc).__name__})",
            "please report this config shape as a bug",
        )
        return ValidationResult(ck.errors, ck.warnings)
