"""The one outbound HTTP client against real aiohttp servers on loopback.

Everything local is loopback, which the public-only policy refuses: tests that must reach a
server use a policy allowing 127.0.0.1 (and allow_http); refusal tests use the public-only
policy and check that no request reached any server.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from ipaddress import IPv4Address
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from federation.addresses import IPAddress, allow_every_address, is_public_address
from federation.http import (
    ACCEPT_ACTIVITY,
    FederationClient,
    FetchDenied,
    FetchGone,
    FetchInvalid,
    FetchNotFound,
    FetchRefused,
    FetchUnavailable,
    parse_acct,
    parse_retry_after,
)
from federation.signing import Signer
from instance_config import FederationConfig, InstanceConfig
from protocols.httpsig import SignatureError, read_signature
from protocols.keys import generate_actor_keys
from tests.federation.test_addresses import FakeResolver

BASE_URL = "https://saint-x.example"
VERSION = "0.1.0"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def loopback_only(address: IPAddress) -> bool:
    """127.0.0.1 and nothing else: lets tests reach their servers, refuses 127.0.0.2."""
    return address == IPv4Address("127.0.0.1")


def both_loopbacks(address: IPAddress) -> bool:
    return address in (IPv4Address("127.0.0.1"), IPv4Address("127.0.0.2"))


@pytest.fixture(scope="module")
def actor() -> tuple[Signer, RSAPublicKey]:
    pair = generate_actor_keys()
    signer = Signer.from_pem("https://saint-x.example/actor#main-key", pair.rsa_private_pem)
    return signer, signer.private_key.public_key()


@pytest.fixture
def signer(actor: tuple[Signer, RSAPublicKey]) -> Signer:
    return actor[0]


@pytest.fixture
def public_key(actor: tuple[Signer, RSAPublicKey]) -> RSAPublicKey:
    return actor[1]


@dataclass
class Seen:
    """A request as the server received it."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Peer:
    """A loopback server whose routes are plain handlers; it records every request."""

    server: TestServer
    seen: list[Seen] = field(default_factory=list)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


PeerFactory = Callable[..., Awaitable[Peer]]


@pytest.fixture
def make_peer(aiohttp_server: Any) -> PeerFactory:
    async def make(routes: dict[str, Handler], host: str = "127.0.0.1") -> Peer:
        seen: list[Seen] = []

        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            body = await request.read()
            seen.append(Seen(request.method, str(request.url), dict(request.headers), body))
            return await handler(request)

        app = web.Application(middlewares=[record])
        for path, handler in routes.items():
            app.router.add_route("*", path, handler)
        server = await aiohttp_server(app, host=host)
        return Peer(server, seen)

    return make


@pytest.fixture
async def client() -> AsyncIterator[FederationClient]:
    """Reaches 127.0.0.1 over http; signs at a pinned time."""
    async with FederationClient(
        BASE_URL, VERSION, policy=loopback_only, allow_http=True, clock=lambda: NOW
    ) as started:
        yield started


@pytest.fixture
async def public_client() -> AsyncIterator[FederationClient]:
    """The production policy: public addresses only (http allowed, to isolate the policy)."""
    async with FederationClient(
        BASE_URL, VERSION, policy=is_public_address, allow_http=True, clock=lambda: NOW
    ) as started:
        yield started


def activity_json(document: Any, content_type: str = "application/activity+json") -> web.Response:
    return web.Response(body=json.dumps(document).encode(), content_type=content_type)


def serve_self(content_type: str = "application/activity+json") -> Handler:
    """A handler serving a Person whose id is the URL it was requested at."""

    async def handler(request: web.Request) -> web.StreamResponse:
        document = {"@context": AS_CONTEXT, "id": str(request.url), "type": "Person"}
        return web.Response(
            body=json.dumps(document).encode(), headers={"Content-Type": content_type}
        )

    return handler


def status(code: int, **headers: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=code, text=f"status {code}", headers=headers)

    return handler


def redirect(location: str | Callable[[], str], code: int = 302) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        target = location() if callable(location) else location
        return web.Response(status=code, headers={"Location": target})

    return handler


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ----- lifecycle ------------------------------------------------------------------------


async def test_client_must_be_started() -> None:
    client = FederationClient(BASE_URL, VERSION)
    with pytest.raises(RuntimeError, match="not started"):
        await client.fetch_document("https://example.org/x", None)
    await client.start()
    await client.start()  # idempotent
    await client.close()
    await client.close()


