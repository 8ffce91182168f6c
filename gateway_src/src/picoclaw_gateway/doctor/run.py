"""`picoclaw doctor`: validate the config, then ask the LLM provider, each chat platform and the
web search provider whether the key, the model and the tokens are good, all at once and each
within a deadline."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from picoclaw_gateway import lean_imports
from picoclaw_gateway.check_config import say
from picoclaw_gateway.config import GatewayConfig, from_normalized
from picoclaw_gateway.config_validator import ValidationResult, redact, validate_file
from picoclaw_gateway.doctor.report import (
    EXIT_FAILED,
    EXIT_INVALID,
    FAIL,
    OK,
    WARN,
    Check,
    emit,
    exit_code,
)
from picoclaw_gateway.logging_setup import SecretMasker

lean_imports.apply()  # before httpx is imported (by the checks): no httpx CLI (click, rich) loaded

DEFAULT_DEADLINE_S = 10.0


def _config_checks(path: str, result: ValidationResult) -> list[Check]:
    shown = path.encode("ascii", "backslashreplace").decode("ascii")
    checks = [Check(p.path, FAIL, p.message, p.fix) for p in result.errors]
    if result.valid:
        checks.append(Check("config", OK, f"{shown} is valid (dialect: {result.dialect})"))
    checks.extend(Check(p.path, WARN, p.message, p.fix) for p in result.warnings)
    return checks


def _prefix(dialect: str | None, channel_type: str, index: int, count: int) -> str:
    """Where a channel sits in the file, near enough for a person to find it."""
    if dialect == "upstream":
        return f"channels.{channel_type}"
    return "channel" if count == 1 else f"channels[{index}]"


async def _remote_checks(
    config: GatewayConfig, shown: dict[str, Any], dialect: str | None, deadline_s: float
) -> list[Check]:
    # Imported here: `doctor` on an invalid config needs no httpx.
    from picoclaw_gateway.doctor.llm import check_llm
    from picoclaw_gateway.doctor.platforms import ChannelTarget, check_channel
    from picoclaw_gateway.doctor.search import check_search

    count = len(config.channels)
    jobs = [check_llm(config.llm, str(shown["llm"]["api_base"]).rstrip("/"), deadline_s)]
    for index, channel in enumerate(config.channels):
        prefix = _prefix(dialect, channel.type, index, count)
        shown_base = shown["channels"][index].get("api_base")
        jobs.append(check_channel(ChannelTarget(channel, prefix, shown_base), deadline_s))
    jobs.append(check_search(config.web.search, shown["tools"]["web"]["search"].get("api_base"), deadline_s))
    # Every check bounds its own requests; this is the backstop for the whole run.
    backstop_s = deadline_s * 3 + 5
    try:
        async with asyncio.timeout(backstop_s):
            results = await asyncio.gather(*jobs, return_exceptions=True)
    except TimeoutError:
        fix = "check the host's outbound network (DNS, firewall, proxy)"
        return [Check("doctor", FAIL, f"the checks did not finish within {backstop_s:g} s", fix)]
    checks: list[Check] = []
    for job, result in zip(["llm", *(c.type for c in config.channels), "web_search"], results, strict=True):
        if isinstance(result, BaseException):
            # A bug or an unforeseen answer must still give a line, not a traceback.
            checks.append(Check(job, FAIL, f"the check could not run ({type(result).__name__})", "report it"))
        else:
            checks.extend(result)
    return checks


def _sandbox_check(config: GatewayConfig) -> list[Check]:
    """Ping the tools sandbox container when one is set (in the image: PICOCLAW_SANDBOX_SOCKET).

    Without one the gateway runs its tools in a local subprocess and says so when it starts."""
    import os

    from picoclaw_gateway.sandbox.local import SOCKET_ENV
    from picoclaw_gateway.sandbox.ping import ping

    socket_path = os.environ.get(SOCKET_ENV, "") or config.sandbox_socket
    if not socket_path:
        return []
    problem = ping(socket_path)
    if problem:
        fix = "start the sandbox container (docker compose ps) and check that both share the socket's volume"
        return [Check("tools.sandbox", FAIL, problem, fix)]
    return [Check("tools.sandbox", OK, f"the tools sandbox answers on {socket_path}")]


def run(path: str, *, as_json: bool = False, deadline_s: float = DEFAULT_DEADLINE_S) -> int:
    """Check the config at `path` and what it points to; print the report; return the exit code:
    0 every check passed (warnings allowed), 1 a check failed, 2 the config is invalid."""
    masker = SecretMasker([])
    try:
        result = validate_file(path)
        checks = _config_checks(path, result)
        if not result.valid or result.normalized is None:
            emit(checks, EXIT_INVALID, as_json=as_json, masker=masker)
            return EXIT_INVALID
        config = from_normalized(result.normalized, workspace=".")
        masker = SecretMasker(config.secrets())
        # httpx logs each request's URL (with the Telegram token) at INFO: never shown.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        shown = redact(result.normalized)  # URLs with user:password@ are shown without them
        checks += asyncio.run(_remote_checks(config, shown, result.dialect, deadline_s))
        checks += _sandbox_check(config)
        code = exit_code(checks)
        emit(checks, code, as_json=as_json, masker=masker)
        return code
    except Exception as exc:  # last resort: no traceback, no secret
        failure = Check("doctor", FAIL, f"internal error ({type(exc).__name__})", "please report it")
        try:
            emit([failure], EXIT_FAILED, as_json=as_json, masker=masker)
        except Exception:
            say(sys.stdout, failure.line())
        return EXIT_FAILED
