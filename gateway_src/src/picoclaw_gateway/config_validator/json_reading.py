"""Reading a config: file and text checks (size, encoding), JSON parsing that reports duplicate
keys and non-finite numbers, then validate()."""

from __future__ import annotations

import json
import math
import os
import stat

from .checker import Checker, child
from .dispatch import validate
from .result import ValidationResult
from .schema import MAX_CONFIG_BYTES


class _BadConstant(ValueError):
    pass


class _DuplicateCollector:
    """object_pairs_hook that keeps the last value (like JSON) but remembers duplicates."""

    def __init__(self) -> None:
        self.found = []  # type: list

    def __call__(self, pairs: list) -> dict:
        out = {}  # type: dict
        for key, value in pairs:
            if key in out:
                self.found.append((out, key))
            out[key] = value
        return out

    def report(self, ck: Checker, data: object) -> None:
        """Name every duplicate by its JSON path (iterative walk: no recursion limit)."""
        wanted = {id(obj) for obj, _key in self.found}
        paths = {}  # type: dict
        stack = [(data, "$")]
        # Only containers get a path (leaves cannot hold a duplicate); stop once all are named.
        while stack and len(paths) < len(wanted):
            node, path = stack.pop()
            if isinstance(node, dict):
                if id(node) in wanted:
                    paths[id(node)] = path
                items = node.items()
            else:
                items = enumerate(node)
            stack.extend((value, child(path, key)) for key, value in items if isinstance(value, (dict, list)))
        for obj, key in self.found:
            ck.err(
                child(paths.get(id(obj), "$"), key),
                "key appears more than once in the same object (JSON silently keeps only the last one)",
                "keep exactly one entry for this key",
            )


def _constant(name: str) -> float:
    raise _BadConstant(name)


def _int(text: str) -> int:
    # int() of n digits is quadratic on interpreters without the 4300-digit cap (CVE-2020-10735);
    # apply the same cap everywhere so parsing stays linear and the answer is the same.
    if len(text) > 4300:
        raise ValueError("integer with more than 4300 digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadConstant(text if len(text) < 20 else "a huge number")
    return value


def validate_text(text: str | bytes) -> ValidationResult:
    """Parse JSON text (str or UTF-8 bytes) and validate it. Never raises."""
    ck = Checker()
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_CONFIG_BYTES:
            ck.err(
                "$",
                f"config is {len(text)} bytes, the limit is {MAX_CONFIG_BYTES} (1 MiB)",
                "a config is a few hundred bytes; check that this is the right file",
            )
            return ValidationResult(ck.errors, [])
        if text[:2] in (b"\xff\xfe", b"\xfe\xff"):
            ck.err("$", "the file is UTF-16 encoded", "save it as UTF-8")
            return ValidationResult(ck.errors, [])
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            ck.err(
                "$",
                f"the file is not valid UTF-8 text (bad byte at offset {exc.start})",
                "save it as UTF-8 text; is this really the JSON config?",
            )
            return ValidationResult(ck.errors, [])
    elif not isinstance(text, str):
        ck.err("$", f"expected JSON text, got {type(text).__name__}", "pass the file content as a string")
        return ValidationResult(ck.errors, [])
    elif len(text) > MAX_CONFIG_BYTES:
        ck.err(
            "$",
            f"config is {len(text)} characters, the limit is {MAX_CONFIG_BYTES} (1 MiB)",
            "a config is a few hundred bytes; check that this is the right file",
        )
        return ValidationResult(ck.errors, [])
    text = text.lstrip("\ufeff")
    if not text.strip():
        ck.err("$", "the config is empty", "write a JSON object; see the examples in docs/configuration.md")
        return ValidationResult(ck.errors, [])
    try:
        dupes = _DuplicateCollector()
        data = json.loads(
            text, object_pairs_hook=dupes, parse_constant=_constant, parse_float=_float, parse_int=_int
        )
    except json.JSONDecodeError as exc:
        ck.err("$", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", _json_fix(exc))
        return ValidationResult(ck.errors, [])
    except _BadConstant as exc:
        ck.err(
            "$", f"contains {exc.args[0]}, which is not a valid JSON number", "use a finite number or null"
        )
        return ValidationResult(ck.errors, [])
    except RecursionError:
        ck.err("$", "JSON is nested too deeply", "a config needs only 3-4 levels of { }; check the file")
        return ValidationResult(ck.errors, [])
    except (ValueError, MemoryError) as exc:
        ck.err("$", f"cannot parse the JSON ({type(exc).__name__})", "check the file; numbers must be short")
        return ValidationResult(ck.errors, [])
    if dupes.found:
        dupes.report(ck, data)
        return ValidationResult(ck.errors, [])
    return validate(data)


def _json_fix(exc: json.JSONDecodeError) -> str:
    msg = exc.msg
    if msg.startswith("Expecting property name"):
        return f"keys need double quotes, and there must be no comma before }} (check line {exc.lineno})"
    if msg.startswith("Expecting value"):
        return (
            "a value is missing or not JSON (comments, single quotes, trailing commas and "
            f"unquoted words are not allowed) at line {exc.lineno}"
        )
    if msg.startswith("Expecting ',' delimiter"):
        return f"a comma is missing between two items before line {exc.lineno} column {exc.colno}"
    if msg.startswith("Extra data"):
        return "there is text after the closing }; keep exactly one JSON object in the file"
    if "control character" in msg:
        return "a string contains a raw line break or tab; write it as \\n or remove it"
    return f"fix the JSON syntax at line {exc.lineno} column {exc.colno}"


def validate_file(path: str) -> ValidationResult:
    """Read and validate a config file. Never raises; read problems become errors."""
    ck = Checker()
    shown = str(path).encode("ascii", "backslashreplace").decode("ascii")
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            ck.err(
                "$", f"{shown} is a directory, not a config file", "give the path of the JSON file inside it"
            )
            return ValidationResult(ck.errors, [])
        if not stat.S_ISREG(info.st_mode):
            ck.err("$", f"{shown} is not a regular file", "give the path of a JSON file")
            return ValidationResult(ck.errors, [])
        if info.st_size > MAX_CONFIG_BYTES:
            ck.err(
                "$",
                f"{shown} is {info.st_size} bytes, the limit is {MAX_CONFIG_BYTES} (1 MiB)",
                "a config is a few hundred bytes; check that this is the right file",
            )
            return ValidationResult(ck.errors, [])
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        ck.err("$", f"{shown} does not exist", "check the path (or create the file from an example)")
        return ValidationResult(ck.errors, [])
    except PermissionError:
        ck.err(
            "$",
            f"permission denied reading {shown}",
            "make the file readable by this user (e.g. chmod 0640 and the right group)",
        )
        return ValidationResult(ck.errors, [])
    except (OSError, ValueError, TypeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        ck.err("$", f"cannot read {shown}: {reason}", "check the path and the file")
        return ValidationResult(ck.errors, [])
    return validate_text(raw)
