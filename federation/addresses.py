"""Which IP addresses the node may connect to: the SSRF guard of every outbound request.

A remote document can name any URL (actor, key, inbox, redirect target); without this check
a peer could make the node fetch its own admin pages, a cloud metadata service
(169.254.169.254) or anything else on the LAN. The check runs on the address actually
connected to: `FilteringResolver` drops refused addresses after DNS resolution, so a name
that resolves to a public address for a first lookup and to 127.0.0.1 for the next (DNS
rebinding) is still refused, and the client checks IP-literal hosts itself because aiohttp
does not resolve them. The refused ranges follow Mastodon's `PrivateAddressCheck`
(app/lib/private_address_check.rb, 4.6) and the IANA special-purpose registries, including
the IPv4-mapped/compatible forms behind GHSA-vwhj-3g83-v276 (Mastodon 4.6.4).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from aiohttp.abc import AbstractResolver, ResolveResult

from instance_config import FederationConfig

IPAddress = IPv4Address | IPv6Address

#: Decides whether the node may connect to an address; True means allowed.
AddressPolicy = Callable[[IPAddress], bool]

# IPv4 ranges that are not globally reachable unicast (IANA IPv4 special-purpose registry).
_REFUSED_V4 = tuple(
    IPv4Network(network)
    for network in (
        "0.0.0.0/8",  # "this network", includes the unspecified 0.0.0.0
        "10.0.0.0/8",  # private (RFC 1918)
        "100.64.0.0/10",  # carrier-grade NAT shared space (RFC 6598)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata services (169.254.169.254)
        "172.16.0.0/12",  # private (RFC 1918)
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation TEST-NET-1
        "192.88.99.0/24",  # deprecated 6to4 relay anycast (RFC 7526)
        "192.168.0.0/16",  # private (RFC 1918)
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation TEST-NET-2
        "203.0.113.0/24",  # documentation TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes the broadcast 255.255.255.255
    )
)

# Only global unicast space (2000::/3) is reachable on the Internet; everything outside it
# (unspecified, loopback, ULA fc00::/7, link-local fe80::/10, site-local, multicast ff00::/8,
# discard 100::/64, SRv6 5f00::/16…) is refused, except the forms embedding an IPv4 address.
_GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")
_REFUSED_V6 = tuple(
    IPv6Network(network)
    for network in (
        "2001::/23",  # IETF protocol assignments, includes Teredo 2001::/32 (tunnels)
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4 (deprecated, RFC 7526): tunnels to an embedded IPv4 address
        "3fff::/20",  # documentation (RFC 9637)
    )
)
_IPV4_COMPATIBLE = IPv6Network("::/96")  # deprecated ::a.b.c.d, includes :: and ::1
_IPV4_TRANSLATED = IPv6Network("::ffff:0:0:0/96")  # SIIT ::ffff:0:a.b.c.d (RFC 2765)
_NAT64 = IPv6Network("64:ff9b::/96")  # NAT64 well-known prefix (RFC 6052)
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")  # local-use NAT64 prefix (RFC 8215)
_LOW_32_BITS = 0xFFFFFFFF


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the embedding forms.

    IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), SIIT-translated and the
    NAT64 well-known prefix (64:ff9b::a.b.c.d): connecting to them reaches the IPv4
    address, so that address is what must be checked (::ffff:127.0.0.1 is 127.0.0.1).
    """
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in network for network in (_IPV4_COMPATIBLE, _IPV4_TRANSLATED, _NAT64)):
        return IPv4Address(int(address) & _LOW_32_BITS)
    return None


def is_public_address(address: IPAddress) -> bool:
    """Whether `address` is globally reachable unicast, i.e. safe for the node to connect to.

    Refused: loopback, private, CGNAT, link-local, multicast, reserved, unspecified,
    documentation and benchmarking ranges, 6to4/Teredo tunnels, local-use NAT64; an IPv6
    address embedding an IPv4 address (mapped, compatible, NAT64) is judged by that IPv4.
    Explicit tables rather than `ipaddress.is_global`, whose answers changed between
    Python patch releases and which calls multicast global.
    """
    if isinstance(address, IPv6Address):
        embedded = embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
        if address in _NAT64_LOCAL or address not in _GLOBAL_UNICAST_V6:
            return False
        return not any(address in network for network in _REFUSED_V6)
    return not any(address in network for network in _REFUSED_V4)


def allow_every_address(address: IPAddress) -> bool:
    """A policy accepting every address: tests on loopback and LAN deployments only."""
    return True


def policy_for(config: FederationConfig) -> AddressPolicy:
    """The address policy a configuration asks for: public addresses only, unless
    `allow_private_addresses` is set (tests and LAN deployments)."""
    return allow_every_address if config.allow_private_addresses else is_public_address


def parse_ip(host: str) -> IPAddress | None:
    """The IP address a URL host names literally (brackets allowed), or None for a name."""
    try:
        return ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


class BlockedAddress(OSError):
    """A host resolves only to addresses the policy refuses (or is such an address).

    An OSError, so that aiohttp reports it from its connector as a connection error
    (`ClientConnectorDNSError` whose `os_error` is this); the client maps it to a refusal.
    """

    def __init__(self, host: str, refused: list[str]) -> None:
        self.host = host
        self.refused = tuple(refused)
        listed = ", ".join(refused) if refused else "no address at all"
        super().__init__(
            f"refused to connect to {host}: it resolves only to addresses the node may not "
            f"reach ({listed}); private and loopback addresses need allow_private_addresses"
        )


class FilteringResolver(AbstractResolver):
    """An aiohttp resolver that keeps only the resolved addresses the policy allows.

    aiohttp connects only to the addresses its resolver returns (Happy Eyeballs included),
    so filtering here checks the very IP the socket connects to: no second lookup can swap
    in a private address between the check and the connection (DNS rebinding). aiohttp
    does not call the resolver for IP-literal hosts: the caller checks those itself.
    """

    def __init__(self, policy: AddressPolicy, resolver: AbstractResolver) -> None:
        """Wrap `resolver` (aiohttp's DefaultResolver in production, a fake one in tests)."""
        self._policy = policy
        self._resolver = resolver

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve `host` with the wrapped resolver and drop every refused address.

        Raises BlockedAddress when nothing is left, rather than returning an empty list
        (which aiohttp would report as a confusing generic DNS failure).
        """
        results = await self._resolver.resolve(host, port, family)
        kept: list[ResolveResult] = []
        refused: list[str] = []
        for result in results:
            address = parse_ip(result["host"])
            if address is not None and self._policy(address):
                kept.append(result)
            else:
                refused.append(result["host"])
        if not kept:
            raise BlockedAddress(host, refused)
        return kept

    async def close(self) -> None:
        """Close the wrapped resolver (aiohttp does not close resolvers it was given)."""
        await self._resolver.close()
