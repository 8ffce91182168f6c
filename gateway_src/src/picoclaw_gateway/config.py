"""Typed, frozen runtime configuration built from the validator's normalized dict."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from picoclaw_gateway.api.settings import ApiConfig, api_from_normalized
from picoclaw_gateway.config_validator import DEFAULT_SYSTEM_PROMPT, DEFAULTS, validate_file
from picoclaw_gateway.health import DEFAULT_HEALTH_PORT
from picoclaw_gateway.web.settings import WebConfig, web_from_normalized

# Runtime defaults live in the validator's DEFAULTS only: it fills every key of the normalized
# config the gateway is built from, and the dataclass defaults below are the same values.


class ConfigError(Exception):
    """The config file is invalid; `problems` holds one printable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class LLMConfig:
    provider: str
    api_key: str = field(repr=False)
    model: str
    api_base: str
    max_tokens: int = DEFAULTS["max_tokens"]
    temperature: float | None = DEFAULTS["temperature"]
    timeout_s: float = DEFAULTS["llm_timeout_s"]
    max_response_bytes: int = DEFAULTS["llm_max_response_bytes"]


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    type: str
    token: str = field(repr=False)
    allowed_users: tuple[str, ...] = ()
    app_token: str | None = field(default=None, repr=False)
    api_base: str | None = None
    proxy: str | None = None


@dataclass(frozen=True, slots=True)
class AgentConfig:
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    max_tool_iterations: int = DEFAULTS["max_tool_iterations"]
    history_limit: int = DEFAULTS["history_limit"]
    max_reply_chars: int = DEFAULTS["max_reply_chars"]
    history_max_chars: int = DEFAULTS["history_max_chars"]
    history_message_max_chars: int = DEFAULTS["history_message_max_chars"]


@dataclass(frozen=True, slots=True)
class ExecConfig:
    enabled: bool = DEFAULTS["exec_enabled"]
    timeout_s: float = DEFAULTS["exec_timeout_s"]
    max_output_chars: int = DEFAULTS["exec_max_output_chars"]


@dataclass(frozen=True, slots=True)
class FilesConfig:
    """Caps of the file tools (they run in the sandbox; the gateway sends these with each call)."""

    max_read_chars: int = DEFAULTS["files_max_read_chars"]
    max_write_bytes: int = DEFAULTS["files_max_write_bytes"]
    max_edit_bytes: int = DEFAULTS["files_max_edit_bytes"]


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    llm: LLMConfig
    channels: tuple[ChannelConfig, ...]
    agent: AgentConfig
    exec: ExecConfig
    workspace: Path
    health_port: int = DEFAULT_HEALTH_PORT
    files: FilesConfig = FilesConfig()
    # tools.sandbox.socket; PICOCLAW_SANDBOX_SOCKET / --sandbox-socket override it (sandbox/local.py)
    sandbox_socket: str | None = DEFAULTS["sandbox_socket"]
    web: WebConfig = field(default_factory=WebConfig)
    api: ApiConfig = field(default_factory=ApiConfig)

    def secrets(self) -> list[str]:
        """Every secret value, for the log masking filter."""
        values = [self.llm.api_key, self.web.search.api_key, self.api.token or ""]
        for channel in self.channels:
            values.append(channel.token)
            if channel.app_token:
                values.append(channel.app_token)
        return [v for v in values if v]


def from_normalized(
    data: dict[str, Any], workspace: str | Path, health_port: int = DEFAULT_HEALTH_PORT
) -> GatewayConfig:
    llm = data["llm"]
    agent = data["agent"]
    exec_cfg = data["tools"]["exec"]
    files = data["tools"]["files"]
    return GatewayConfig(
        llm=LLMConfig(
            provider=llm["provider"],
            api_key=llm["api_key"],
            model=llm["model"],
            api_base=llm["api_base"],
            max_tokens=int(llm.get("max_tokens", DEFAULTS["max_tokens"])),
            temperature=llm.get("temperature"),
            timeout_s=float(llm.get("timeout_s", DEFAULTS["llm_timeout_s"])),
            max_response_bytes=int(llm["max_response_bytes"]),
        ),
        channels=tuple(
            ChannelConfig(
                type=ch["type"],
                token=ch["token"],
                allowed_users=tuple(str(u) for u in ch.get("allowed_users", [])),
                app_token=ch.get("app_token"),
                api_base=ch.get("api_base"),
                proxy=ch.get("proxy"),
            )
            for ch in data["channels"]
        ),
        agent=AgentConfig(
            system_prompt=agent["system_prompt"],
            max_tool_iterations=int(agent["max_tool_iterations"]),
            history_limit=int(agent["history_limit"]),
            max_reply_chars=int(agent["max_reply_chars"]),
            history_max_chars=int(agent["history_max_chars"]),
            history_message_max_chars=int(agent["history_message_max_chars"]),
        ),
        exec=ExecConfig(
            enabled=bool(exec_cfg["enabled"]),
            timeout_s=float(exec_cfg["timeout_s"]),
            max_output_chars=int(exec_cfg["max_output_chars"]),
        ),
        workspace=Path(workspace),
        health_port=health_port,
        files=FilesConfig(
            max_read_chars=int(files["max_read_chars"]),
            max_write_bytes=int(files["max_write_bytes"]),
            max_edit_bytes=int(files["max_edit_bytes"]),
        ),
        sandbox_socket=data["tools"]["sandbox"]["socket"],
        web=web_from_normalized(data["tools"]["web"]),
        api=api_from_normalized(data["api"]),
    )


def load_config(
    path: str, workspace: str | Path, health_port: int = DEFAULT_HEALTH_PORT
) -> tuple[GatewayConfig, list[str]]:
    """Validate and load; returns (config, warning lines). Raises ConfigError when invalid."""
    result = validate_file(path)
    if not result.valid or result.normalized is None:
        raise ConfigError([str(p) for p in result.errors] or [f"{path}: invalid config"])
    config = from_normalized(result.normalized, workspace, health_port)
    return config, [str(w) for w in result.warnings]
