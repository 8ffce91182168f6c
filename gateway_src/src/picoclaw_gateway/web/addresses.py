"""Which IP addresses the web tools may connect to: public unicast only.

An address is judged by what it really reaches: an IPv4 address embedded in IPv6 (mapped ::ffff:a.b.c.d,
compatible ::a.b.c.d, 6to4 2002:AABB:CCDD::, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, Teredo) is judged
as that IPv4 address too, so ::ffff:127.0.0.1 or 64:ff9b::a9fe:a9fe cannot sneak past as "IPv6".
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services: refused even when an allow-list entry covers them (they hand out credentials).
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_ULA = ipaddress.ip_network("fc00::/7")
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (and routes to), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    # IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks); :: and ::1 are judged as IPv6
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _v4_reason(address: ipaddress.IPv4Address) -> str | None:
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address in _CGNAT:
        return "a carrier-grade NAT (100.64.0.0/10) address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private or address.is_reserved or not address.is_global:
        return "a private or reserved address"
    return None


def refusal_reason(address: IPAddress) -> str | None:
    """Why the web tools must not connect to `address`, or None for a public unicast address."""
    if isinstance(address, ipaddress.IPv4Address):
        return _v4_reason(address)
    if address in METADATA:
        return "a cloud metadata address"
    inner = embedded_ipv4(address)
    if inner is not None:
        reason = _v4_reason(inner)
        return f"an IPv6 address embedding {inner}, {reason}" if reason else None
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address in _ULA or address in _SITE_LOCAL:
        return "a unique-local (private) IPv6 address"
    if address.is_private or address.is_reserved or not address.is_global:
        return "a private or reserved address"
    return None


def is_metadata(address: IPAddress) -> bool:
    if address in METADATA:
        return True
    inner = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
    return inner is not None and inner in METADATA
