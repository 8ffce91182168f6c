"""Typed, frozen runtime configuration built from the validator's normalized dict."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from picoclaw_gateway.api.settings import ApiConfig, api_from_normalized
from picoclaw_gateway.config_validator import DEFAULT_SYSTEM_PROMPT, DEFAULTS, validate_file
from picoclaw_gateway.health import DEFAULT_HEALTH_PORT
from picoclaw_gateway.tool_limits import ExecConfig, FilesConfig
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
    # llm.fallbacks: tried in order after this model failed its retries (providers/fallback.py)
    fallbacks: tuple[LLMConfig, ...] = ()
    fallback_cooldown_s: float = DEFAULTS["fallback_cooldown_s"]


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    type: str
    token: str = field(repr=False)
    allowed_users: tuple[str, ...] = ()
    app_token: str | None = field(default=None, repr=False)
    api_base: str | None = None
    proxy: str | None = None
    group_mode: str = DEFAULTS["group_mode"]  # "mention" | "all": when the bot answers in a group
    allowed_groups: tuple[str, ...] = ()  # group chat ids; empty: any group
    reply_format: str = DEFAULTS["reply_format"]  # replies.format: "markdown" or "plain"
    live_interval_s: float | None = None  # replies.live_interval_s when replies.live, else None


@dataclass(frozen=True, slots=True)
class AgentConfig:
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    max_tool_iterations: int = DEFAULTS["max_tool_iterations"]
    history_limit: int = DEFAULTS["history_limit"]
    max_reply_chars: int = DEFAULTS["max_reply_chars"]
    history_max_chars: int = DEFAULTS["history_max_chars"]
    history_message_max_chars: int = DEFAULTS["history_message_max_chars"]


@dataclass(frozen=True, slots=True)
class MemoryConfig:
    enabled: bool = DEFAULTS["memory_enabled"]
    max_chars: int = DEFAULTS["memory_max_chars"]


@dataclass(frozen=True, slots=True)
class HeartbeatConfig:
    enabled: bool = DEFAULTS["heartbeat_enabled"]
    interval_s: float = DEFAULTS["heartbeat_interval_minutes"] * 60
    channel: int = 0  # index into GatewayConfig.channels
    chat_id: str | None = None  # the owner's chat


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    """Per user and UTC day; None: no limit. The owner (first allowed user) has own limits."""

    daily_messages: int | None = DEFAULTS["daily_messages"]
    daily_tokens: int | None = DEFAULTS["daily_tokens"]
    owner_daily_messages: int | None = DEFAULTS["owner_daily_messages"]
    owner_daily_tokens: int | None = DEFAULTS["owner_daily_tokens"]


@dataclass(frozen=True, slots=True)
class TranscriptionConfig:
    api_base: str
    api_key: str = field(repr=False)
    model: str = DEFAULTS["transcription_model"]
    max_bytes: int = DEFAULTS["transcription_max_bytes"]
    max_seconds: int = DEFAULTS["transcription_max_seconds"]


@dataclass(frozen=True, slots=True)
class DocumentsConfig:
    """Files sent in chat, saved to the workspace's inbox/, and the send_file tool (media/documents.py)."""

    enabled: bool = DEFAULTS["documents_enabled"]
    max_bytes: int = DEFAULTS["documents_max_bytes"]
    discord_upload_max_bytes: int = DEFAULTS["discord_upload_max_bytes"]


