"""The caps the tools run under (tools.exec.*, tools.files.*), apart from the rest of the config.

Their own module because the tools sandbox imports them: config.py brings the whole gateway's
settings (and asyncio, through health), which the sandbox process must stay without (16 MB budget).
"""

from __future__ import annotations

from dataclasses import dataclass

from picoclaw_gateway.config_validator import DEFAULTS


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
