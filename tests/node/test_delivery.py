"""Sending, end to end: the outbox log on a real SQLite file, the delivery worker, the real
federation client, and loopback "sink" inboxes that record every POST.

The worker is driven with `run_once()` and a clock the test moves by hand, so backoff and
pauses are checked without waiting. Sinks bind 127.0.0.1 on their own ports, so each sink is
its own destination host (`127.0.0.1:<port>`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.addresses import IPAddress
from federation.delivery.policy import GIVE_UP_AFTER, retry_delay
from federation.delivery.worker import WAITING_PEEK, DeliveryWorker
from federation.http import FederationClient
from instance_config import InstanceConfig
from node.convert.urls import actor_id as actor_url
from node.domain.actors import ActorKind
from node.services.federation.outbox import publish
from node.services.federation.signers import LocalSigners
from node.storage.actors import get_actor_of_kind
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.keyring import KeyRing
from node.storage.models import DeliveryCursor, Follow, LocalActor, OutboxEntry, RemoteActor
from node.storage.outbox import SqlDeliveryStore, append_to_outbox
from protocols.httpsig import read_signature
from protocols.integrity import verify_document
from tests.conftest import BASE_URL, config_for, initialise
from tests.testrig.postgres import free_port

VERSION = "0.1.0"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
SEED = 20261122


def loopback_only(address: IPAddress) -> bool:
    """127.0.0.1 and nothing else: the sinks are reachable, nothing else local is."""
    return address == IPv4Address("127.0.0.1")


class Clock:
    """The time as the worker and the client see it; only the test moves it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def set(self, when: datetime) -> None:
        self.now = when


# ----- sinks ----------------------------------------------------------------------------


@dataclass
class Post:
    """One POST as a sink received it, and what the sink answered."""

    path: str
    url: str
    headers: dict[str, str]
    raw: bytes
    body: dict[str, Any]
    at: datetime
    status: int

    @property
    def activity(self) -> str:
        return str(self.body["id"])

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Sink:
    """A loopback inbox server: answers `statuses` in turn (then 202) and records POSTs."""

    server: TestServer
    statuses: list[int]
    retry_after: str | None
    posts: list[Post] = field(default_factory=list)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def inbox(self, path: str = "/inbox") -> str:
        return f"http://{self.host}{path}"

    def accepted(self) -> list[str]:
        """Activity ids the sink acknowledged, in arrival order."""
        return [post.activity for post in self.posts if post.accepted]


Hold = Callable[[str], Awaitable[None]]
SinkFactory = Callable[..., Awaitable[Sink]]


@pytest.fixture
def make_sink(aiohttp_server: Any, clock: Clock) -> SinkFactory:
    """Start a sink; `port` reuses a port that was closed before, `hold` delays answers."""

    async def make(
        statuses: Iterable[int] = (),
        *,
        retry_after: str | None = None,
        port: int | None = None,
        hold: Hold | None = None,
    ) -> Sink:
        queue = list(statuses)
        posts: list[Post] = []

        async def inbox(request: web.Request) -> web.StreamResponse:
            raw = await request.read()
            if hold is not None:
                await hold(request.path)
            status = queue.pop(0) if queue else 202
            posts.append(
                Post(
                    path=request.path,
                    url=str(request.url),
                    headers=dict(request.headers),
                    raw=raw,
                    body=json.loads(raw),
                    at=clock(),
                    status=status,
                )
            )
            headers = {"Retry-After": retry_after} if retry_after and status >= 300 else {}
            return web.Response(status=status, text=f"status {status}", headers=headers)

        app = web.Application()
        app.router.add_post("/{path:.*}", inbox)
        server = await aiohttp_server(app, host="127.0.0.1", port=port)
        return Sink(server, queue, retry_after, posts)

    return make


# ----- the node -------------------------------------------------------------------------


