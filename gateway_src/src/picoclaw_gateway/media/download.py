"""Attachment bytes fetched with a byte cap and a time limit, streamed: never more than the cap held."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx

from picoclaw_gateway.http_client import shared_ssl_context

log = logging.getLogger(__name__)

CHUNK = 64 * 1024


class MediaTooLarge(Exception):
    """The attachment is over the configured byte cap."""


class MediaUnavailable(Exception):
    """The platform did not hand the file over (expired, refused, unreachable, too slow)."""


async def fetch_capped(
    url: str, *, headers: dict[str, str] | None, max_bytes: int, timeout_s: float, proxy: str | None = None
) -> bytearray:
    """GET `url`: the body, at most `max_bytes` (MediaTooLarge past it), within `timeout_s` in all.

    A Content-Length over the cap is refused before any body is read; without one, reading stops
    (and the connection is dropped) at the first byte past the cap. Redirects are not followed
    blindly: the platforms' file URLs answer directly (Slack's url_private would drop the bot
    token's header on a redirect to another host anyway).
    """
    body = bytearray()
    await fetch_into(body.extend, url, headers=headers, max_bytes=max_bytes, timeout_s=timeout_s, proxy=proxy)
    return body  # not copied to bytes: a copy would double the memory a photo costs


async def fetch_into(
    sink: Callable[[bytes], object],
    url: str,
    *,
    headers: dict[str, str] | None,
    max_bytes: int,
    timeout_s: float,
    proxy: str | None = None,
    expect_html: bool = False,
) -> int:
    """fetch_capped, each chunk handed to `sink` as it arrives (a file: a document is never held
    whole); returns the byte count. The same caps, limits and errors. A web page where the file was
    not one (`expect_html` False) is MediaUnavailable: Slack answers url_private with its sign-in
    page, HTTP 200, when the app lacks the files:read scope; that page must not pass for the file."""
    fetch = _fetch(sink, url, headers, max_bytes, timeout_s, proxy, expect_html)
    try:
        return await asyncio.wait_for(fetch, timeout_s)
    except TimeoutError as exc:
        raise MediaUnavailable(f"the download took longer than {timeout_s:g} s") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL: a platform's URL httpx cannot send
        raise MediaUnavailable(f"the download failed ({type(exc).__name__})") from exc


async def _fetch(
    sink: Callable[[bytes], object],
    url: str,
    headers: dict[str, str] | None,
    max_bytes: int,
    timeout_s: float,
    proxy: str | None,
    expect_html: bool = True,
) -> int:
    async with (
        httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 15.0)),
            verify=shared_ssl_context(),
            proxy=proxy,
            follow_redirects=False,
        ) as client,
        client.stream("GET", url, headers={**(headers or {}), "Accept-Encoding": "identity"}) as response,
    ):
        if response.status_code != 200:
            raise MediaUnavailable(f"the platform answered HTTP {response.status_code}")
        if not expect_html and response.headers.get("content-type", "").startswith("text/html"):
            raise MediaUnavailable(
                "the platform answered a web page instead of the file (Slack: scope files:read?)"
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise MediaTooLarge(int(declared))
        count = 0
        # Raw bytes (identity asked for): a compressed body could unpack far past the cap in one chunk.
        async for chunk in response.aiter_raw(CHUNK):
            if count + len(chunk) > max_bytes:
                raise MediaTooLarge(count + len(chunk))
            sink(chunk)
            count += len(chunk)
        return count
