"""web_search and web_fetch through the running gateway: the LLM calls them, the fakes answer on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.e2e.conftest import AskFn, StartGateway
from tests.fakes import llm_script
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.web_api import FakeSearch, FakeSite

SEARCH_KEY = "tvly-test-0123456789abcdef0123"


@pytest_asyncio.fixture
async def web_fakes() -> AsyncIterator[tuple[FakeSearch, FakeSite]]:
    search = await FakeSearch(api_key=SEARCH_KEY).start()
    site = await FakeSite().start()
    yield search, site
    await site.close()
    await search.close()


def tool_results(openai_fake: FakeOpenAI) -> list[str]:
    messages = openai_fake.script.requests[-1].body["messages"]
    return [m["content"] for m in messages if m["role"] == "tool"]


async def test_search_then_fetch_round_trip(
    start_gateway: StartGateway,
    ask: AskFn,
    openai_fake: FakeOpenAI,
    web_fakes: tuple[FakeSearch, FakeSite],
) -> None:
    search, site = web_fakes
    web = {
        "search": {"provider": "tavily", "api_key": SEARCH_KEY, "api_base": search.base_url},
        "allow": ["127.0.0.1"],
    }
    gateway = await start_gateway(extra={"tools": {"web": web}})
    openai_fake.script.add(llm_script.tool_call("web_search", {"query": "fake news"}))
    openai_fake.script.add(llm_script.tool_call("web_fetch", {"url": f"{site.base_url}/page"}))
    openai_fake.script.add(llm_script.text("The headline is big."))
    assert await ask("what is in the news?") == "The headline is big."
    names = {t["function"]["name"] for t in openai_fake.script.requests[0].body["tools"]}
    assert {"web_search", "web_fetch", "read_file"} <= names
    found, page = tool_results(openai_fake)
    assert "1. PicoClaw - lean assistant\n   https://example.org/picoclaw" in found
    assert "<<<UNTRUSTED_WEB_CONTENT>>>" in found and "<<<UNTRUSTED_WEB_CONTENT>>>" in page
    assert "# Big headline" in page and "do not show" not in page
    assert search.requests[-1].body == {"query": "fake news", "max_results": 5}
    assert site.requests == [("GET /page", f"127.0.0.1:{site.server.port}")]
    log = gateway.output()
    assert SEARCH_KEY not in log and "web_fetch: 127.0.0.1 -> 200 text/html" in log


async def test_without_the_allow_list_the_gateway_refuses_the_same_url(
    start_gateway: StartGateway, ask: AskFn, openai_fake: FakeOpenAI, web_fakes: tuple[FakeSearch, FakeSite]
) -> None:
    _search, site = web_fakes
    await start_gateway()  # web_fetch is on by default, with an empty allow-list
    openai_fake.script.add(llm_script.tool_call("web_fetch", {"url": f"{site.base_url}/page"}))
    openai_fake.script.add(llm_script.text("could not read it"))
    assert await ask("read my local page") == "could not read it"
    (result,) = tool_results(openai_fake)
    assert result.startswith("error: refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address")
    assert site.requests == []