def test_from_config_follows_the_federation_section(
    make_config: Callable[..., InstanceConfig],
) -> None:
    strict = FederationClient.from_config(make_config(), VERSION)
    assert strict.user_agent == f"Maillage/{VERSION} (+{BASE_URL})"
    assert strict._policy is is_public_address and not strict._allow_http
    lan = FederationClient.from_config(
        make_config(federation={"allow_private_addresses": True}), VERSION
    )
    assert lan._policy is allow_every_address and lan._allow_http


async def test_blocked_domains_are_refused_before_any_request(make_peer: PeerFactory) -> None:
    peer = await make_peer({"/actor": serve_self()})
    config = FederationConfig(blocked_domains=("127.0.0.1",))
    async with FederationClient(
        BASE_URL,
        VERSION,
        policy=loopback_only,
        allow_http=True,
        domain_allowed=config.is_domain_allowed,
    ) as client:
        with pytest.raises(FetchRefused, match="blocked"):
            await client.fetch_document(peer.url("/actor"), None)
    assert peer.seen == []


# ----- fetch_document -------------------------------------------------------------------


async def test_signed_get_verifies_on_the_server(
    make_peer: PeerFactory, client: FederationClient, signer: Signer, public_key: RSAPublicKey
) -> None:
    verified: list[str] = []

    async def actor(request: web.Request) -> web.StreamResponse:
        pending = read_signature("GET", str(request.url), request.headers, None, NOW)
        try:
            pending.verify(public_key)
        except SignatureError as error:
            return web.Response(status=401, text=str(error))
        verified.append(pending.key_id)
        return await serve_self()(request)

    peer = await make_peer({"/users/alice": actor})
    url = peer.url("/users/alice")
    document = await client.fetch_document(url, signer)
    assert document["id"] == url
    assert verified == [signer.key_id]
    headers = peer.seen[0].headers
    assert headers["Accept"] == ACCEPT_ACTIVITY
    assert headers["User-Agent"] == f"Maillage/{VERSION} (+{BASE_URL})"
    assert 'headers="(request-target) host date accept"' in headers["Signature"]
    assert 'algorithm="rsa-sha256"' in headers["Signature"]


async def test_unsigned_get_has_no_signature(
    make_peer: PeerFactory, client: FederationClient
) -> None:
    peer = await make_peer({"/note": serve_self()})
    await client.fetch_document(peer.url("/note"), None)
    assert "Signature" not in peer.seen[0].headers


@pytest.mark.parametrize(
    "content_type",
    [
        "application/activity+json",
        "application/activity+json; charset=utf-8",
        f'application/ld+json; profile="{AS_CONTEXT}"',
        "application/ld+json",
    ],
)
async def test_activitystreams_content_types_are_accepted(
    make_peer: PeerFactory, client: FederationClient, content_type: str
) -> None:
    peer = await make_peer({"/note": serve_self(content_type)})
    assert (await client.fetch_document(peer.url("/note"), None))["type"] == "Person"


@pytest.mark.parametrize("content_type", ["application/json", "text/html", "image/png"])
async def test_other_content_types_are_refused(
    make_peer: PeerFactory, client: FederationClient, content_type: str
) -> None:
    peer = await make_peer({"/upload.json": serve_self(content_type)})
    with pytest.raises(FetchInvalid, match="expected application/activity"):
        await client.fetch_document(peer.url("/upload.json"), None)


async def test_id_must_be_the_url_served_from(
    make_peer: PeerFactory, client: FederationClient
) -> None:
    async def impostor(request: web.Request) -> web.StreamResponse:
        return activity_json({"id": "https://victim.example/users/admin", "type": "Person"})

    async def no_id(request: web.Request) -> web.StreamResponse:
        return activity_json({"type": "Person"})

    peer = await make_peer({"/impostor": impostor, "/no-id": no_id})
    with pytest.raises(FetchInvalid, match=re.escape("victim.example")):
        await client.fetch_document(peer.url("/impostor"), None)
    with pytest.raises(FetchInvalid, match="not the URL"):
        await client.fetch_document(peer.url("/no-id"), None)


async def test_a_fragment_is_not_part_of_the_compared_id(
    make_peer: PeerFactory, client: FederationClient
) -> None:
    peer = await make_peer({"/users/alice": serve_self()})
    document = await client.fetch_document(peer.url("/users/alice") + "#main-key", None)
    assert document["id"] == peer.url("/users/alice")