@dataclass
class Node:
    """An initialised node's database, its territory actor, and what sending needs."""

    config: InstanceConfig
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    territory: LocalActor
    keyring: KeyRing

    @property
    def territory_uri(self) -> str:
        return actor_url(self.config, self.territory)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    config = config_for(tmp_path)
    await initialise(config)
    engine = make_engine(config.database.url)
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        territory = await get_actor_of_kind(session, ActorKind.TERRITORY)
    assert territory is not None
    yield Node(config, engine, sessions, territory, KeyRing())
    await engine.dispose()


@pytest.fixture
async def client(clock: Clock) -> AsyncIterator[FederationClient]:
    """The node's real outbound client, allowed to reach loopback over http; it signs with
    the test's clock."""
    async with FederationClient(
        BASE_URL, VERSION, policy=loopback_only, allow_http=True, clock=clock, total_timeout=10
    ) as started:
        yield started


#: the lease owner of the workers `make_worker` builds, for a test's own look at their store
THIS_PROCESS = "this-process"


def make_worker(
    node: Node,
    client: FederationClient,
    clock: Clock,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    parallel_hosts: int = 64,
) -> DeliveryWorker:
    store = SqlDeliveryStore(sessions or node.sessions, owner=THIS_PROCESS, clock=clock)
    signers = LocalSigners(sessions or node.sessions, KeyRing(), node.config)
    return DeliveryWorker(
        store, client, signers, clock, parallel_hosts=parallel_hosts, rng=random.Random(SEED)
    )


_numbers = itertools.count(1)


def activity(node: Node, kind: str, object_id: str) -> dict[str, Any]:
    """A public activity of the territory about one object."""
    number = next(_numbers)
    about: dict[str, Any] | str
    if kind == "Delete":
        about = {"id": object_id, "type": "Tombstone"}
    else:
        about = {"id": object_id, "type": "Note", "content": f"<p>version {number}</p>"}
    return {
        "@context": AS_CONTEXT,
        "id": f"{BASE_URL}/activities/{number}",
        "type": kind,
        "actor": node.territory_uri,
        "object": about,
        "to": [PUBLIC],
    }


async def log(
    node: Node, inboxes: Iterable[str], kind: str = "Create", object_id: str | None = None
) -> str:
    """Append one activity to the outbox log for these inboxes; returns its id."""
    document = activity(node, kind, object_id or f"{BASE_URL}/notes/{next(_numbers)}")
    async with node.sessions.begin() as session:
        await append_to_outbox(session, document, node.territory.id, inboxes, public=True)
    return str(document["id"])


async def cursor_of(node: Node, host: str) -> DeliveryCursor | None:
    async with node.sessions() as session:
        return await session.get(DeliveryCursor, host)


async def cursor_or_fail(node: Node, host: str) -> DeliveryCursor:
    cursor = await cursor_of(node, host)
    assert cursor is not None, f"no cursor for {host}"
    return cursor


def public_key_of(node: Node) -> Any:
    return node.keyring.keys_for(node.territory).rsa_private.public_key()


def verify(post: Post, node: Node) -> None:
    """The POST carries a valid signature by the territory, made at the time it was sent."""
    pending = read_signature("POST", post.url, post.headers, post.raw, post.at)
    assert pending.key_id == f"{node.territory_uri}#main-key"
    pending.verify(public_key_of(node))


# ----- 1. order and parallelism ---------------------------------------------------------


