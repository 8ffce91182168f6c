"""The SSRF guard: every address class, embeddings, redirects, DNS rebinding. Only 127.0.0.1 is reached."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpcore
import pytest
import pytest_asyncio

from picoclaw_gateway.agent.tools.base import ToolError
from picoclaw_gateway.web.addresses import refusal_reason
from picoclaw_gateway.web.fetch import Fetcher
from picoclaw_gateway.web.guard import AllowList, BlockedAddress, Guard, GuardedBackend
from picoclaw_gateway.web.settings import WebFetchConfig
from tests.fakes.web_api import FakeSite

REFUSED = {
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "10.1.2.3": "private",
    "172.16.5.4": "private",
    "192.168.1.1": "private",
    "169.254.10.10": "link-local",
    "169.254.169.254": "metadata",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.254": "carrier-grade NAT",
    "224.0.0.251": "multicast",
    "0.0.0.0": "unspecified",
    "255.255.255.255": "reserved",
    "192.0.2.1": "reserved",  # documentation range: not global
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fc00::5": "unique-local",
    "fd12:3456::1": "unique-local",
    "fd00:ec2::254": "metadata",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "embedding 127.0.0.1",
    "::ffff:10.0.0.1": "embedding 10.0.0.1",
    "::ffff:169.254.169.254": "embedding 169.254.169.254",
    "2002:7f00:1::": "embedding 127.0.0.1",  # 6to4
    "2002:c0a8:0101::1": "embedding 192.168.1.1",
    "64:ff9b::a9fe:a9fe": "embedding 169.254.169.254",  # NAT64
    "64:ff9b::7f00:1": "embedding 127.0.0.1",
    "64:ff9b:1::a00:1": "embedding 10.0.0.1",
    "::7f00:1": "embedding 127.0.0.1",  # IPv4-compatible
}
PUBLIC = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34", "64:ff9b::5db8:d822"]


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_every_non_public_class_is_refused_with_its_reason(address: str) -> None:
    reason = refusal_reason(ipaddress.ip_address(address))
    assert reason is not None and REFUSED[address] in reason, (address, reason)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None


class Resolver:
    """Answers from a script, one answer per call; records the calls (no real DNS)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


async def test_a_name_resolving_to_any_private_address_is_refused_whole() -> None:
    guard = Guard(resolve=Resolver(["93.184.216.34", "10.0.0.7"]))
    with pytest.raises(BlockedAddress, match=r"10\.0\.0\.7, a private"):
        await guard.check("mixed.example", 443)


async def test_metadata_stays_refused_even_when_the_allow_list_covers_it() -> None:
    guard = Guard(AllowList.parse(["169.254.0.0/16", "metadata.internal"]), Resolver(["169.254.169.254"]))
    with pytest.raises(BlockedAddress, match="metadata"):
        await guard.check("metadata.internal", 80)
    assert await guard.check("169.254.1.1", 80) == [ipaddress.ip_address("169.254.1.1")]


async def test_allow_list_by_network_and_by_host_name() -> None:
    guard = Guard(AllowList.parse(["192.168.1.0/24", "searxng"]), Resolver(["172.18.0.5"]))
    assert await guard.check("192.168.1.20", 8080)
    assert await guard.check("searxng", 8080) == [ipaddress.ip_address("172.18.0.5")]
    with pytest.raises(BlockedAddress, match=r"tools\.web\.allow"):
        await guard.check("other", 8080)


@pytest_asyncio.fixture
async def site() -> AsyncIterator[FakeSite]:
    fake = await FakeSite().start()
    yield fake
    await fake.close()


def fetcher(allow: Iterable[str] = (), resolve: Any = None, **caps: Any) -> Fetcher:
    guard = Guard(AllowList.parse(allow), resolve or Resolver(["127.0.0.1"]))
    return Fetcher(guard, WebFetchConfig(**caps))


async def test_fetch_of_127_0_0_1_is_refused_without_the_allow_list(site: FakeSite) -> None:
    with pytest.raises(ToolError, match="loopback address"):
        await fetcher().get(f"{site.base_url}/page")
    assert site.requests == [], "refused before any connection"


async def test_fetch_of_127_0_0_1_works_when_allowed(site: FakeSite) -> None:
    page = await fetcher(["127.0.0.1"]).get(f"{site.base_url}/page")
    assert page.status == 200 and b"Big headline" in page.body


