"""Checking primitives: JSON paths, value descriptions, and the Checker that collects problems
while reading typed fields (objects, strings, numbers, booleans, URLs)."""

from __future__ import annotations

import difflib
import json
import math
import re
from urllib.parse import SplitResult, urlsplit

from .result import Problem

# Compiled once: these run for every key and value of configs with 100k entries.
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_QUOTED_INT = re.compile(r"^\s*-?\d+\s*$")
_QUOTED_NUMBER = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")
_SPACE = re.compile(r"\s")


def child(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    text = str(key)
    if len(text) <= 64 and _PLAIN_KEY.match(text):  # length first: a 1 MiB key is not scanned
        return f"{path}.{text}"
    return f"{path}[{show(text)}]"


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def show(value: object) -> str:
    """Non-secret value for a message: short, ASCII, never a long token-like string."""
    if isinstance(value, str):
        if len(value) > 40:
            return f"a {len(value)}-character string"
        return json.dumps(value)
    if value is None or isinstance(value, (bool, int)):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    return f"a JSON {json_type(value)}"


def _suggest(key: str, known: tuple) -> str | None:
    found = difflib.get_close_matches(key.lower(), list(known), n=1, cutoff=0.6)
    return found[0] if found else None


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _split_url(raw: str) -> SplitResult | None:
    """urlsplit that also validates the port (None when the URL cannot be parsed)."""
    try:
        parts = urlsplit(raw)
        if parts.port == 0:
            return None
    except ValueError:
        return None
    return parts


class Checker:
    """Collects problems while walking one config."""

    def __init__(self) -> None:
        self.errors = []  # type: list
        self.warnings = []  # type: list
        self.channel_paths = []  # type: list  # JSON path of each accepted channel, in order

    def err(self, path: str, message: str, fix: str) -> None:
        self.errors.append(Problem(path, message, fix))

    def warn(self, path: str, message: str, fix: str) -> None:
        self.warnings.append(Problem(path, message, fix))

    # -- generic field readers: each returns a clean value or None after reporting

    def obj(self, parent: dict, key: str, path: str, required: bool = False) -> dict | None:
        p = child(path, key)
        if key not in parent:
            if required:
                self.err(
                    p, "required section is missing", f'add "{key}": {{ ... }} (see docs/configuration.md)'
                )
            return None
        value = parent[key]
        if not isinstance(value, dict):
            self.err(p, f"must be a JSON object, got {json_type(value)}", f'write "{key}": {{ ... }}')
            return None
        return value

    def unknown_keys(self, section: dict, known: tuple, path: str, what: str = "key") -> None:
        for key in section:
            if key in known:
                continue
            if not isinstance(key, str):
                self.warn(path, "non-string key is ignored", "use only the documented keys")
                continue
            guess = _suggest(key, known)
            if guess:
                fix = f'did you mean "{guess}"? Rename it, or remove it'
            else:
                fix = "remove it; known {}s here: {}".format(what, ", ".join(known))
            self.warn(child(path, key), f"unknown {what} {show(key)} is ignored", fix)

    def ignored(self, section: dict, known: tuple, path: str, what: str) -> None:
        """One warning listing the upstream settings this gateway does not use."""
        extra = [key for key in section if key not in known]
        if len(extra) == 1:
            self.warn(
                child(path, extra[0]),
                f"{what} {show(extra[0])} is ignored by this gateway",
                "remove it, or keep it for the original PicoClaw",
            )
        elif extra:
            names = ", ".join(show(key) for key in extra[:12])
            more = f" and {len(extra) - 12} more" if len(extra) > 12 else ""
            self.warn(
                path,
                f"{len(extra)} {what}s are ignored by this gateway: {names}{more}",
                "remove them, or keep them for the original PicoClaw",
            )

    def missing_hint(self, section: dict, key: str, known: tuple) -> str:
        """Fix text for a missing key, pointing at a likely typo of it."""
        for other in section:
            if isinstance(other, str) and other not in known and _suggest(other, (key,)):
                return f' (found {show(other)}: is it a typo of "{key}"?)'
        return ""

    def string(
        self,
        parent: dict,
        key: str,
        path: str,
        required: bool = False,
        example: str = "...",
        secret: bool = False,
    ) -> str | None:
        p = child(path, key)
        if key not in parent:
            if required:
                self.err(p, "required key is missing", f'add "{key}": "{example}"')
            return None
        value = parent[key]
        if not isinstance(value, str):
            if secret:
                self.err(p, f"must be a string, got {json_type(value)}", "put the value in double quotes")
            else:
                self.err(p, f"must be a string, got {json_type(value)}", f'write "{key}": "{example}"')
            return None
        return value

    def integer(self, parent: dict, key: str, path: str, low: int, high: int, default: int) -> int:
        p = child(path, key)
        if key not in parent:
            return default
        value = parent[key]
        if isinstance(value, str) and _QUOTED_INT.match(value):
            self.err(
                p, f"must be a number, got the string {show(value)}", f"write {value.strip()} without quotes"
            )
            return default
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            self.err(p, f"must be a whole number, got {value!r}", f"write {int(value)}")
            return default
        if not is_int(value):
            self.err(
                p,
                f"must be a whole number, got {json_type(value)}",
                f"write a number from {low} to {high}, e.g. {default}",
            )
            return default
        if not low <= value <= high:
            self.err(
                p,
                f"must be from {low} to {high}, got {value}",
                f"write a number from {low} to {high}, e.g. {default}",
            )
            return default
        return value

    def number(
        self,
        parent: dict,
        key: str,
        path: str,
        low: float,
        high: float,
        default: float | None,
        low_inclusive: bool = True,
        nullable: bool = False,
    ) -> float | None:
        p = child(path, key)
        if key not in parent:
            return default
        value = parent[key]
        if value is None and nullable:
            return None
        bounds = "{}{:g} and <= {:g}".format(">= " if low_inclusive else "> ", low, high)
        if isinstance(value, str) and _QUOTED_NUMBER.match(value):
            self.err(
                p, f"must be a number, got the string {show(value)}", f"write {value.strip()} without quotes"
            )
            return default
        if not _is_number(value) or not math.isfinite(value):
            self.err(
                p,
                f"must be a number, got {json_type(value)}",
                "write a number {}{}".format(bounds, " or null" if nullable else ""),
            )
            return default
        too_low = value < low if low_inclusive else value <= low
        if too_low or value > high:
            self.err(p, f"must be {bounds}, got {show(value)}", f"write a number {bounds}")
            return default
        return float(value)

    def boolean(self, parent: dict, key: str, path: str, default: bool) -> bool:
        p = child(path, key)
        if key not in parent:
            return default
        value = parent[key]
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "on", "off"):
            word = "true" if value.strip().lower() in ("true", "yes", "on") else "false"
            self.err(p, f"must be a JSON boolean, got the string {show(value)}", f"use {word} without quotes")
        else:
            self.err(p, f"must be a JSON boolean, got {json_type(value)}", "use true or false without quotes")
        return default

    def url(self, parent: dict, key: str, path: str, schemes: tuple, secret: bool = False) -> str | None:
        """Optional URL; "" means unset. Secret URLs (proxies) are described, never quoted."""
        raw = self.string(parent, key, path, example=schemes[0] + "://host:port")
        if raw is None or raw == "":
            return None
        p = child(path, key)
        need = " or ".join(s + "://" for s in schemes)
        if _SPACE.search(raw):
            self.err(p, "URL contains whitespace", "remove the spaces and line breaks")
            return None
        parts = _split_url(raw)
        if parts is None:
            self.err(p, "is not a valid URL (bad host or port)", f"write it like {schemes[0]}://host:port")
            return None
        host = parts.hostname
        if parts.scheme.lower() not in schemes:
            # a proxy written "user:password@host" parses as scheme "user": never echo it
            if not parts.scheme:
                shown = "no scheme"
            elif secret:
                shown = "an unsupported scheme"
            else:
                shown = f"scheme {show(parts.scheme)}"
            self.err(p, f"URL has {shown}, needs {need}", f"start the URL with {need}")
            return None
        if not host:
            self.err(p, "URL has no host name", f"write it like {schemes[0]}://host:port")
            return None
        if not secret and parts.username is not None:
            self.warn(p, "URL contains a user name/password", "prefer a URL without credentials")
        return raw.rstrip("/") if not secret else raw
