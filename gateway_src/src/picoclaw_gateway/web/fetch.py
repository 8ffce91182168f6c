"""The web_fetch tool: GET one public URL and give the LLM its readable text, marked untrusted.

GET only; redirects are followed here, one hop at a time (each hop's connection passes the SSRF
guard again); the body is read raw and decompressed here, both capped, so neither a huge page nor a
small gzip bomb costs more than tools.web.fetch.max_bytes; the whole fetch has one deadline.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import httpx

from picoclaw_gateway.agent.tools.base import Tool, ToolError, require_str
from picoclaw_gateway.web.guard import BlockedAddress, Guard, guarded_client
from picoclaw_gateway.web.settings import WebFetchConfig
from picoclaw_gateway.web.untrusted import wrap

log = logging.getLogger(__name__)

USER_AGENT = "PicoClaw-web_fetch/1 (+personal assistant; GET only)"
REDIRECTS = (301, 302, 303, 307, 308)
# Pages read and parsed at once; more wait. Each costs about 2-3x tools.web.fetch.max_bytes at its peak
# (body, decoded text, parser), so this keeps four turns fetching at once inside the memory budget.
MAX_CONCURRENT_FETCHES = 1
_TEXT_TYPES = ("application/json", "application/xml", "application/rss+xml", "application/atom+xml")


@dataclass(frozen=True, slots=True)
class Page:
    url: str
    status: int
    content_type: str
    body: bytes | bytearray
    truncated: bool
    declared_length: str | None
    charset: str | None


def check_url(url: str) -> str:
    """The URL if the web tools may try it (http/https, a host, no credentials), else a ToolError."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise ToolError(f"{url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ToolError(f"only http and https URLs can be fetched, not {parts.scheme or 'a relative URL'!r}")
    if not parts.hostname:
        raise ToolError(f"{url!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise ToolError("URLs with a user name or password are not fetched")
    return url.strip()


async def read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytearray, bool]:
    """The decoded body, at most `max_bytes` (True when cut). gzip/deflate are decoded here with a
    bounded output per step; other encodings are refused rather than buffered."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise ToolError(
            f"the server sent the body compressed with {encoding!r}, which web_fetch does not read"
        )
    inflater = zlib.decompressobj(47) if encoding not in ("identity", "") else None  # 47: gzip or zlib
    out = bytearray()
    async for chunk in response.aiter_raw():
        if inflater is not None:
            try:
                chunk = inflater.decompress(chunk, max_bytes - len(out) + 1)
            except zlib.error as exc:
                raise ToolError(f"the compressed body is corrupt ({exc})") from None
        out += chunk
        if len(out) > max_bytes:
            del out[max_bytes:]
            return out, True
    return out, False  # a bytearray: bytes() would copy it once more


class Fetcher:
    """GET with manual, guarded redirects; shared by web_fetch and its tests."""

    def __init__(self, guard: Guard, config: WebFetchConfig) -> None:
        self.config = config
        self._client = guarded_client(guard, config.timeout_s)
        self.slots = asyncio.Semaphore(MAX_CONCURRENT_FETCHES)

    async def close(self) -> None:
        await self._client.aclose()

    async def get(self, url: str) -> Page:
        url = check_url(url)
        try:
            async with asyncio.timeout(self.config.timeout_s):
                return await self._follow(url)
        except TimeoutError:
            raise ToolError(f"{url} did not answer within {self.config.timeout_s:g} s") from None
        except BlockedAddress as exc:
            raise ToolError(f"refused: {exc}") from None
        except httpx.HTTPError as exc:
            raise ToolError(f"could not fetch {url}: {type(exc).__name__}: {exc}") from None

    async def _follow(self, url: str) -> Page:
        for _hop in range(self.config.max_redirects + 1):
            request = self._client.build_request(
                "GET", url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
            )
            response = await self._client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECTS and location:
                    url = check_url(urljoin(url, location))
                    continue
                body, truncated = await read_capped(response, self.config.max_bytes)
            finally:
                await response.aclose()
            content_type = response.headers.get("content-type", "")
            return Page(
                url=url,
                status=response.status_code,
                content_type=content_type.split(";", 1)[0].strip().lower(),
                body=body,
                truncated=truncated,
                declared_length=response.headers.get("content-length"),
                charset=response.charset_encoding,
            )
        raise ToolError(f"more than {self.config.max_redirects} redirects; stopped at {url}")


def _decode(page: Page) -> str:
    charset = page.charset or "utf-8"
    try:
        return page.body.decode(charset, "replace")
    except LookupError:
        return page.body.decode("utf-8", "replace")


def readable(page: Page, max_chars: int) -> str:
    """What the LLM reads of a page: text for HTML/text/JSON, a short description of anything else."""
    head = f"URL: {page.url}\nHTTP status: {page.status}\nContent-Type: {page.content_type or 'unknown'}\n"
    kind = page.content_type
    if kind in ("text/html", "application/xhtml+xml") or (not kind and page.body[:512].lstrip()[:1] == b"<"):
        from picoclaw_gateway.web.html_text import html_to_text

        title, text = html_to_text(_decode(page), page.url, max_chars)
        head += f"Title: {title}\n" if title else ""
    elif kind.startswith("text/") or kind in _TEXT_TYPES or kind.endswith(("+json", "+xml")):
        text = _decode(page)
    else:
        size = f"{len(page.body):,}{'+' if page.truncated else ''} bytes read"
        if page.declared_length:
            size += f", {page.declared_length} declared"
        return head + f"This is not a text document ({size}); its content is not shown."
    cut = len(text) > max_chars
    text = text[:max_chars]
    if cut or page.truncated:
        text += f"\n[cut: only the first {max_chars:,} characters / {len(page.body):,} bytes are shown]"
    return head + "\n" + text


class WebFetchTool(Tool):
    name = "web_fetch"
    description = (
        "Fetch a public web page or file by URL (GET) and return its readable text. Use it to read a "
        "page found with web_search or given by the user. Private and local addresses are refused."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"url": {"type": "string", "description": "http(s) URL to fetch"}},
        "required": ["url"],
    }

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher

    async def run(self, args: dict[str, Any]) -> str:
        url = require_str(args, "url")
        async with self._fetcher.slots:
            return await self._run(url)

    async def _run(self, url: str) -> str:
        page = await self._fetcher.get(url)
        log.info("web_fetch: %s -> %d %s, %d bytes", urlsplit(page.url).hostname, page.status,
                 page.content_type, len(page.body))  # fmt: skip
        # In a worker thread: parsing a large page must not stall every other chat's event loop.
        text = await asyncio.to_thread(readable, page, self._fetcher.config.max_chars)
        return wrap(page.url, text)
