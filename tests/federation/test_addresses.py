"""The SSRF address policy: a table of addresses, and the filtering resolver."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from federation.addresses import (
    BlockedAddress,
    FilteringResolver,
    allow_every_address,
    embedded_ipv4,
    is_public_address,
    parse_ip,
    policy_for,
)
from instance_config import FederationConfig

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback /8"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "this network"),
    ("10.0.0.1", "private 10/8"),
    ("172.16.0.1", "private 172.16/12"),
    ("172.31.255.255", "private 172.16/12 end"),
    ("192.168.1.1", "private 192.168/16"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT end"),
    ("169.254.169.254", "link-local, cloud metadata"),
    ("192.0.0.8", "IETF protocol assignments"),
    ("192.0.2.10", "TEST-NET-1"),
    ("198.51.100.7", "TEST-NET-2"),
    ("203.0.113.9", "TEST-NET-3"),
    ("198.18.0.1", "benchmarking"),
    ("192.88.99.1", "6to4 relay anycast"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast SSDP"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("::", "IPv6 unspecified"),
    ("::1", "IPv6 loopback"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local fd"),
    ("fe80::1", "IPv6 link-local"),
    ("fe80::1%eth0", "IPv6 link-local with a zone"),
    ("fec0::1", "site-local"),
    ("ff02::1", "IPv6 multicast"),
    ("100::1", "discard-only"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation (RFC 9637)"),
    ("2001::1", "Teredo"),
    ("2002:7f00:1::1", "6to4"),
    ("5f00::1", "SRv6 SID"),
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
    ("::ffff:10.0.0.1", "IPv4-mapped private"),
    ("::ffff:169.254.169.254", "IPv4-mapped metadata"),
    ("::127.0.0.1", "IPv4-compatible loopback"),
    ("::10.1.2.3", "IPv4-compatible private"),
    ("::ffff:0:127.0.0.1", "SIIT-translated loopback"),
    ("64:ff9b::127.0.0.1", "NAT64 of loopback"),
    ("64:ff9b::192.168.0.1", "NAT64 of private"),
    ("64:ff9b:1::8.8.8.8", "local-use NAT64"),
]

ALLOWED = [
    ("8.8.8.8", "public v4"),
    ("93.184.216.34", "public v4"),
    ("100.63.255.255", "just below CGNAT"),
    ("100.128.0.0", "just above CGNAT"),
    ("172.15.255.255", "just below 172.16/12"),
    ("172.32.0.0", "just above 172.16/12"),
    ("169.253.255.255", "just below link-local"),
    ("2606:4700::1111", "public v6"),
    ("2a01:4f8::1", "public v6"),
    ("::ffff:8.8.8.8", "IPv4-mapped public"),
    ("64:ff9b::8.8.8.8", "NAT64 of a public address (DNS64 networks)"),
]


@pytest.mark.parametrize(("text", "why"), REFUSED, ids=[why for _, why in REFUSED])
def test_refused_addresses(text: str, why: str) -> None:
    assert is_public_address(ip_address(text)) is False


@pytest.mark.parametrize(("text", "why"), ALLOWED, ids=[why for _, why in ALLOWED])
def test_public_addresses(text: str, why: str) -> None:
    assert is_public_address(ip_address(text)) is True


def test_embedded_ipv4_forms() -> None:
    assert embedded_ipv4(IPv6Address("::ffff:127.0.0.1")) == IPv4Address("127.0.0.1")
    assert embedded_ipv4(IPv6Address("::7f00:1")) == IPv4Address("127.0.0.1")
    assert embedded_ipv4(IPv6Address("64:ff9b::a00:1")) == IPv4Address("10.0.0.1")
    assert embedded_ipv4(IPv6Address("2606:4700::1111")) is None


def test_parse_ip_takes_url_hosts() -> None:
    assert parse_ip("[::1]") == ip_address("::1")
    assert parse_ip("10.0.0.1") == ip_address("10.0.0.1")
    assert parse_ip("example.org") is None
    assert parse_ip("127.1") is None  # not canonical: left to the resolver, refused by the client


def test_policy_follows_the_configuration() -> None:
    assert policy_for(FederationConfig()) is is_public_address
    assert policy_for(FederationConfig(allow_private_addresses=True)) is allow_every_address
    assert allow_every_address(ip_address("127.0.0.1"))


class FakeResolver(AbstractResolver):
    """A DNS that answers from a table, as a rebinding attacker's DNS would."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for address in self.table[host]
        ]

    async def close(self) -> None:
        self.closed = True


async def test_resolver_drops_refused_addresses() -> None:
    inner = FakeResolver({"mixed.example": ["10.0.0.1", "93.184.216.34", "::1", "2a01:4f8::1"]})
    resolver = FilteringResolver(is_public_address, inner)
    results = await resolver.resolve("mixed.example", 443)
    assert [result["host"] for result in results] == ["93.184.216.34", "2a01:4f8::1"]
    await resolver.close()
    assert inner.closed


async def test_resolver_refuses_a_host_with_only_private_addresses() -> None:
    inner = FakeResolver({"rebind.example": ["127.0.0.1", "::ffff:192.168.0.1"], "none": []})
    resolver = FilteringResolver(is_public_address, inner)
    with pytest.raises(BlockedAddress) as caught:
        await resolver.resolve("rebind.example", 443)
    assert isinstance(caught.value, OSError)
    assert "127.0.0.1" in str(caught.value) and "rebind.example" in str(caught.value)
    with pytest.raises(BlockedAddress):
        await resolver.resolve("none", 443)


async def test_resolver_keeps_everything_under_the_permissive_policy() -> None:
    resolver = FilteringResolver(allow_every_address, FakeResolver({"lan": ["192.168.1.5"]}))
    assert [r["host"] for r in await resolver.resolve("lan", 80)] == ["192.168.1.5"]
