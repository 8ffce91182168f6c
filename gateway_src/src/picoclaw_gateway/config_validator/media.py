"""The stack dialect's "media" section: photos to vision models, voice notes to a transcription service.

    "media": {
      "vision": "auto",                  # "auto" | true | false: may photos go to the LLM?
      "image_max_bytes": 5242880,        # larger photos are refused with a notice
      "image_max_side_px": 2048,         # wider/taller ones too (Telegram sends a size that fits)
      "download_timeout_s": 60,
      "transcription": {                 # absent: voice notes get a notice
        "api_base": "https://api.openai.com/v1", "api_key": "sk-...", "model": "whisper-1",
        "max_bytes": 10485760, "max_seconds": 600
      },
      "documents": {                     # files sent in chat, saved to the workspace's inbox/
        "enabled": true, "max_bytes": 20971520, "discord_upload_max_bytes": 10485760
      }
    }

The upstream dialect has no such section: there, vision is "auto" and voice notes get a notice.
"""

from __future__ import annotations

from .checker import Checker, child, show
from .schema import DEFAULTS
from .tokens import _check_secret

MEDIA_KEYS = (
    "vision", "image_max_bytes", "image_max_side_px", "download_timeout_s", "transcription", "documents"
)  # fmt: skip
DOCUMENT_KEYS = ("enabled", "max_bytes", "discord_upload_max_bytes")
TRANSCRIPTION_KEYS = ("api_base", "api_key", "model", "max_bytes", "max_seconds")


def media_defaults() -> dict:
    return {
        "vision": DEFAULTS["vision"],
        "image_max_bytes": DEFAULTS["image_max_bytes"],
        "image_max_side_px": DEFAULTS["image_max_side_px"],
        "download_timeout_s": DEFAULTS["media_download_timeout_s"],
        "transcription": None,
        "documents": {
            "enabled": DEFAULTS["documents_enabled"],
            "max_bytes": DEFAULTS["documents_max_bytes"],
            "discord_upload_max_bytes": DEFAULTS["discord_upload_max_bytes"],
        },
    }


def build_media(ck: Checker, data: dict, upstream: bool) -> dict:
    """The normalized media section (defaults for the upstream dialect)."""
    out = media_defaults()
    if upstream:
        return out
    section = ck.obj(data, "media", "$") or {}
    path = "$.media"
    ck.unknown_keys(section, MEDIA_KEYS, path)
    vision = section.get("vision", DEFAULTS["vision"])
    if not (isinstance(vision, bool) or vision == "auto"):
        ck.err(
            child(path, "vision"),
            f'must be "auto", true or false, got {show(vision)}',
            'write "auto" (on for models known to see images), true or false',
        )
    else:
        out["vision"] = vision
    out["image_max_bytes"] = ck.integer(
        section, "image_max_bytes", path, 16 * 1024, 20 * 1024 * 1024, DEFAULTS["image_max_bytes"]
    )
    out["image_max_side_px"] = ck.integer(
        section, "image_max_side_px", path, 64, 10000, DEFAULTS["image_max_side_px"]
    )
    out["download_timeout_s"] = ck.number(
        section, "download_timeout_s", path, 1.0, 600.0, DEFAULTS["media_download_timeout_s"]
    )
    if "transcription" in section and section["transcription"] is not None:
        out["transcription"] = _transcription(ck, section, child(path, "transcription"))
    if "documents" in section:
        out["documents"] = _documents(ck, section, child(path, "documents"))
    return out


def _documents(ck: Checker, section: dict, path: str) -> dict:
    raw = ck.obj(section, "documents", "$.media") or {}
    ck.unknown_keys(raw, DOCUMENT_KEYS, path)
    mib = 1024 * 1024
    return {
        "enabled": ck.boolean(raw, "enabled", path, DEFAULTS["documents_enabled"]),
        # Streamed to disk: the cap guards the workspace's disk, not the gateway's memory.
        "max_bytes": ck.integer(raw, "max_bytes", path, 1024, 2048 * mib, DEFAULTS["documents_max_bytes"]),
        "discord_upload_max_bytes": ck.integer(
            raw, "discord_upload_max_bytes", path, 1 * mib, 500 * mib, DEFAULTS["discord_upload_max_bytes"]
        ),
    }


def _transcription(ck: Checker, section: dict, path: str) -> dict | None:
    raw = ck.obj(section, "transcription", "$.media")
    if raw is None:
        return None
    ck.unknown_keys(raw, TRANSCRIPTION_KEYS, path)
    api_base = ck.url(raw, "api_base", path, ("https", "http"))
    if api_base is None and "api_base" not in raw:
        ck.err(
            child(path, "api_base"),
            "the transcription service's address is missing",
            'add "api_base": "https://api.openai.com/v1" (or https://api.groq.com/openai/v1, '
            "or a local whisper server's http://host:port/v1)",
        )
    api_key = raw.get("api_key", "")
    key_path = child(path, "api_key")
    if not isinstance(api_key, str):
        ck.err(key_path, "must be a string", "put the API key in double quotes")
        api_key = ""
    elif api_key and not _check_secret(ck, api_key, key_path, "api_key"):
        api_key = ""
    model = ck.string(raw, "model", path, example=DEFAULTS["transcription_model"])
    if model is not None and not model.strip():
        ck.err(child(path, "model"), "is empty", f'write "model": "{DEFAULTS["transcription_model"]}"')
    max_bytes = ck.integer(
        raw, "max_bytes", path, 16 * 1024, 25 * 1024 * 1024, DEFAULTS["transcription_max_bytes"]
    )
    max_seconds = ck.integer(raw, "max_seconds", path, 1, 7200, DEFAULTS["transcription_max_seconds"])
    if api_base is None:
        return None
    return {
        "api_base": api_base,
        "api_key": api_key,
        "model": (model or DEFAULTS["transcription_model"]).strip(),
        "max_bytes": max_bytes,
        "max_seconds": max_seconds,
    }