async def test_bodies_that_are_not_a_json_object_are_invalid(
    make_peer: PeerFactory, client: FederationClient
) -> None:
    async def garbage(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"<html>", content_type="application/activity+json")

    async def array(request: web.Request) -> web.StreamResponse:
        return activity_json([1, 2])

    peer = await make_peer({"/garbage": garbage, "/array": array})
    with pytest.raises(FetchInvalid, match="not valid JSON"):
        await client.fetch_document(peer.url("/garbage"), None)
    with pytest.raises(FetchInvalid, match="not an object"):
        await client.fetch_document(peer.url("/array"), None)


@pytest.mark.parametrize(
    "body",
    [b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 800 + b"1" + b"}" * 800, b"[" * 65 + b"]" * 65],
    ids=["array 10000 deep", "object 800 deep", "array 65 deep"],
)
async def test_deeply_nested_bodies_are_invalid(
    make_peer: PeerFactory, client: FederationClient, body: bytes
) -> None:
    def deep(content_type: str) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(body=body, content_type=content_type)

        return handler

    peer = await make_peer(
        {
            "/deep": deep("application/activity+json"),
            "/.well-known/webfinger": deep("application/jrd+json"),
        }
    )
    with pytest.raises(FetchInvalid, match="nested deeper than 64 levels"):
        await client.fetch_document(peer.url("/deep"), None)
    with pytest.raises(FetchInvalid, match="nested deeper than 64 levels"):
        await client.webfinger(f"alice@127.0.0.1:{peer.server.port}")


async def test_links_that_are_not_http_are_dropped_from_fetched_documents(
    make_peer: PeerFactory, client: FederationClient
) -> None:
    async def hostile(request: web.Request) -> web.StreamResponse:
        return activity_json(
            {
                "@context": AS_CONTEXT,
                "id": str(request.url),
                "type": "Person",
                "url": " JaVaScRiPt:alert(1)",
                "icon": {"type": "Image", "url": "data:text/html,<script>alert(1)</script>"},
                "image": {"type": "Image", "url": "https://p.example/banner.png"},
                "attachment": ["vbscript:msgbox(1)", "https://p.example/a"],
            }
        )

    peer = await make_peer({"/users/mallory": hostile})
    document = await client.fetch_document(peer.url("/users/mallory"), None)
    assert "url" not in document and document["icon"] == {"type": "Image"}
    assert document["image"]["url"] == "https://p.example/banner.png"
    assert document["attachment"] == ["https://p.example/a"]


async def test_oversize_bodies_are_refused(
    make_peer: PeerFactory, client: FederationClient
) -> None:
    big = json.dumps({"id": "x", "padding": "a" * 2_000_000}).encode()

    async def declared(request: web.Request) -> web.StreamResponse:
        return web.Response(body=big, content_type="application/activity+json")

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/activity+json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, len(big), 65536):
                await response.write(big[start : start + 65536])
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as it should
        return response

    peer = await make_peer({"/declared": declared, "/chunked": chunked})
    with pytest.raises(FetchInvalid, match="larger than 1000000 bytes"):
        await client.fetch_document(peer.url("/declared"), None)
    with pytest.raises(FetchInvalid, match="larger than 1000000 bytes"):
        await client.fetch_document(peer.url("/chunked"), None)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (404, FetchNotFound),
        (410, FetchGone),
        (401, FetchDenied),
        (403, FetchDenied),
        (400, FetchInvalid),
        (500, FetchUnavailable),
        (502, FetchUnavailable),
        (429, FetchUnavailable),
    ],
)
async def test_statuses_map_to_typed_errors(
    make_peer: PeerFactory, client: FederationClient, code: int, error: type[Exception]
) -> None:
    peer = await make_peer({"/x": status(code)})
    with pytest.raises(error) as caught:
        await client.fetch_document(peer.url("/x"), None)
    assert type(caught.value) is error
    assert caught.value.status == code  # type: ignore[attr-defined]
    assert str(code) in str(caught.value) and peer.url("/x") in str(caught.value)


async def test_unavailable_carries_retry_after(
    make_peer: PeerFactory, client: FederationClient
) -> None:
    peer = await make_peer({"/busy": status(503, **{"Retry-After": "60"})})
    with pytest.raises(FetchUnavailable) as caught:
        await client.fetch_document(peer.url("/busy"), None)
    assert caught.value.retry_after == 60.0