@dataclass(frozen=True, slots=True)
class MediaConfig:
    """Photos and voice notes (media/): vision "auto" | True | False; transcription None: off."""

    vision: str | bool = DEFAULTS["vision"]
    image_max_bytes: int = DEFAULTS["image_max_bytes"]
    image_max_side_px: int = DEFAULTS["image_max_side_px"]
    download_timeout_s: float = DEFAULTS["media_download_timeout_s"]
    transcription: TranscriptionConfig | None = None
    documents: DocumentsConfig = DocumentsConfig()


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    """schedules: reminders and recurring jobs (schedules/)."""

    enabled: bool = DEFAULTS["schedules_enabled"]
    timezone: str = DEFAULTS["schedules_timezone"]
    max_jobs_per_chat: int = DEFAULTS["schedules_max_jobs_per_chat"]
    min_interval_s: int = DEFAULTS["schedules_min_interval_s"]
    missed_grace_s: int = DEFAULTS["schedules_missed_grace_s"]
    max_text_chars: int = DEFAULTS["schedules_max_text_chars"]


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    llm: LLMConfig
    channels: tuple[ChannelConfig, ...]
    agent: AgentConfig
    exec: ExecConfig
    workspace: Path
    health_port: int = DEFAULT_HEALTH_PORT
    files: FilesConfig = field(default_factory=FilesConfig)
    # tools.sandbox.socket; PICOCLAW_SANDBOX_SOCKET / --sandbox-socket override it (sandbox/local.py)
    sandbox_socket: str | None = DEFAULTS["sandbox_socket"]
    memory: MemoryConfig = MemoryConfig()
    heartbeat: HeartbeatConfig = HeartbeatConfig()
    budgets: BudgetConfig = BudgetConfig()
    media: MediaConfig = MediaConfig()
    schedules: ScheduleConfig = ScheduleConfig()
    web: WebConfig = field(default_factory=WebConfig)
    api: ApiConfig = field(default_factory=ApiConfig)

    def secrets(self) -> list[str]:
        """Every secret value, for the log masking filter."""
        values = [self.llm.api_key, *(model.api_key for model in self.llm.fallbacks)]
        values += [self.web.search.api_key, self.api.token or ""]
        if self.media.transcription is not None:
            values.append(self.media.transcription.api_key)
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
    replies = data.get("replies", {})

    def llm_config(model: dict[str, Any], fallbacks: tuple[LLMConfig, ...] = ()) -> LLMConfig:
        """A model entry with the settings every model of the chain shares (tokens, timeouts)."""
        return LLMConfig(
            provider=model["provider"],
            api_key=model["api_key"],
            model=model["model"],
            api_base=model["api_base"],
            max_tokens=int(llm.get("max_tokens", DEFAULTS["max_tokens"])),
            temperature=llm.get("temperature"),
            timeout_s=float(llm.get("timeout_s", DEFAULTS["llm_timeout_s"])),
            max_response_bytes=int(llm["max_response_bytes"]),
            fallbacks=fallbacks,
            fallback_cooldown_s=float(llm.get("fallback_cooldown_s", DEFAULTS["fallback_cooldown_s"])),
        )

    exec_cfg = data["tools"]["exec"]
    files = data["tools"]["files"]
    return GatewayConfig(
        llm=llm_config(llm, tuple(llm_config(model) for model in llm.get("fallbacks", []))),
        channels=tuple(
            ChannelConfig(
                type=ch["type"],
                token=ch["token"],
                allowed_users=tuple(str(u) for u in ch.get("allowed_users", [])),
                app_token=ch.get("app_token"),
                api_base=ch.get("api_base"),
                proxy=ch.get("proxy"),
                group_mode=ch["group_mode"],
                allowed_groups=tuple(ch["allowed_groups"]),
                reply_format=replies.get("format", DEFAULTS["reply_format"]),
                live_interval_s=float(replies["live_interval_s"]) if replies.get("live") else None,
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
        memory=MemoryConfig(**data["memory"]),
        heartbeat=HeartbeatConfig(
            enabled=data["heartbeat"]["enabled"],
            interval_s=float(data["heartbeat"]["interval_minutes"]) * 60,
            channel=data["heartbeat"]["channel"],
            chat_id=data["heartbeat"]["chat_id"],
        ),
        budgets=BudgetConfig(**data["budgets"]),
        media=_media(data["media"]),
        schedules=ScheduleConfig(**data["schedules"]),
        web=web_from_normalized(data["tools"]["web"]),
        api=api_from_normalized(data["api"]),
    )


def _media(media: dict[str, Any]) -> MediaConfig:
    transcription = media["transcription"]
    return MediaConfig(
        vision=media["vision"],
        image_max_bytes=media["image_max_bytes"],
        image_max_side_px=media["image_max_side_px"],
        download_timeout_s=float(media["download_timeout_s"]),
        transcription=None if transcription is None else TranscriptionConfig(**transcription),
        documents=DocumentsConfig(**media["documents"]),
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
