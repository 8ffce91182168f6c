"""One bounded HTTP request for a doctor check, and the verdicts every check shares."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx

from picoclaw_gateway.doctor.report import FAIL, Check

# Platform answers (getMe, auth.test, /users/@me) are small; model lists are read by the LLM
# checks with their own, larger cap.
SMALL_BODY_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Unreachable:
    """No HTTP answer: why, in words that carry no URL (URLs may hold a token)."""

    reason: str


async def fetch(
    client: httpx.AsyncClient, method: str, url: str, deadline_s: float, **kwargs: Any
) -> httpx.Response | Unreachable:
    """The response (any status) or why there was none. `deadline_s` bounds the whole request,
    body included, so a server that trickles bytes cannot hold the doctor up."""
    try:
        async with asyncio.timeout(deadline_s):
            return await client.request(method, url, **kwargs)
    except (TimeoutError, httpx.TimeoutException):
        return Unreachable(f"no answer within {deadline_s:g} s")
    except httpx.ConnectError as exc:
        # "[Errno 111] Connection refused", "[Errno -2] Name or service not known": no URL in it.
        detail = str(exc).strip()[:160]
        return Unreachable(f"connection failed: {detail}" if detail else "connection failed")
    except httpx.HTTPError as exc:
        return Unreachable(type(exc).__name__)


def json_body(response: httpx.Response) -> Any:
    """The parsed body, or None when it is not JSON (a proxy's HTML page, an empty 502)."""
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def unreachable(name: str, what: str, shown_base: str, why: Unreachable, setting: str) -> Check:
    return Check(
        name,
        FAIL,
        f"could not reach {what} at {shown_base} ({why.reason})",
        f"check the host's outbound network (DNS, firewall, proxy) / {setting}",
    )


def unexpected_status(name: str, what: str, response: httpx.Response, setting: str) -> Check:
    """A status the check has no meaning for (429, 5xx, a proxy's error page): failed, not guessed at."""
    status = response.status_code
    if status == 429 or status >= 500:
        fix = f"try again in a few minutes; if it lasts, check {what}'s status page and {setting}"
    else:
        fix = f"check {setting} (it must point to {what}'s API)"
    return Check(name, FAIL, f"{what} answered HTTP {status}", fix)
