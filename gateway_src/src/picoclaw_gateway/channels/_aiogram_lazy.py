"""Import aiogram without building ~300 pydantic schemas up front.

`aiogram/types/__init__.py` ends with a loop that calls `model_rebuild()` on every
TelegramObject although they all declare `defer_build=True`. That loop alone costs
~40 MB RSS. Here the loop only *records* the namespace it passes; pydantic builds a
model's schema the first time it is used (its mock validator calls
`cls.model_rebuild()`), and we hand it the recorded namespace then.

aiogram's Bot also imports its aiohttp session at module level; we use an httpx
session instead (httpx is already loaded for the LLM), so the aiohttp import is
replaced by a placeholder module and never happens.

Both tricks depend on aiogram internals: they are applied only to the version they
were tested with; any other version is imported normally with a warning.
"""

from __future__ import annotations

import importlib.metadata
import logging
import sys
import types
from typing import Any

log = logging.getLogger(__name__)

TESTED_AIOGRAM_VERSION = "3.28.2"
_AIOHTTP_SESSION_MODULE = "aiogram.client.session.aiohttp"

# The namespace aiogram passes to model_rebuild (same dict for every type).
_recorded_namespace: dict[str, Any] = {}
_applied = False


def is_patched() -> bool:
    return _applied


def _aiohttp_placeholder() -> types.ModuleType:
    module = types.ModuleType(_AIOHTTP_SESSION_MODULE)
    module.__doc__ = "Placeholder: PicoClaw uses an httpx session, aiohttp is never imported."

    class AiohttpSession:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("aiohttp session disabled by picoclaw; pass session=HttpxSession(...)")

    module.AiohttpSession = AiohttpSession  # type: ignore[attr-defined]
    return module


def import_aiogram() -> types.ModuleType:
    """Import and return `aiogram`, lazily when the installed version is the tested one."""
    global _applied
    if "aiogram" in sys.modules:
        return sys.modules["aiogram"]
    try:
        version = importlib.metadata.version("aiogram")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    if version != TESTED_AIOGRAM_VERSION:
        log.warning(
            "aiogram %s is not the tested %s: importing it normally (uses ~40 MB more memory)",
            version,
            TESTED_AIOGRAM_VERSION,
        )
        import aiogram

        return aiogram

    from pydantic import BaseModel

    original = BaseModel.__dict__["model_rebuild"]
    build = original.__func__

    def recording_rebuild(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        if _types_namespace is not None and not force and cls.__module__.startswith("aiogram.types."):
            _recorded_namespace.update(_types_namespace)
            return None
        return build(
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth,
            _types_namespace=_types_namespace,
        )

    sys.modules.setdefault(_AIOHTTP_SESSION_MODULE, _aiohttp_placeholder())
    BaseModel.model_rebuild = classmethod(recording_rebuild)  # type: ignore[method-assign,assignment]
    try:
        import aiogram
        from aiogram.types.base import TelegramObject
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]

    def lazy_rebuild(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        return build(
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth,
            _types_namespace=_recorded_namespace if _types_namespace is None else _types_namespace,
        )

    TelegramObject.model_rebuild = classmethod(lazy_rebuild)  # type: ignore[method-assign,assignment]
    # A type's schema is also built *inline* when another model embeds it (e.g. aiogram's
    # generic Response[list[Update]]); pydantic then resolves its forward refs ("Message",
    # imported only under TYPE_CHECKING) in the type's own module. Give each module the names.
    for name, module in list(sys.modules.items()):
        if name.startswith("aiogram.types.") and module is not None:
            for key, value in _recorded_namespace.items():
                module.__dict__.setdefault(key, value)
    _applied = True
    return aiogram
