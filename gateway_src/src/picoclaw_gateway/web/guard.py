"""The SSRF guard: the web tools connect only to public addresses, checked at connect time.

The check sits inside the connection itself (`GuardedBackend.connect_tcp`, httpcore's network
backend): the host name is resolved once, every address is judged (addresses.py), and the socket is
opened to an address that was just judged. The URL keeps its host name, so the Host header, TLS SNI
and certificate check are the name's. A DNS answer that changes between a check and the connection
("rebinding") therefore changes nothing: there is no second lookup. Redirects are followed by the
caller, one request at a time, and each new connection passes through here again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from picoclaw_gateway.web.addresses import IPAddress, is_metadata, refusal_reason

# (host, port) -> the addresses it resolves to. A hook so tests answer without real DNS queries.
Resolver = Callable[[str, int], Awaitable[list[str]]]


class BlockedAddress(Exception):
    """The guard refused a destination; the message says why and how to allow it."""


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class AllowList:
    """What the user really wants reached although it is not public: networks and exact host names."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """Entries are validated by the config validator; anything not an address is a host name."""
        networks = []
        hosts = set()
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.strip().lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def with_host(self, host: str) -> AllowList:
        return AllowList(self.networks, self.hosts | {host.lower().rstrip(".")})

    def covers(self, host: str, address: IPAddress) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        return any(address.version == net.version and address in net for net in self.networks)


@dataclass(frozen=True, slots=True)
class Guard:
    allow: AllowList = field(default_factory=AllowList)
    resolve: Resolver = system_resolve

    async def check(self, host: str, port: int) -> list[IPAddress]:
        """The addresses of `host` the caller may connect to; raises BlockedAddress when any is refused
        (a name that resolves to one public and one private address is refused whole)."""
        host = host.strip("[]")
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                answers = await self.resolve(host, port)
            except OSError as exc:
                raise BlockedAddress(f"{host} could not be resolved ({exc})") from None
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in answers]
            if not addresses:
                raise BlockedAddress(f"{host} has no address") from None
        for address in addresses:
            if is_metadata(address):
                raise BlockedAddress(
                    f"{host} resolves to {address}, a cloud metadata address; the web tools never reach it"
                )
            if self.allow.covers(host, address):
                continue
            reason = refusal_reason(address)
            if reason:
                raise BlockedAddress(
                    f"{host} resolves to {address}, {reason}; the web tools only reach public addresses "
                    "(fix: if you really want this one, add it to tools.web.allow)"
                )
        return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the guard in connect_tcp: connects only to checked addresses."""

    def __init__(self, guard: Guard, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._guard = guard
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._guard.check(host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("the web tools do not connect to Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a pool whose every connection goes through GuardedBackend.

    httpx 0.28 has no parameter for a network backend, so the pool it built (no connection opened
    yet) is replaced by the same pool with ours; httpx is pinned in pyproject.toml.
    """

    def __init__(self, guard: Guard, max_connections: int = 8) -> None:
        from picoclaw_gateway.http_client import shared_ssl_context

        ssl_context = shared_ssl_context()
        super().__init__(verify=ssl_context, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=2,
            keepalive_expiry=30.0,
            network_backend=GuardedBackend(guard),
        )


def guarded_client(guard: Guard, timeout_s: float) -> httpx.AsyncClient:
    """A client that follows no redirect itself, ignores proxy variables and connects through the guard."""
    return httpx.AsyncClient(
        transport=GuardedTransport(guard),
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
    )
