"""Config validation for PicoClaw: the single source of truth.

STDLIB ONLY, Python >= 3.8 syntax. This very file is imported by the gateway
(`picoclaw_gateway.config_validator`) and by the Ansible collection
(`plugins/module_utils/config_validator.py` is a symlink to it), so it must not
import anything outside the standard library or the rest of the gateway.

CONTRACT (implemented by the config work package):

    validate(data: object) -> ValidationResult
    validate_text(text: str | bytes) -> ValidationResult    # JSON parse, size cap, never raises
    validate_file(path: str) -> ValidationResult            # read errors reported, never raises
    redact(normalized: dict) -> dict                        # secrets replaced by "***"

    ValidationResult: valid: bool, dialect: str | None ("stack" | "upstream"),
                      errors: list[Problem], warnings: list[Problem],
                      normalized: dict | None (None when invalid)
    Problem: path (JSON path like "$.channel.allowed_users[0]"), message, fix;
             str(problem) == f"{path}: {message} (fix: {fix})" on one line.

Normalized shape (every key always present, defaults filled in):
    {
      "llm": {"provider": "openrouter"|"openai"|"anthropic", "api_key": str, "model": str,
              "api_base": str,            # provider default filled in
              "max_tokens": int, "temperature": float | None, "timeout_s": float},
      "channels": [ {"type": "telegram"|"discord"|"slack", "token": str,
                     "app_token": str | None,          # slack only
                     "allowed_users": [str, ...],      # [] means open to everyone (warning)
                     "api_base": str | None, "proxy": str | None} ],
      "agent": {"system_prompt": str, "max_tool_iterations": int, "history_limit": int},
      "tools": {"exec": {"enabled": bool, "timeout_s": float, "max_output_chars": int}},
    }
"""
