"""The validator's answer: Problem (one error or warning) and ValidationResult."""

from __future__ import annotations

from .redaction import redact


class Problem:
    """One error or warning: where (JSON path), what is wrong, how to fix it."""

    __slots__ = ("fix", "message", "path")

    def __init__(self, path: str, message: str, fix: str) -> None:
        self.path = path
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.path}: {self.message} (fix: {self.fix})"

    def __repr__(self) -> str:
        return f"Problem({self.path!r}, {self.message!r}, {self.fix!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return (self.path, self.message, self.fix) == (other.path, other.message, other.fix)

    def __hash__(self) -> int:
        return hash((self.path, self.message, self.fix))

    def as_dict(self) -> dict:
        return {"path": self.path, "message": self.message, "fix": self.fix}


class ValidationResult:
    """Outcome of a validation; `normalized` is only set when there is no error."""

    def __init__(
        self, errors: list, warnings: list, dialect: str | None = None, normalized: dict | None = None
    ) -> None:
        self.errors = errors
        self.warnings = warnings
        self.dialect = dialect
        self.normalized = normalized if not errors else None

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "valid": self.valid,
            "dialect": self.dialect,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
            "normalized": redact(self.normalized) if self.normalized is not None else None,
        }

    def __repr__(self) -> str:
        return (
            f"ValidationResult(valid={self.valid!r}, dialect={self.dialect!r}, "
            f"errors={len(self.errors)}, warnings={len(self.warnings)})"
        )