async def test_timeout_is_unavailable(make_peer: PeerFactory) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.wait_for(release.wait(), 5)
        return await serve_self()(request)

    peer = await make_peer({"/slow": slow})
    async with FederationClient(
        BASE_URL, VERSION, policy=loopback_only, allow_http=True, total_timeout=0.3
    ) as client:
        with pytest.raises(FetchUnavailable, match=re.escape("did not answer within 0.3 seconds")):
            await client.fetch_document(peer.url("/slow"), None)
    release.set()


async def test_network_error_is_unavailable(client: FederationClient) -> None:
    with pytest.raises(FetchUnavailable, match="could not connect"):
        await client.fetch_document(f"http://127.0.0.1:{closed_port()}/actor", None)


# ----- redirects ------------------------------------------------------------------------


async def test_redirect_on_the_same_host_is_followed_and_resigned(
    make_peer: PeerFactory, client: FederationClient, signer: Signer, public_key: RSAPublicKey
) -> None:
    async def checked(request: web.Request) -> web.StreamResponse:
        read_signature("GET", str(request.url), request.headers, None, NOW).verify(public_key)
        return await serve_self()(request)

    peer = await make_peer({"/@alice": redirect("/users/alice", 301), "/users/alice": checked})
    document = await client.fetch_document(peer.url("/@alice"), signer)
    assert document["id"] == peer.url("/users/alice")
    assert [seen.url for seen in peer.seen] == [peer.url("/@alice"), peer.url("/users/alice")]


async def test_redirected_document_must_carry_the_final_url(
    make_peer: PeerFactory, client: FederationClient
) -> None:
    async def claims_old(request: web.Request) -> web.StreamResponse:
        return activity_json({"id": str(request.url.with_path("/old"))})

    peer = await make_peer({"/old": redirect("/new"), "/new": claims_old})
    with pytest.raises(FetchInvalid, match="not the URL it was served from"):
        await client.fetch_document(peer.url("/old"), None)


async def test_too_many_redirects(make_peer: PeerFactory, client: FederationClient) -> None:
    peer = await make_peer(
        {f"/{n}": redirect(f"/{n + 1}") for n in range(5)} | {"/5": serve_self()}
    )
    with pytest.raises(FetchInvalid, match="more than 3 redirects"):
        await client.fetch_document(peer.url("/0"), None)
    assert len(peer.seen) == 4  # the first request and 3 redirects
    assert (await client.fetch_document(peer.url("/2"), None))["id"] == peer.url("/5")


@pytest.mark.parametrize(
    "target",
    [
        "http://[::1]:{port}/actor",
        "http://[::ffff:127.0.0.1]:{port}/actor",
        "http://[fc00::1]:{port}/actor",
        "http://[fe80::1]:{port}/actor",
        "http://10.0.0.1:{port}/actor",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:{port}/actor",
    ],
)
async def test_redirects_to_private_addresses_are_refused(
    make_peer: PeerFactory, client: FederationClient, target: str
) -> None:
    peer = await make_peer({"/actor": redirect(target.format(port=closed_port()))})
    with pytest.raises((FetchRefused, FetchInvalid)):  # the name: refused as another host
        await client.fetch_document(peer.url("/actor"), None)
    assert len(peer.seen) == 1


async def test_redirect_to_a_refused_address_is_refused(
    make_peer: PeerFactory, client: FederationClient
) -> None:
    elsewhere = await make_peer({"/actor": serve_self()}, host="127.0.0.2")
    peer = await make_peer({"/actor": redirect(elsewhere.url("/actor"))})
    with pytest.raises(FetchRefused, match=re.escape("127.0.0.2")):
        await client.fetch_document(peer.url("/actor"), None)
    assert len(peer.seen) == 1
    assert elsewhere.seen == []


async def test_redirect_to_another_allowed_host_is_not_followed(
    make_peer: PeerFactory,
) -> None:
    elsewhere = await make_peer({"/actor": serve_self()}, host="127.0.0.2")
    peer = await make_peer({"/actor": redirect(elsewhere.url("/actor"))})
    async with FederationClient(
        BASE_URL, VERSION, policy=both_loopbacks, allow_http=True
    ) as client:
        with pytest.raises(FetchInvalid, match="another host"):
            await client.fetch_document(peer.url("/actor"), None)
        assert elsewhere.seen == []
        # the same URL is fine when asked for directly
        assert await client.fetch_document(elsewhere.url("/actor"), None)