async def test_entries_to_one_host_arrive_in_log_order(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    # The third entry fails once: nothing after it may overtake it.
    sink = await make_sink([202, 202, 503])
    logged = [await log(node, [sink.inbox()]) for _ in range(5)]
    worker = make_worker(node, client, clock)

    assert await worker.run_once() == 1
    assert [post.activity for post in sink.posts] == logged[:3]
    assert sink.accepted() == logged[:2]

    clock.advance(timedelta(hours=1))
    await worker.run_once()
    assert sink.accepted() == logged
    assert [post.activity for post in sink.posts] == [*logged[:3], *logged[2:]]
    cursor = await cursor_or_fail(node, sink.host)
    assert cursor.delivered == 5 and cursor.failures == 0 and cursor.next_attempt_at is None


async def test_hosts_beyond_the_parallel_ones_get_everything_in_order(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    # Two hosts deliver at a time; the third waits its turn with only its first few
    # deliveries read ahead, and still gets all of them, in log order, once each.
    sinks = [await make_sink() for _ in range(3)]
    logged = [await log(node, [sink.inbox() for sink in sinks]) for _ in range(WAITING_PEEK + 3)]
    worker = make_worker(node, client, clock, parallel_hosts=2)

    assert await worker.run_once() == 3
    for sink in sinks:
        assert [post.activity for post in sink.posts] == logged
    assert await worker.run_once() == 0


async def test_different_hosts_are_delivered_concurrently(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    events: list[tuple[str, str]] = []
    inside: set[str] = set()
    both_inside = asyncio.Event()

    def slow(name: str) -> Hold:
        async def hold(path: str) -> None:
            """Answer only once the other sink has a request in flight too (or give up
            after a while, which the event order then shows)."""
            events.append(("enter", name))
            inside.add(name)
            if len(inside) == 2:
                both_inside.set()
            try:
                await asyncio.wait_for(both_inside.wait(), 5)
            except TimeoutError:
                pass
            events.append(("exit", name))

        return hold

    first = await make_sink(hold=slow("first"))
    second = await make_sink(hold=slow("second"))
    one = await log(node, [first.inbox()])
    two = await log(node, [second.inbox()])
    worker = make_worker(node, client, clock)

    assert await worker.run_once() == 2
    assert {kind for kind, _ in events[:2]} == {"enter"}, events
    assert {kind for kind, _ in events[2:]} == {"exit"}, events
    assert first.accepted() == [one] and second.accepted() == [two]


# ----- 2. shared inboxes ----------------------------------------------------------------


async def add_follower(
    node: Node, sink: Sink, username: str, *, shared: bool, accepted: bool = True
) -> str:
    uri = f"http://{sink.host}/users/{username}"
    async with node.sessions.begin() as session:
        session.add(
            RemoteActor(
                uri=uri,
                domain=sink.host,
                type="Person",
                username=username,
                inbox=f"{uri}/inbox",
                shared_inbox=sink.inbox("/inbox") if shared else None,
                raw=json.dumps({"id": uri, "type": "Person"}),
            )
        )
        session.add(
            Follow(
                follower_uri=uri,
                followed_uri=node.territory_uri,
                activity_uri=f"{uri}#follows/{username}",
                state="accepted" if accepted else "pending",
            )
        )
    return uri


async def test_publish_collapses_followers_onto_shared_inboxes(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    big = await make_sink()  # one server, five followers, a shared inbox
    small = await make_sink()  # a server without shared inbox: personal inboxes only
    for n in range(5):
        await add_follower(node, big, f"u{n}", shared=True)
    for n in range(3):
        await add_follower(node, small, f"v{n}", shared=False)
    await add_follower(node, small, "pending", shared=False, accepted=False)

    create = activity(node, "Create", f"{BASE_URL}/notes/shared")
    async with node.sessions.begin() as session:
        await publish(session, node.territory.id, node.territory_uri, create, to_followers=True)
    await make_worker(node, client, clock).run_once()

    assert [post.path for post in big.posts] == ["/inbox"]
    assert sorted(post.path for post in small.posts) == [
        "/users/v0/inbox",
        "/users/v1/inbox",
        "/users/v2/inbox",
    ]
    for post in [*big.posts, *small.posts]:
        proven = {key: value for key, value in post.body.items() if key != "proof"}
        assert proven == create and post.accepted
        # what travels carries the territory's own integrity proof (FEP-8b32)
        key = node.keyring.keys_for(node.territory).ed25519_private.public_key()
        verify_document(post.body, key)
        assert post.body["proof"]["verificationMethod"] == f"{node.territory_uri}#ed25519-key"


async def test_publish_to_personal_inboxes_when_asked(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    sink = await make_sink()
    followers = [await add_follower(node, sink, f"u{n}", shared=True) for n in range(2)]
    follow_accept = activity(node, "Accept", f"{followers[0]}#follows/u0")
    async with node.sessions.begin() as session:
        await publish(
            session,
            node.territory.id,
            node.territory_uri,
            follow_accept,
            to_followers=False,
            recipients=[followers[0]],
            shared_inboxes=False,
        )
    await make_worker(node, client, clock).run_once()
    assert [post.path for post in sink.posts] == ["/users/u0/inbox"]


async def test_an_update_reaches_every_personal_inbox_of_a_host(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    # One log entry with several targets on one host is not "several Updates": each
    # follower without shared inbox gets it, as they got the Create.
    sink = await make_sink()
    for n in range(3):
        await add_follower(node, sink, f"v{n}", shared=False)
    note = f"{BASE_URL}/notes/edited-for-personal-inboxes"
    for kind in ("Create", "Update"):
        document = activity(node, kind, note)
        async with node.sessions.begin() as session:
            await publish(
                session, node.territory.id, node.territory_uri, document, to_followers=True
            )
    await make_worker(node, client, clock).run_once()
    received = sorted((post.body["type"], post.path) for post in sink.posts if post.accepted)
    assert received == sorted(
        (kind, f"/users/v{n}/inbox") for kind in ("Create", "Update") for n in range(3)
    )
    cursor = await cursor_or_fail(node, sink.host)
    assert cursor.delivered == 6


# ----- 3. signatures --------------------------------------------------------------------


async def test_signatures_are_made_at_send_time(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    sink = await make_sink([503])
    other = await make_sink()
    entry = await log(node, [sink.inbox(), other.inbox("/users/x/inbox")])
    async with node.sessions() as session:
        stored = await session.scalar(select(OutboxEntry).where(OutboxEntry.activity_id == entry))
    assert stored is not None and "signature" not in stored.body.lower()
    worker = make_worker(node, client, clock)
    sent_first = clock()

    await worker.run_once()
    clock.advance(timedelta(hours=2))
    sent_again = clock()
    await worker.run_once()

    assert [post.status for post in sink.posts] == [503, 202]
    assert len(other.posts) == 1
    for post in [*sink.posts, *other.posts]:
        verify(post, node)
        assert post.raw.decode() == stored.body
    failed, retried = sink.posts
    assert failed.headers["Date"] == format_datetime(sent_first, usegmt=True)
    assert retried.headers["Date"] == format_datetime(sent_again, usegmt=True)
    assert failed.headers["Signature"] != retried.headers["Signature"]


# ----- 4. and 5. backoff ----------------------------------------------------------------


async def test_a_503_postpones_then_the_retry_delivers_once(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    sink = await make_sink([503, 202])
    entry = await log(node, [sink.inbox()])
    worker = make_worker(node, client, clock)
    store = SqlDeliveryStore(node.sessions, owner=THIS_PROCESS, clock=clock)
    started = clock()

    await worker.run_once()
    cursor = await cursor_or_fail(node, sink.host)
    assert cursor.last_target_id == 0
    assert cursor.failures == 1
    assert cursor.last_status == 503
    expected = started + retry_delay(1, None, random.Random(SEED))
    assert cursor.next_attempt_at == expected
    assert cursor.next_attempt_at > started

    # Not due a moment before that time, whatever the worker is asked.
    clock.set(expected - timedelta(seconds=1))
    assert sink.host not in await store.due_hosts(clock(), 100)
    assert await worker.run_once() == 0
    assert len(sink.posts) == 1

    clock.set(expected)
    assert sink.host in await store.due_hosts(clock(), 100)
    assert await worker.run_once() == 1
    assert [(post.activity, post.status) for post in sink.posts] == [(entry, 503), (entry, 202)]
    cursor = await cursor_or_fail(node, sink.host)
    assert cursor.last_target_id > 0 and cursor.failures == 0 and cursor.delivered == 1
    assert cursor.next_attempt_at is None

    clock.advance(timedelta(days=1))
    assert await worker.run_once() == 0
    assert len(sink.posts) == 2


async def test_backoff_grows_with_consecutive_failures(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    sink = await make_sink([500, 502, 503, 504])
    await log(node, [sink.inbox()])
    worker = make_worker(node, client, clock)
    replay = random.Random(SEED)
    for failures in range(1, 5):
        attempted = clock()
        await worker.run_once()
        cursor = await cursor_or_fail(node, sink.host)
        assert cursor.failures == failures
        assert cursor.next_attempt_at is not None
        assert cursor.next_attempt_at == attempted + retry_delay(failures, None, replay)
        clock.set(cursor.next_attempt_at)
    await worker.run_once()
    assert [post.status for post in sink.posts] == [500, 502, 503, 504, 202]


async def test_retry_after_is_honoured(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    sink = await make_sink([429], retry_after="120")
    entry = await log(node, [sink.inbox()])
    worker = make_worker(node, client, clock)
    started = clock()

    await worker.run_once()
    cursor = await cursor_or_fail(node, sink.host)
    assert cursor.failures == 1 and cursor.last_status == 429
    assert cursor.next_attempt_at is not None
    assert cursor.next_attempt_at >= started + timedelta(seconds=120)

    clock.set(started + timedelta(seconds=119))
    assert await worker.run_once() == 0
    clock.set(cursor.next_attempt_at)
    await worker.run_once()
    assert [(post.activity, post.status) for post in sink.posts] == [(entry, 429), (entry, 202)]


# ----- 6. permanent failures ------------------------------------------------------------


@pytest.mark.parametrize("refusal", [410, 403])
async def test_a_permanent_refusal_gives_the_entry_up(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory, refusal: int
) -> None:
    sink = await make_sink([refusal])
    refused = await log(node, [sink.inbox()])
    following = await log(node, [sink.inbox()])
    worker = make_worker(node, client, clock)

    await worker.run_once()
    assert [(post.activity, post.status) for post in sink.posts] == [
        (refused, refusal),
        (following, 202),
    ]
    cursor = await cursor_or_fail(node, sink.host)
    assert cursor.given_up == 1 and cursor.delivered == 1
    assert cursor.failures == 0 and cursor.next_attempt_at is None

    clock.advance(timedelta(days=1))
    assert await worker.run_once() == 0
    assert len(sink.posts) == 2


async def test_a_401_is_retried_not_given_up(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    # The client knocks twice (draft-cavage, then RFC 9421); both refused is a retry.
    sink = await make_sink([401, 401])
    entry = await log(node, [sink.inbox()])
    worker = make_worker(node, client, clock)

    await worker.run_once()
    cursor = await cursor_or_fail(node, sink.host)
    assert cursor.given_up == 0 and cursor.last_target_id == 0
    assert cursor.failures == 1 and cursor.last_status == 401
    assert cursor.next_attempt_at is not None and cursor.next_attempt_at > clock()

    clock.set(cursor.next_attempt_at)
    await worker.run_once()
    assert [post.status for post in sink.posts] == [401, 401, 202]
    assert sink.accepted() == [entry]
    cursor = await cursor_or_fail(node, sink.host)
    assert cursor.delivered == 1 and cursor.given_up == 0


# ----- 7. superseded entries ------------------------------------------------------------


async def test_only_the_delete_goes_after_updates_queued_while_down(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    sink = await make_sink([503])  # down for the first attempt
    note = f"{BASE_URL}/notes/edited-then-deleted"
    other = await log(node, [sink.inbox()], "Create", f"{BASE_URL}/notes/kept")
    worker = make_worker(node, client, clock)
    await worker.run_once()
    assert [post.status for post in sink.posts] == [503]

    await log(node, [sink.inbox()], "Update", note)
    await log(node, [sink.inbox()], "Update", note)
    delete = await log(node, [sink.inbox()], "Delete", note)

    clock.advance(timedelta(hours=1))
    await worker.run_once()
    assert sink.accepted() == [other, delete]
    assert [post.body["type"] for post in sink.posts] == ["Create", "Create", "Delete"]
    cursor = await cursor_or_fail(node, sink.host)
    assert cursor.delivered == 2 and cursor.given_up == 0

    clock.advance(timedelta(days=1))
    assert await worker.run_once() == 0


async def test_several_updates_send_only_the_last(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    sink = await make_sink()
    note = f"{BASE_URL}/notes/edited"
    create = await log(node, [sink.inbox()], "Create", note)
    await log(node, [sink.inbox()], "Update", note)
    await log(node, [sink.inbox()], "Update", note)
    last = await log(node, [sink.inbox()], "Update", note)
    await make_worker(node, client, clock).run_once()
    assert sink.accepted() == [create, last]


# ----- 8. outage guard ------------------------------------------------------------------


async def test_outage_guard_pauses_without_counting_failures(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    ports = [free_port() for _ in range(3)]
    hosts = [f"127.0.0.1:{port}" for port in ports]
    logged = {host: await log(node, [f"http://{host}/inbox"]) for host in hosts}
    worker = make_worker(node, client, clock)
    started = clock()

    await worker.run_once()
    assert worker.paused
    cursors = [await cursor_or_fail(node, host) for host in hosts]
    assert all(cursor.last_target_id == 0 for cursor in cursors)
    assert not all(cursor.failures for cursor in cursors)
    tripped = [cursor for cursor in cursors if cursor.failures == 0]
    assert tripped
    pause_end = tripped[0].next_attempt_at
    assert pause_end is not None and pause_end > started

    # While paused nothing is tried, even for hosts whose backoff is over.
    clock.advance(timedelta(seconds=1))
    assert worker.paused
    assert await worker.run_once() == 0

    sinks = {host: await make_sink(port=port) for host, port in zip(hosts, ports, strict=True)}
    clock.set(pause_end)
    assert not worker.paused
    await worker.run_once()
    for cursor in tripped:
        assert sinks[cursor.host].accepted() == [logged[cursor.host]]

    latest = max(c.next_attempt_at for c in cursors if c.next_attempt_at is not None)
    clock.set(max(latest, pause_end))
    await worker.run_once()
    for host in hosts:
        assert sinks[host].accepted() == [logged[host]]
        cursor = await cursor_or_fail(node, host)
        assert cursor.delivered == 1 and cursor.failures == 0 and cursor.given_up == 0
    assert not worker.paused


async def test_an_offline_node_keeps_a_backlog_older_than_the_give_up_age(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    # The node was switched off for longer than GIVE_UP_AFTER and boots without network:
    # its own outage must not make it drop what it owes its peers.
    ports = [free_port() for _ in range(3)]
    hosts = [f"127.0.0.1:{port}" for port in ports]
    logged = {host: [await log(node, [f"http://{host}/inbox"]) for _ in range(2)] for host in hosts}
    clock.advance(GIVE_UP_AFTER + timedelta(days=3))
    worker = make_worker(node, client, clock)

    await worker.run_once()
    assert worker.paused
    for host in hosts:
        cursor = await cursor_or_fail(node, host)
        assert cursor.given_up == 0 and cursor.last_target_id == 0

    sinks = {host: await make_sink(port=port) for host, port in zip(hosts, ports, strict=True)}
    clock.advance(timedelta(minutes=5))
    await worker.run_once()
    for host in hosts:
        assert sinks[host].accepted() == logged[host]


async def test_an_old_entry_to_an_unreachable_host_is_given_up_while_others_answer(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    # The node is online (a peer just answered): a peer unreachable for longer than
    # GIVE_UP_AFTER is the peer's problem.
    up = await make_sink()
    down = f"127.0.0.1:{free_port()}"
    fresh = await log(node, [up.inbox()])
    worker = make_worker(node, client, clock)
    await worker.run_once()
    assert up.accepted() == [fresh]

    stale = await log(node, [f"http://{down}/inbox"])
    async with node.sessions.begin() as session:
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.activity_id == stale)
            .values(created_at=clock() - GIVE_UP_AFTER - timedelta(hours=1))
        )
    clock.advance(timedelta(seconds=10))
    await worker.run_once()
    cursor = await cursor_or_fail(node, down)
    assert cursor.given_up == 1 and cursor.failures == 0 and cursor.last_target_id > 0
    assert cursor.last_status is None and cursor.last_error
    assert not worker.paused


async def test_one_unreachable_host_is_not_an_outage(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    up = await make_sink()
    down = f"127.0.0.1:{free_port()}"
    await log(node, [up.inbox(), f"http://{down}/inbox"])
    worker = make_worker(node, client, clock)
    await worker.run_once()
    assert not worker.paused
    assert len(up.accepted()) == 1
    cursor = await cursor_or_fail(node, down)
    assert cursor.failures == 1 and cursor.last_status is None and cursor.last_error


# ----- 9. restart -----------------------------------------------------------------------


async def test_a_restarted_worker_sends_only_what_was_not_acknowledged(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    sink = await make_sink([202, 202, 503])
    other = await make_sink()
    logged = [await log(node, [sink.inbox(), other.inbox()]) for _ in range(3)]
    await make_worker(node, client, clock).run_once()
    assert sink.accepted() == logged[:2]
    assert other.accepted() == logged
    await node.engine.dispose()  # the process dies; only the database file remains

    engine = make_engine(node.config.database.url)
    try:
        sessions = make_sessionmaker(engine)
        logged.append(await log(node, [sink.inbox(), other.inbox()]))
        clock.advance(timedelta(hours=1))
        async with FederationClient(
            BASE_URL, VERSION, policy=loopback_only, allow_http=True, clock=clock
        ) as fresh_client:
            await make_worker(node, fresh_client, clock, sessions).run_once()
    finally:
        await engine.dispose()

    assert sink.accepted() == logged
    assert other.accepted() == logged
    assert [post.activity for post in sink.posts] == [*logged[:3], *logged[2:]]


# ----- 10. give up by age ---------------------------------------------------------------


async def test_an_entry_older_than_the_give_up_age_is_given_up(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    sink = await make_sink([503, 503])
    old = await log(node, [sink.inbox()])
    fresh = await log(node, [sink.inbox()])
    async with node.sessions.begin() as session:
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.activity_id == old)
            .values(created_at=clock() - GIVE_UP_AFTER - timedelta(minutes=1))
        )
    worker = make_worker(node, client, clock)

    await worker.run_once()
    # The old entry failed once more and was dropped; the fresh one failing is only postponed.
    assert [(post.activity, post.status) for post in sink.posts] == [(old, 503), (fresh, 503)]
    cursor = await cursor_or_fail(node, sink.host)
    assert cursor.given_up == 1 and cursor.delivered == 0
    assert cursor.failures == 1 and cursor.next_attempt_at is not None

    clock.set(cursor.next_attempt_at)
    await worker.run_once()
    assert sink.accepted() == [fresh]


async def test_an_old_entry_is_still_delivered_when_the_host_answers(
    node: Node, client: FederationClient, clock: Clock, make_sink: SinkFactory
) -> None:
    sink = await make_sink()
    old = await log(node, [sink.inbox()])
    clock.advance(GIVE_UP_AFTER * 2)
    await make_worker(node, client, clock).run_once()
    assert sink.accepted() == [old]
    cursor = await cursor_or_fail(node, sink.host)
    assert cursor.delivered == 1 and cursor.given_up == 0
