"""The automation API (OpenAI-compatible) of a running gateway, called over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx

from tests.e2e.conftest import ALLOWED_USER, StartGateway
from tests.e2e.gateway_process import GatewayProcess
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.telegram_api import FakeTelegram

API_TOKEN = "pc-api-0123456789abcdef0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_with_api(start_gateway: StartGateway, **api: Any) -> tuple[GatewayProcess, str]:
    port = free_port()
    settings = {"enabled": True, "port": port, "token": API_TOKEN, **api}
    gateway = await start_gateway(extra={"api": settings})
    return gateway, f"http://127.0.0.1:{port}/v1"


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "picoclaw", "messages": [{"role": "user", "content": text}], **extra}


def auth(token: str = API_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_good_token_answers_bad_tokens_do_not(
    start_gateway: StartGateway, openai_fake: FakeOpenAI
) -> None:
    gateway, base = await start_with_api(start_gateway)
    async with httpx.AsyncClient(base_url=base, timeout=20) as client:
        response = await client.post("/chat/completions", json=chat("hello api"), headers=auth())
        assert response.status_code == 200
        answer = response.json()
        assert answer["object"] == "chat.completion" and answer["model"] == "picoclaw"
        assert answer["choices"][0]["message"] == {"role": "assistant", "content": "echo: hello api"}
        models = await client.get("/models", headers=auth())
        assert [m["id"] for m in models.json()["data"]] == ["picoclaw"]
        chats_before = len(openai_fake.script.requests)
        for headers in (
            {},
            auth("wrong" + API_TOKEN[5:]),
            auth(API_TOKEN + "x"),
            {"Authorization": API_TOKEN},
        ):
            refused = await client.post("/chat/completions", json=chat("sneak in"), headers=headers)
            assert refused.status_code == 401, headers
            assert refused.json()["error"]["message"] == "missing or wrong bearer token"
        assert len(openai_fake.script.requests) == chats_before, "a refused request never reaches the LLM"
    assert API_TOKEN not in gateway.output()


async def test_streaming_clients_get_the_answer_as_events(start_gateway: StartGateway) -> None:
    _gateway, base = await start_with_api(start_gateway)
    async with httpx.AsyncClient(base_url=base, timeout=20) as client:
        response = await client.post("/chat/completions", json=chat("stream it", stream=True), headers=auth())
    assert response.headers["content-type"] == "text/event-stream"
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    first = json.loads(events[0])
    assert first["choices"][0]["delta"]["content"] == "echo: stream it"


async def test_rate_limit_per_client(start_gateway: StartGateway) -> None:
    _gateway, base = await start_with_api(start_gateway, rate_limit_per_minute=3)
    async with httpx.AsyncClient(base_url=base, timeout=20) as client:
        statuses = [(await client.get("/models", headers=auth())).status_code for _ in range(3)]
        limited = await client.get("/models", headers=auth())
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 61


async def test_failed_tokens_are_limited_even_under_the_request_rate(start_gateway: StartGateway) -> None:
    _gateway, base = await start_with_api(start_gateway, rate_limit_per_minute=1000)
    async with httpx.AsyncClient(base_url=base, timeout=20) as client:
        guesses = [(await client.get("/models", headers=auth("guess"))).status_code for _ in range(10)]
        after = await client.get("/models", headers=auth())
    assert guesses == [401] * 10
    assert after.status_code == 429, "after 10 failures even the right token waits out the window"


async def test_two_conversation_ids_are_kept_apart_and_mirrored(
    start_gateway: StartGateway, openai_fake: FakeOpenAI, telegram: FakeTelegram
) -> None:
    _gateway, base = await start_with_api(
        start_gateway, mirror_to={"channel": "telegram", "chat_id": str(ALLOWED_USER)}
    )
    async with httpx.AsyncClient(base_url=base, timeout=20) as client:
        for conversation, text in (("orders", "apple"), ("invoices", "banana"), ("orders", "cherry")):
            response = await client.post(
                "/chat/completions", json=chat(text), headers={**auth(), "X-Conversation-Id": conversation}
            )
            assert response.status_code == 200
        by_user = await client.post(
            "/chat/completions", json=chat("date", user="n8n@example.org"), headers=auth()
        )
        assert by_user.status_code == 200
    sent = [m["content"] for m in openai_fake.script.requests[2].body["messages"] if m["role"] == "user"]
    assert sent == ["apple", "cherry"], "the orders conversation has its own history only"
    sent = [m["content"] for m in openai_fake.script.requests[1].body["messages"] if m["role"] == "user"]
    assert sent == ["banana"]
    sent = [m["content"] for m in openai_fake.script.requests[3].body["messages"] if m["role"] == "user"]
    assert sent == ["date"]
    mirrored = await telegram.wait_for_sent(4, chat_id=ALLOWED_USER)
    # The mirror is formatted like every reply (markdown: the quoted request is a block of its own).
    assert "[API, conversation orders]\n\n> apple\n\necho: apple" in [m.text for m in mirrored]


async def test_malformed_requests_get_openai_shaped_errors(start_gateway: StartGateway) -> None:
    gateway, base = await start_with_api(start_gateway)
    async with httpx.AsyncClient(base_url=base, timeout=20) as client:
        cases = [
            (await client.post("/chat/completions", content=b"{not json", headers=auth()), 400, "not JSON"),
            (await client.post("/chat/completions", json={"messages": []}, headers=auth()), 400, "non-empty"),
            (
                await client.post(
                    "/chat/completions",
                    json={"messages": [{"role": "system", "content": "x"}]},
                    headers=auth(),
                ),
                400,
                '"role": "user"',
            ),
            (await client.get("/chat/completions", headers=auth()), 405, "use POST"),
            (await client.get("/files", headers=auth()), 404, "no such endpoint"),
            (
                await client.post("/chat/completions", content=b"x" * (1024 * 1024 + 1), headers=auth()),
                413,
                "larger than",
            ),
        ]

        async def chunks() -> Any:
            yield b'{"messages": []}'

        cases.append(
            (await client.post("/chat/completions", content=chunks(), headers=auth()), 411, "chunked")
        )
    for response, status, words in cases:
        assert response.status_code == status, (status, response.text)
        assert words in response.json()["error"]["message"], response.text
    assert await gateway.status("/health") == 200