async def test_redirect_to_http_is_refused_without_allow_http(make_peer: PeerFactory) -> None:
    peer = await make_peer({"/actor": serve_self()})
    async with FederationClient(BASE_URL, VERSION, policy=loopback_only) as client:
        with pytest.raises(FetchRefused, match="only https"):
            await client.fetch_document(peer.url("/actor"), None)
    assert peer.seen == []


# ----- address policy -------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["10.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "169.254.169.254", "127.0.0.1", "0.0.0.0"],
)
async def test_literal_private_addresses_are_refused_without_connecting(
    make_peer: PeerFactory, public_client: FederationClient, signer: Signer, host: str
) -> None:
    peer = await make_peer({"/{tail:.*}": serve_self()})
    url = f"http://{host}:{peer.server.port}/latest/meta-data"
    with pytest.raises(FetchRefused, match="may not reach"):
        await public_client.fetch_document(url, signer)
    outcome = await public_client.post_activity(url, b"{}", signer)
    assert outcome.refused and outcome.status is None and "may not reach" in (outcome.error or "")
    assert peer.seen == []


@pytest.mark.parametrize("host", ["localhost", "2130706433", "127.1", "0x7f.1"])
async def test_names_and_numeric_forms_of_loopback_are_refused(
    make_peer: PeerFactory, public_client: FederationClient, host: str
) -> None:
    peer = await make_peer({"/actor": serve_self()})
    with pytest.raises(FetchRefused):
        await public_client.fetch_document(f"http://{host}:{peer.server.port}/actor", None)
    assert peer.seen == []


async def test_the_resolver_checks_the_address_connected_to(make_peer: PeerFactory) -> None:
    peer = await make_peer({"/actor": serve_self()})
    dns = FakeResolver({"peer.test": ["127.0.0.1", "::1"]})
    async with FederationClient(
        BASE_URL, VERSION, policy=loopback_only, allow_http=True, resolver=dns
    ) as client:
        url = f"http://peer.test:{peer.server.port}/actor"
        assert (await client.fetch_document(url, None))["id"] == url
    # The same name under the public policy: the resolved address is refused.
    async with FederationClient(
        BASE_URL, VERSION, allow_http=True, resolver=FakeResolver({"peer.test": ["127.0.0.1"]})
    ) as client:
        with pytest.raises(FetchRefused, match=re.escape("127.0.0.1")):
            await client.fetch_document(f"http://peer.test:{peer.server.port}/actor", None)
    assert dns.closed
    assert len(peer.seen) == 1


class RebindingResolver(FakeResolver):
    """An attacker's DNS: an allowed address for the first answer, a refused one after."""

    def __init__(self, host: str, first: str, then: str) -> None:
        super().__init__({host: [first]})
        self.host, self.then, self.answers = host, then, 0

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> Any:
        self.answers += 1
        found = await super().resolve(host, port, family)
        self.table[self.host] = [self.then]
        return found


async def test_an_answer_that_changes_after_the_first_check_is_checked_again(
    make_peer: PeerFactory,
) -> None:
    """DNS rebinding: the address checked is the address connected to, at every connection,
    so a name that moves to a refused address after one good answer reaches nothing."""

    async def serve_and_close(request: web.Request) -> web.StreamResponse:
        response = await serve_self()(request)
        response.headers["Connection"] = "close"  # the next fetch opens a new connection
        return response

    peer = await make_peer({"/actor": serve_and_close})
    dns = RebindingResolver("rebind.test", first="127.0.0.1", then="127.0.0.2")
    async with FederationClient(
        BASE_URL, VERSION, policy=loopback_only, allow_http=True, resolver=dns
    ) as client:
        url = f"http://rebind.test:{peer.server.port}/actor"
        assert (await client.fetch_document(url, None))["id"] == url
        client._session.connector.clear_dns_cache()  # type: ignore[union-attr]  # TTL expired
        with pytest.raises(FetchRefused, match=re.escape("127.0.0.2")):
            await client.fetch_document(url, None)
    assert dns.answers == 2
    assert len(peer.seen) == 1