async def test_a_redirect_into_a_private_range_is_refused(site: FakeSite) -> None:
    site.redirect("/go", "http://internal.example:8080/admin")
    resolve = Resolver(["192.168.0.10"])
    with pytest.raises(ToolError, match=r"internal\.example resolves to 192\.168\.0\.10"):
        await fetcher(["127.0.0.1/32"], resolve).get(f"{site.base_url}/go")
    assert [path for path, _host in site.requests] == ["GET /go"]
    assert resolve.calls == ["internal.example"]
    site.redirect("/meta", "http://[::ffff:169.254.169.254]/latest/meta-data/")
    with pytest.raises(ToolError, match="metadata"):
        await fetcher(["127.0.0.1"]).get(f"{site.base_url}/meta")


class FakeInternet(httpcore.AsyncNetworkBackend):
    """Stands in for the internet: a connection to a public address lands on the local fake site.
    Records where the guard told it to connect; nothing leaves 127.0.0.1."""

    def __init__(self, routes: dict[str, int]) -> None:
        self.routes = routes
        self.connected: list[tuple[str, int]] = []
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, *args: Any, **kwargs: Any
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append((host, port))
        return await self._real.connect_tcp("127.0.0.1", self.routes[host], *args, **kwargs)

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)


async def test_dns_rebinding_cannot_redirect_the_connection(site: FakeSite) -> None:
    """The name answers a public address, then 127.0.0.1: the socket goes to the address that was
    checked, resolved once, with the original Host header."""
    resolve = Resolver(["93.184.216.34"], ["127.0.0.1"])
    internet = FakeInternet({"93.184.216.34": site.server.port})
    backend = GuardedBackend(Guard(resolve=resolve), inner=internet)
    pool = httpcore.AsyncConnectionPool(network_backend=backend)
    url = f"http://rebind.example:{site.server.port}/page"
    async with pool:
        response = await pool.request("GET", url)
    assert response.status == 200 and b"Big headline" in response.content
    assert internet.connected == [("93.184.216.34", site.server.port)]
    assert resolve.calls == ["rebind.example"], "one lookup: the checked answer is the one connected to"
    assert site.requests == [("GET /page", f"rebind.example:{site.server.port}")]
    # The same name when its (first) answer is 127.0.0.1: refused, nothing connected.
    backend = GuardedBackend(Guard(resolve=Resolver(["127.0.0.1"])), inner=internet)
    async with httpcore.AsyncConnectionPool(network_backend=backend) as pool:
        with pytest.raises(BlockedAddress, match="loopback"):
            await pool.request("GET", url)
    assert len(internet.connected) == 1


async def test_size_cap_gzip_bomb_and_time_cap(site: FakeSite) -> None:
    page = await fetcher(["127.0.0.1"], max_bytes=100_000).get(f"{site.base_url}/big.txt")
    assert page.truncated and len(page.body) == 100_000
    page = await fetcher(["127.0.0.1"], max_bytes=100_000).get(f"{site.base_url}/bomb.txt")
    assert page.truncated and len(page.body) == 100_000 and set(page.body) == {ord("B")}
    with pytest.raises(ToolError, match=r"did not answer within 0\.5 s"):
        await fetcher(["127.0.0.1"], timeout_s=0.5).get(f"{site.base_url}/slow")


async def test_redirect_loops_stop_and_only_http_urls_are_fetched(site: FakeSite) -> None:
    site.redirect("/loop", "/loop")
    with pytest.raises(ToolError, match="more than 2 redirects"):
        await fetcher(["127.0.0.1"], max_redirects=2).get(f"{site.base_url}/loop")
    for url in ("file:///etc/passwd", "ftp://example.org/", "http://user:pw@example.org/"):
        with pytest.raises(ToolError):
            await fetcher().get(url)
    site.redirect("/to-file", "file:///etc/passwd")
    with pytest.raises(ToolError, match="only http and https"):
        await fetcher(["127.0.0.1"]).get(f"{site.base_url}/to-file")


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]:9/",
        "http://[::ffff:127.0.0.1]:9/",
        "http://[::ffff:7f00:1]:9/",
        "http://2130706433:9/",  # 127.0.0.1 as one number: parsed by getaddrinfo, no DNS query
        "http://0x7f000001:9/",
        "http://127.1:9/",
        "http://0:9/",
        "http://[fd00:ec2::254]/latest/",
    ],
)
async def test_odd_spellings_of_local_addresses_are_refused(url: str) -> None:
    """Anything that is not an IP literal is resolved and the answer judged: 127.1 or 2130706433
    cannot slip through as "a host name"."""
    with pytest.raises(ToolError, match=r"refused: .*(loopback|unspecified|metadata)"):
        await Fetcher(Guard(), WebFetchConfig()).get(url)
