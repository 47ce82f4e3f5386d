"""Inbox limits on a real node with real signatures: a flooding host or actor is answered
429 with Retry-After and nothing past the limit is stored; a key is refetched at most once a
minute per actor; fetches towards one host are capped in number at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from federation.addresses import allow_every_address
from federation.http import FederationClient
from federation.limits import InboxLimits, TokenBuckets
from node.services.limits.refusals import RefusalLog
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.migrate import upgrade_database
from node.storage.models import InboxItem, Refusal
from node.web.app import create_app
from node.web.keys import runtime_key
from protocols.activitystreams import host_of
from tests.conftest import initialise
from tests.node.test_inbox import INBOX, count, note_create
from tests.testrig.remote import FakeRemote, signed_post


class Clock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def make_node(aiohttp_client: Any, make_config: Any, **limits: Any) -> Any:
    config = make_config(federation={"allow_private_addresses": True}, limits=limits)
    await initialise(config)
    return await aiohttp_client(create_app(config, workers=False))


async def test_a_flooding_host_is_answered_429_and_nothing_past_the_limit_is_stored(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    node = await make_node(
        aiohttp_client, make_config, inbox_host_per_minute=60, inbox_host_burst=3
    )
    clock = Clock()
    runtime = node.app[runtime_key]
    runtime.inbox_limits = InboxLimits(
        hosts=TokenBuckets(60, 3, clock=clock), actors=runtime.inbox_limits.actors
    )
    alice, bob = remote.add_actor("alice"), remote.add_actor("bob")  # one host, two actors
    answers = []
    for number in range(6):
        sender = (alice, bob)[number % 2]
        body, headers = signed_post(sender, INBOX, note_create(sender, number))
        answers.append(await node.post("/inbox", data=body, headers=headers))
    assert [answer.status for answer in answers] == [202, 202, 202, 429, 429, 429]
    refused = answers[3]
    assert refused.headers["Retry-After"] == "1"
    assert "too many activities from this host" in (await refused.json())["error"]
    assert await count(node, InboxItem) == 3
    assert len(remote.fetches) == 2, "the refused requests cost no key fetch"

    clock.now += 1.0  # one more activity a second
    body, headers = signed_post(bob, INBOX, note_create(bob, 99))
    assert (await node.post("/inbox", data=body, headers=headers)).status == 202
    assert await count(node, InboxItem) == 4
    totals = {(t.kind, t.key): t.count for t in await runtime.refusals.recent()}
    assert totals == {("inbox_host", host_of(remote.base)): 3}


async def test_a_flooding_actor_is_limited_without_its_neighbours(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    node = await make_node(
        aiohttp_client, make_config, inbox_actor_per_minute=1, inbox_actor_burst=2
    )
    alice, bob = remote.add_actor("alice"), remote.add_actor("bob")
    statuses = []
    for number in range(3):
        body, headers = signed_post(alice, INBOX, note_create(alice, number))
        statuses.append((await node.post("/inbox", data=body, headers=headers)).status)
    body, headers = signed_post(bob, INBOX, note_create(bob, 1))
    answer = await node.post("/inbox", data=body, headers=headers)
    assert statuses == [202, 202, 429] and answer.status == 202
    assert await count(node, InboxItem) == 3


async def test_a_key_is_refetched_at_most_once_a_minute_per_actor(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    node = await make_node(aiohttp_client, make_config)
    clock = Clock()
    node.app[runtime_key].remote.refetches.clock = clock
    frank = remote.add_actor("frank")

    async def post_rotated(number: int) -> int:
        frank.rotate_key()
        body, headers = signed_post(frank, INBOX, note_create(frank, number))
        return (await node.post("/inbox", data=body, headers=headers)).status

    body, headers = signed_post(frank, INBOX, note_create(frank, 0))
    assert (await node.post("/inbox", data=body, headers=headers)).status == 202
    assert await post_rotated(1) == 202  # one refetch
    assert await post_rotated(2) == 401  # a second within the minute: no fetch
    assert remote.fetches == [frank.uri, frank.uri]
    clock.now += 61
    assert await post_rotated(3) == 202
    assert len(remote.fetches) == 3


async def test_fetches_towards_one_host_are_capped_in_number_at_once(aiohttp_server: Any) -> None:
    in_flight, most, release = 0, 0, asyncio.Event()

    async def slow_actor(request: web.Request) -> web.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.wait_for(release.wait(), 10)
        in_flight -= 1
        document = {"id": str(request.url), "type": "Person"}
        return web.json_response(document, content_type="application/activity+json")

    app = web.Application()
    app.router.add_get("/users/{name}", slow_actor)
    server = await aiohttp_server(app)
    client = FederationClient(
        "https://saint-x.example",
        "0",
        policy=allow_every_address,
        allow_http=True,
        fetches_per_host=2,
    )
    async with client:
        fetches = [
            asyncio.create_task(client.fetch_document(str(server.make_url(f"/users/u{n}")), None))
            for n in range(6)
        ]
        for _ in range(100):  # until the first two are in the server
            if in_flight == 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # a third, if it were allowed, would arrive now
        assert in_flight == 2
        release.set()
        documents = await asyncio.gather(*fetches)
    assert most == 2 and len(documents) == 6


async def test_a_flood_of_refusals_becomes_one_counter_per_key_and_minute(
    database_url: str,
) -> None:
    engines = [make_engine(database_url), make_engine(database_url)]
    try:
        await upgrade_database(engines[0])
        minute = datetime(2026, 12, 9, 10, 30, tzinfo=UTC)
        logs = [RefusalLog(make_sessionmaker(engine), clock=lambda: minute) for engine in engines]
        for _ in range(1000):
            logs[0].note("inbox_host", "flood.example")
        logs[1].note("inbox_host", "flood.example")  # another process, the same minute
        assert await logs[0].flush() == 1 and await logs[1].flush() == 1
        assert await logs[0].flush() == 0, "nothing new: nothing written"
        async with make_sessionmaker(engines[0])() as session:
            rows = list(await session.scalars(select(Refusal)))
        assert [(row.key, row.count) for row in rows] == [("flood.example", 1001)]
        totals = await logs[1].recent()
        assert [(t.kind, t.count, t.last_at) for t in totals] == [("inbox_host", 1001, minute)]
    finally:
        for engine in engines:
            await engine.dispose()