async def test_http_is_refused_without_allow_http(make_peer: PeerFactory, signer: Signer) -> None:
    peer = await make_peer({"/actor": serve_self(), "/inbox": status(202)})
    async with FederationClient(BASE_URL, VERSION, policy=allow_every_address) as client:
        with pytest.raises(FetchRefused, match="only https URLs"):
            await client.fetch_document(peer.url("/actor"), None)
        # WebFinger speaks https unless allow_http: a TLS handshake with an http server fails
        with pytest.raises(FetchUnavailable, match=re.escape("https://127.0.0.1")):
            await client.webfinger(f"alice@127.0.0.1:{peer.server.port}")
        outcome = await client.post_activity(peer.url("/inbox"), b"{}", signer)
        assert outcome.refused and "only https" in (outcome.error or "")
        for bad in ("ftp://example.org/x", "file:///etc/passwd", "https://user:pw@example.org/"):
            with pytest.raises(FetchRefused):
                await client.fetch_document(bad, None)
    assert peer.seen == []


# ----- WebFinger ------------------------------------------------------------------------


def jrd_handler(document: Any, content_type: str = "application/jrd+json") -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        return web.Response(body=body, headers={"Content-Type": content_type})

    return handler


ALICE_JRD = {
    "subject": "acct:alice@peer",
    "links": [
        {
            "rel": "http://webfinger.net/rel/profile-page",
            "type": "text/html",
            "href": "https://p/@a",
        },
        {"rel": "self", "type": "text/html", "href": "https://p/not-this"},
        {
            "rel": "self",
            "type": f'application/ld+json; profile="{AS_CONTEXT}"',
            "href": "https://p/users/alice",
        },
    ],
}


@pytest.mark.parametrize("form", ["acct:alice@{domain}", "alice@{domain}", "@alice@{domain}"])
async def test_webfinger_finds_the_actor(
    make_peer: PeerFactory, client: FederationClient, form: str
) -> None:
    peer = await make_peer({"/.well-known/webfinger": jrd_handler(ALICE_JRD)})
    domain = f"127.0.0.1:{peer.server.port}"
    assert await client.webfinger(form.format(domain=domain)) == "https://p/users/alice"
    seen = peer.seen[0]
    assert seen.url == f"http://{domain}/.well-known/webfinger?resource=acct:alice@{domain}"
    assert seen.headers["Accept"] == "application/jrd+json, application/json"
    assert "Signature" not in seen.headers


async def test_webfinger_accepts_activity_json_links_and_plain_json(
    make_peer: PeerFactory, client: FederationClient
) -> None:
    jrd = {"links": [{"rel": "self", "type": "application/activity+json", "href": "https://p/u/b"}]}
    peer = await make_peer({"/.well-known/webfinger": jrd_handler(jrd, "application/json")})
    assert await client.webfinger(f"bob@127.0.0.1:{peer.server.port}") == "https://p/u/b"


