"""An aiogram session on httpx (instead of aiohttp): one HTTP stack for the whole process."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any, BinaryIO, cast

import httpx
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import ClientDecodeError, TelegramNetworkError, TelegramServerError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile

from picoclaw_gateway.http_client import shared_ssl_context


class StreamedFile(InputFile):
    """An upload read from an open file as httpx sends it: a 50 MB document is never held whole
    (aiogram's own files are drained into memory first). Opened by the caller, so the file sent is
    the one it checked, not whatever a path names by the time it is read."""

    def __init__(self, handle: BinaryIO, filename: str) -> None:
        super().__init__(filename=filename)
        self.handle = handle

    async def read(self, bot: Bot) -> AsyncGenerator[bytes, None]:
        while chunk := self.handle.read(self.chunk_size):
            yield chunk


class HttpxSession(BaseSession):
    def __init__(
        self, api: TelegramAPIServer = PRODUCTION, proxy: str | None = None, timeout: float = 60.0
    ) -> None:
        super().__init__(api=api, timeout=timeout)
        self._proxy = proxy
        self._client: httpx.AsyncClient | None = None

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                proxy=self._proxy,
                limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
                trust_env=False,
                verify=shared_ssl_context(),
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _build_form(self, bot: Bot, method: TelegramMethod[Any]) -> tuple[dict[str, str], dict[str, Any]]:
        data: dict[str, str] = {}
        files: dict[str, InputFile] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if not prepared:
                continue
            data[key] = prepared if isinstance(prepared, str) else json.dumps(prepared)
        uploads: dict[str, Any] = {}
        for key, file in files.items():
            uploads[key] = (
                file.filename or key,
                file.handle if isinstance(file, StreamedFile) else file.read(bot),
            )
        return data, uploads

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram BaseSession signature
    ) -> TelegramType:
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        data, uploads = self._build_form(bot, method)
        if uploads:
            # httpx wants bytes for multipart; the async file readers are drained first.
            files = {}
            for key, (name, reader) in uploads.items():
                if not hasattr(reader, "__aiter__"):  # a StreamedFile's handle: httpx reads it in chunks
                    files[key] = (name, reader)
                    continue
                chunks = [chunk async for chunk in reader]
                files[key] = (name, b"".join(chunks))
        else:
            files = None
        try:
            response = await self._get_client().post(
                url,
                data=data,
                files=files,
                timeout=self.timeout if timeout is None else float(timeout),
            )
        except httpx.TimeoutException as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except httpx.HTTPError as exc:
            raise TelegramNetworkError(method=method, message=f"{type(exc).__name__}: {exc}") from exc
        try:
            checked = self.check_response(
                bot=bot, method=method, status_code=response.status_code, content=response.text
            )
        except ClientDecodeError as exc:
            if response.status_code < 500:
                raise
            # A proxy's HTML page or an empty 502/504: a server error like any other, so it is retried.
            raise TelegramServerError(
                method=method, message=f"HTTP {response.status_code} without a Bot API answer"
            ) from exc
        return cast(TelegramType, checked.result)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - aiogram BaseSession signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        async with self._get_client().stream("GET", url, headers=headers, timeout=timeout) as response:
            if raise_for_status:
                response.raise_for_status()
            async for chunk in response.aiter_bytes(chunk_size):
                yield chunk
