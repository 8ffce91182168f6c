"""Shared httpx pieces: one TLS context for every client, and response bodies read with a size cap."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from functools import cache
from typing import Any

import httpx


@cache
def shared_ssl_context() -> ssl.SSLContext:
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class CappedStream(httpx.AsyncByteStream):
    """Yields at most `max_bytes` of the wrapped body, then stops (and marks itself truncated).

    Stopping early closes the connection instead of draining the rest: a 20 MB answer costs
    `max_bytes` of memory, not 20 MB (nor the 5-10 copies decoding and parsing would make).
    """

    def __init__(self, inner: httpx.AsyncByteStream, max_bytes: int) -> None:
        self._inner = inner
        self._left = max_bytes
        self.truncated = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            if len(chunk) > self._left:
                self.truncated = True
                if self._left:
                    yield chunk[: self._left]
                self._left = 0
                return
            self._left -= len(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class CappedAsyncClient(httpx.AsyncClient):
    """An httpx client whose every response body is cut at `max_response_bytes`.

    The cap sits in send(), so it holds for any caller (our providers and SDKs given this
    client) and for every transport, proxies included. `was_truncated(response)` tells.
    """

    def __init__(self, *, max_response_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_response_bytes = max_response_bytes

    async def send(self, request: httpx.Request, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        response = await super().send(request, stream=True, **kwargs)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = CappedStream(response.stream, self.max_response_bytes)
        if not stream:
            try:
                await response.aread()
            except BaseException:
                await response.aclose()
                raise
        return response


def was_truncated(response: httpx.Response) -> bool:
    """True when a CappedAsyncClient cut this response's body."""
    stream = response.stream
    return isinstance(stream, CappedStream) and stream.truncated