async def test_webfinger_follows_a_redirect_to_another_host(make_peer: PeerFactory) -> None:
    web_domain = await make_peer(
        {"/.well-known/webfinger": jrd_handler(ALICE_JRD)}, host="127.0.0.2"
    )

    async def moved(request: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently(
            web_domain.url("/.well-known/webfinger") + "?" + request.query_string
        )

    peer = await make_peer({"/.well-known/webfinger": moved})
    domain = f"127.0.0.1:{peer.server.port}"
    async with FederationClient(
        BASE_URL, VERSION, policy=both_loopbacks, allow_http=True
    ) as client:
        assert await client.webfinger(f"alice@{domain}") == "https://p/users/alice"
    async with FederationClient(BASE_URL, VERSION, policy=loopback_only, allow_http=True) as client:
        with pytest.raises(FetchRefused):
            await client.webfinger(f"alice@{domain}")
    assert len(web_domain.seen) == 1


@pytest.mark.parametrize(
    ("answer", "content_type", "message"),
    [
        (b"not json at all", "application/jrd+json", "not valid JSON"),
        (b"[]", "application/jrd+json", "not an object"),
        ({"links": "nope"}, "application/jrd+json", "no ActivityPub actor"),
        ({"subject": "acct:alice@x"}, "application/jrd+json", "no ActivityPub actor"),
        (
            {"links": [{"rel": "self", "type": "text/html", "href": "https://p/"}]},
            "application/jrd+json",
            "no ActivityPub actor",
        ),
        (
            {"links": [{"rel": "self", "type": "application/ld+json", "href": "https://p/"}]},
            "application/jrd+json",
            "no ActivityPub actor",
        ),
        (
            {"links": [{"rel": "self", "type": "application/activity+json", "href": 42}]},
            "application/jrd+json",
            "no ActivityPub actor",
        ),
        (
            {
                "links": [
                    {
                        "rel": "self",
                        "type": "application/activity+json",
                        "href": "javascript:alert(1)",
                    }
                ]
            },
            "application/jrd+json",
            "no ActivityPub actor",
        ),
        (ALICE_JRD, "text/html", "expected application/jrd"),
    ],
)
async def test_webfinger_garbage_is_invalid(
    make_peer: PeerFactory, client: FederationClient, answer: Any, content_type: str, message: str
) -> None:
    peer = await make_peer({"/.well-known/webfinger": jrd_handler(answer, content_type)})
    with pytest.raises(FetchInvalid, match=message):
        await client.webfinger(f"alice@127.0.0.1:{peer.server.port}")


async def test_webfinger_unknown_account(make_peer: PeerFactory, client: FederationClient) -> None:
    peer = await make_peer({"/.well-known/webfinger": status(404)})
    with pytest.raises(FetchNotFound):
        await client.webfinger(f"nobody@127.0.0.1:{peer.server.port}")


def test_parse_acct() -> None:
    assert parse_acct("acct:alice@Example.ORG.") == ("alice", "example.org")
    assert parse_acct("@alice@host:8443") == ("alice", "host:8443")
    assert parse_acct(" alice@[::1]:80 ") == ("alice", "[::1]:80")
    for bad in (
        "alice",
        "@example.org",
        "alice@",
        "a@b@c",
        "alice@host/x",
        "alice@h?x",
        "alice@h:x",
    ):
        with pytest.raises(FetchRefused):
            parse_acct(bad)


# ----- post_activity --------------------------------------------------------------------

ACTIVITY = json.dumps(
    {"@context": AS_CONTEXT, "id": f"{BASE_URL}/activities/1", "type": "Create"}
).encode()


def inbox(public_key: RSAPublicKey, accept: set[str], attempts: list[str]) -> Handler:
    """An inbox verifying signatures, answering 401 to the schemes it does not accept."""

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            pending = read_signature("POST", str(request.url), request.headers, body, NOW)
            pending.verify(public_key)
        except SignatureError as error:
            attempts.append("invalid")
            return web.Response(status=401, text=str(error))
        attempts.append(pending.scheme)
        if pending.scheme not in accept:
            return web.Response(status=401, text=f"{pending.scheme} signatures are not supported")
        return web.Response(status=202)

    return handler


async def test_post_activity_delivers_with_cavage(
    make_peer: PeerFactory, client: FederationClient, signer: Signer, public_key: RSAPublicKey
) -> None:
    attempts: list[str] = []
    peer = await make_peer({"/inbox": inbox(public_key, {"cavage"}, attempts)})
    outcome = await client.post_activity(peer.url("/inbox"), ACTIVITY, signer)
    assert outcome.ok and outcome.status == 202
    assert (outcome.error, outcome.retry_after, outcome.scheme, outcome.refused) == (
        None,
        None,
        "cavage",
        False,
    )
    seen = peer.seen[0]
    assert seen.body == ACTIVITY
    assert seen.headers["Content-Type"] == "application/activity+json"
    assert 'headers="(request-target) host date digest content-type"' in seen.headers["Signature"]
    assert seen.headers["Digest"].startswith("SHA-256=")
    assert "Signature-Input" not in seen.headers
    assert attempts == ["cavage"]


async def test_post_activity_double_knocks_and_remembers(
    make_peer: PeerFactory, client: FederationClient, signer: Signer, public_key: RSAPublicKey
) -> None:
    attempts: list[str] = []
    accepted = {"rfc9421"}
    peer = await make_peer({"/inbox": inbox(public_key, accepted, attempts)})
    first = await client.post_activity(peer.url("/inbox"), ACTIVITY, signer)
    assert first.ok and first.scheme == "rfc9421"
    assert attempts == ["cavage", "rfc9421"]
    assert "Content-Digest" in peer.seen[1].headers and "Digest" not in peer.seen[1].headers

    second = await client.post_activity(peer.url("/inbox"), ACTIVITY, signer)
    assert second.ok and second.scheme == "rfc9421"
    assert attempts == ["cavage", "rfc9421", "rfc9421"]  # started with what worked

    # The host downgrades: RFC 9421 refused, cavage accepted, and remembered again.
    accepted.clear()
    accepted.add("cavage")
    third = await client.post_activity(peer.url("/inbox"), ACTIVITY, signer)
    fourth = await client.post_activity(peer.url("/inbox"), ACTIVITY, signer)
    assert (third.scheme, fourth.scheme) == ("cavage", "cavage")
    assert attempts[3:] == ["rfc9421", "cavage", "cavage"]


async def test_post_activity_knocks_only_twice(
    make_peer: PeerFactory, client: FederationClient, signer: Signer, public_key: RSAPublicKey
) -> None:
    attempts: list[str] = []
    peer = await make_peer({"/inbox": inbox(public_key, set(), attempts)})
    outcome = await client.post_activity(peer.url("/inbox"), ACTIVITY, signer)
    assert not outcome.ok and outcome.status == 401 and outcome.scheme == "rfc9421"
    assert "rfc9421 signatures are not supported" in (outcome.error or "")
    assert "cavage first" in (outcome.error or "")
    assert attempts == ["cavage", "rfc9421"]
    # nothing worked, nothing remembered: the next delivery starts with cavage again
    await client.post_activity(peer.url("/inbox"), ACTIVITY, signer)
    assert attempts[2] == "cavage"


async def test_post_activity_does_not_knock_again_on_other_statuses(
    make_peer: PeerFactory, client: FederationClient, signer: Signer
) -> None:
    peer = await make_peer({"/inbox": status(403)})
    outcome = await client.post_activity(peer.url("/inbox"), ACTIVITY, signer)
    assert outcome.status == 403 and outcome.error == "the inbox answered 403 Forbidden: status 403"
    assert len(peer.seen) == 1


async def test_retry_after_seconds_and_http_date(
    make_peer: PeerFactory, client: FederationClient, signer: Signer
) -> None:
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    peer = await make_peer(
        {
            "/seconds": status(429, **{"Retry-After": "120"}),
            "/date": status(503, **{"Retry-After": later}),
            "/garbage": status(503, **{"Retry-After": "soon"}),
        }
    )
    seconds = await client.post_activity(peer.url("/seconds"), ACTIVITY, signer)
    assert (seconds.status, seconds.retry_after) == (429, 120.0)
    date = await client.post_activity(peer.url("/date"), ACTIVITY, signer)
    assert (date.status, date.retry_after) == (503, 90.0)
    garbage = await client.post_activity(peer.url("/garbage"), ACTIVITY, signer)
    assert (garbage.status, garbage.retry_after) == (503, None)


def test_parse_retry_after() -> None:
    assert parse_retry_after("0", NOW) == 0.0
    assert parse_retry_after(" 30 ", NOW) == 30.0
    assert parse_retry_after("Fri, 01 May 2026 12:02:00 GMT", NOW) == 120.0
    assert parse_retry_after("Fri, 01 May 2026 11:00:00 GMT", NOW) == 0.0  # past
    assert parse_retry_after("-5", NOW) is None
    assert parse_retry_after(None, NOW) is None


async def test_a_huge_error_answer_is_cut(
    make_peer: PeerFactory, client: FederationClient, signer: Signer
) -> None:
    async def chatty(request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text="oops " * 400_000)

    peer = await make_peer({"/inbox": chatty})
    outcome = await client.post_activity(peer.url("/inbox"), ACTIVITY, signer)
    assert outcome.status == 500
    assert outcome.error is not None and outcome.error.startswith("the inbox answered 500")
    assert len(outcome.error) < 400 and outcome.error.endswith("…")


async def test_network_error_is_an_outcome(client: FederationClient, signer: Signer) -> None:
    outcome = await client.post_activity(
        f"http://127.0.0.1:{closed_port()}/inbox", ACTIVITY, signer
    )
    assert outcome.status is None and outcome.retry_after is None and not outcome.refused
    assert outcome.error is not None and "could not connect to 127.0.0.1" in outcome.error
    assert outcome.scheme == "cavage"


async def test_post_timeout_is_an_outcome(make_peer: PeerFactory, signer: Signer) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.wait_for(release.wait(), 5)
        return web.Response(status=202)

    peer = await make_peer({"/inbox": slow})
    async with FederationClient(
        BASE_URL, VERSION, policy=loopback_only, allow_http=True, total_timeout=0.3
    ) as client:
        outcome = await client.post_activity(peer.url("/inbox"), ACTIVITY, signer)
    release.set()
    assert outcome.status is None and "did not answer" in (outcome.error or "")


async def test_another_port_is_another_host(
    make_peer: PeerFactory, client: FederationClient
) -> None:
    other = await make_peer({"/actor": serve_self()})
    peer = await make_peer({"/actor": redirect(other.url("/actor"))})
    with pytest.raises(FetchInvalid, match="another host"):
        await client.fetch_document(peer.url("/actor"), None)
    assert other.seen == []
