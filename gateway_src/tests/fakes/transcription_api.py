"""Fake OpenAI-compatible speech-to-text server: POST {base}/v1/audio/transcriptions.

Speaks the real multipart form (fields `file`, `model`, optional `response_format`, `language`),
answers {"text": ...} like OpenAI, Groq and local whisper servers; 401 for a wrong bearer key,
400 without a file or model, 413 over 25 MB (OpenAI's limit). The transcript of an upload is
`transcripts[bytes]` (set by the test), else "transcript of N bytes". Every request is recorded.
Standalone: python -m tests.fakes.transcription_api --port N [--api-key KEY]
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass

from aiohttp import web

from tests.fakes._server import FAKE_NAME, FakeServer, RunningServer, serve_forever

MAX_UPLOAD_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class Upload:
    model: str
    filename: str
    content_type: str
    data: bytes
    authorization: str | None


class FakeTranscription(FakeServer):
    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.transcripts: dict[bytes, str] = {}
        self.uploads: list[Upload] = []
        self.status: int | None = None  # e.g. 503: every request fails until None
        self.app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        self.app[FAKE_NAME] = "transcription"
        self.app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        self.server = RunningServer(self.app)

    def reset(self) -> None:
        self.transcripts.clear()
        self.uploads.clear()
        self.status = None

    async def _transcribe(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization")
        if self.api_key is not None and auth != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided")
        if self.status is not None:
            return _error(self.status, "scripted failure")
        if not request.content_type.startswith("multipart/form-data"):
            return _error(400, "Could not parse multipart form")
        fields: dict[str, str] = {}
        upload: tuple[str, str, bytes] | None = None
        reader = await request.multipart()
        async for part in reader:
            if part.name == "file":
                data = await part.read(decode=False)
                if len(data) > MAX_UPLOAD_BYTES:
                    return _error(413, "Maximum content size limit exceeded")
                upload = (part.filename or "", part.headers.get("Content-Type", ""), bytes(data))
            elif part.name:
                fields[part.name] = await part.text()
        if upload is None or not fields.get("model"):
            return _error(400, "you must provide a file and a model")
        filename, content_type, data = upload
        self.uploads.append(Upload(fields["model"], filename, content_type, data, auth))
        return web.json_response({"text": self.transcripts.get(data, f"transcript of {len(data)} bytes")})


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error"}}, status=status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=None)
    args = parser.parse_args()
    fake = FakeTranscription(args.api_key)
    asyncio.run(serve_forever([RunningServer(fake.app, args.host, args.port)]))


if __name__ == "__main__":
    main()
