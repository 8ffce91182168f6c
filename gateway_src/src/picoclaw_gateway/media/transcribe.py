"""Speech to text through an OpenAI-compatible endpoint: POST {api_base}/audio/transcriptions.

OpenAI (whisper-1, gpt-4o-transcribe), Groq (whisper-large-v3) and local whisper servers
(faster-whisper-server, whisper.cpp's server, LocalAI) all take this multipart form.
"""

from __future__ import annotations

import json

import httpx

from picoclaw_gateway.http_client import CappedAsyncClient, shared_ssl_context

MAX_ANSWER_BYTES = 1024 * 1024  # a 10-minute transcript is ~10 KB


class TranscriptionError(Exception):
    """The endpoint did not give a transcript; the message says why (never the key)."""


class Transcriber:
    def __init__(self, api_base: str, api_key: str | None, model: str, timeout_s: float) -> None:
        self.url = api_base.rstrip("/") + "/audio/transcriptions"
        self.model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 15.0))

    async def transcribe(self, audio: bytes, filename: str, mime: str) -> str:
        async with CappedAsyncClient(
            max_response_bytes=MAX_ANSWER_BYTES, timeout=self._timeout, verify=shared_ssl_context()
        ) as client:
            try:
                response = await client.post(
                    self.url,
                    headers=self._headers,
                    data={"model": self.model, "response_format": "json"},
                    files={"file": (filename, audio, mime or "application/octet-stream")},
                )
            except httpx.TimeoutException as exc:
                raise TranscriptionError("the transcription service did not answer in time") from exc
            except httpx.HTTPError as exc:
                raise TranscriptionError(
                    f"the transcription service is unreachable ({type(exc).__name__})"
                ) from exc
        if response.status_code in (401, 403):
            raise TranscriptionError(
                f"the transcription service refused the key (HTTP {response.status_code})"
            )
        if response.status_code != 200:
            raise TranscriptionError(f"the transcription service answered HTTP {response.status_code}")
        try:
            text = json.loads(response.content)["text"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TranscriptionError("the transcription service's answer has no text") from exc
        if not isinstance(text, str):
            raise TranscriptionError("the transcription service's answer has no text")
        return text.strip()
