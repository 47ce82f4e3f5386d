"""Background workers survive the database: a real node server (its inbox and delivery
workers running, as under `maillage serve`) receives a stream of signed activities while the
database fails under it: another SQLite connection holds the write lock for longer than the
node's busy timeout, or the PostgreSQL server restarts. Afterwards the whole backlog is
applied, the failure was logged, /healthz said which worker was stuck, and a new announcement
still reaches a follower."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from federation.inbox.worker import InboxWorker, Outcome
from instance_config import InstanceConfig
from node.services.federation.announcements import announce
from node.storage.base import utcnow
from node.storage.engine import SQLITE_BUSY_TIMEOUT_MS
from node.storage.errors import is_database_unavailable
from node.storage.models import InboxItem
from node.web.app import create_app
from node.web.keys import inbox_store_key, runtime_key, sessions_key
from tests.conftest import BASE_URL, initialise
from tests.node.test_inbox import note_create
from tests.testrig.faults import SqliteWriteLock
from tests.testrig.nodes import eventually_async
from tests.testrig.postgres import PostgresServer
from tests.testrig.remote import AS, FakeRemote, RemoteActorDoc, signed_post

TERRITORY = f"{BASE_URL}/actors/territoire"
INBOX = f"{BASE_URL}/inbox"
#: Longer than the node's SQLite busy timeout, so that its writes fail, not merely wait.
LOCK_HELD_SECONDS = SQLITE_BUSY_TIMEOUT_MS / 1000 + 1.5
#: Longer than the busy timeout twice: a group commit that fails is tried once more, write
#: by write (node/storage/group_commit.py), before its writers see the error.
GROUP_LOCK_HELD_SECONDS = 2 * SQLITE_BUSY_TIMEOUT_MS / 1000 + 1.5
#: Activities in one stream, from this many remote senders.
STREAM, SENDERS = 600, 4
#: Requests the stream keeps in flight.
IN_FLIGHT = 16
#: How long the test waits for the backlog to drain after the fault is over.
DRAIN_WAIT = 60.0


async def served_node(aiohttp_client: Any, config: InstanceConfig) -> TestClient:
    """The node's real application with its workers running, on a loopback port."""
    await initialise(config)
    return await aiohttp_client(create_app(config))


async def post(node: TestClient, actor: RemoteActorDoc, activity: dict[str, Any]) -> int:
    body, headers = signed_post(actor, INBOX, activity)
    response = await node.post("/inbox", data=body, headers=headers)
    return response.status


async def deliver_stream(
    node: TestClient, posts: list[tuple[bytes, dict[str, str]]], in_flight: int = IN_FLIGHT
) -> Counter[int]:
    """POST every signed activity as a fediverse server would: a few at a time, each retried
    on 5xx and 401 (Mastodon's "salvageable" answers) a bounded number of times; returns the
    final statuses."""
    gate = asyncio.Semaphore(in_flight)

    async def one(body: bytes, headers: dict[str, str]) -> int:
        async with gate:
            status = 0
            for _ in range(60):
                response = await node.post("/inbox", data=body, headers=headers)
                status = response.status
                response.release()
                if status < 500 and status != 401:
                    break
                await asyncio.sleep(0.25)
            return status

    return Counter(await asyncio.gather(*(one(body, headers) for body, headers in posts)))


def stream_of_notes(actors: list[RemoteActorDoc], count: int) -> list[tuple[bytes, dict[str, str]]]:
    """Signed Create(Note) activities mentioning the territory, round robin over `actors`."""
    return [
        signed_post(actors[n % len(actors)], INBOX, note_create(actors[n % len(actors)], 1000 + n))
        for n in range(count)
    ]


async def inbox_states(node: TestClient) -> Counter[str]:
    """How many received activities are in each state (pending, applied, ...)."""
    async with node.app[sessions_key]() as session:
        rows = await session.execute(
            select(InboxItem.state, func.count()).group_by(InboxItem.state)
        )
        return Counter({state: int(number) for state, number in rows})


async def follow_the_territory(
    node: TestClient, remote: FakeRemote, follower: RemoteActorDoc
) -> None:
    """`follower` follows the territory; returns once the node's Accept reached it."""
    follow = {
        "@context": AS,
        "id": f"{follower.uri}/follows/1",
        "type": "Follow",
        "actor": follower.uri,
        "object": TERRITORY,
    }
    assert await post(node, follower, follow) == 202
    await eventually_async(
        lambda: received(remote, follower, "Accept"), "the Accept of the follow", within=20
    )


def received(remote: FakeRemote, follower: RemoteActorDoc, kind: str) -> list[dict[str, Any]]:
    """Activities of type `kind` that the fake remote received for `follower`."""
    return [
        post["body"]
        for post in remote.received
        if post["path"] == f"/users/{follower.username}/inbox" and post["body"]["type"] == kind
    ]


async def announcement_reaches(
    node: TestClient, remote: FakeRemote, follower: RemoteActorDoc, text: str
) -> None:
    """A new announcement of the territory is delivered to the follower."""
    note = await announce(node.app[runtime_key], text)

    def delivered() -> bool:
        return any(
            activity["object"]["id"] == note.uri
            for activity in received(remote, follower, "Create")
        )

    await eventually_async(delivered, f"the announcement {note.uri} at the follower", within=30)


def worker_failures(caplog: pytest.LogCaptureFixture, worker: str) -> list[Any]:
    """Log records of a worker's failed passes."""
    return [
        record
        for record in caplog.records
        if getattr(record, "worker", None) == worker and record.levelname in ("WARNING", "ERROR")
    ]


async def healthz(node: TestClient, **query: str) -> tuple[int, Any]:
    response = await node.get("/healthz", params=query)
    return response.status, await response.json()


async def backlog_applied(node: TestClient, expected: int) -> None:
    """Wait until `expected` activities are applied (or ignored) and none waits or failed."""
    states: Counter[str] = Counter()

    async def done() -> bool:
        states.clear()
        states.update(await inbox_states(node))
        settled = states["applied"] + states["ignored"]
        return settled >= expected and not (states["pending"] or states["failed"])

    await eventually_async(done, lambda: f"the backlog to be applied: {dict(states)}", DRAIN_WAIT)


@pytest.fixture
async def sqlite_node(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> tuple[TestClient, Path]:
    """A served node on a SQLite file that may reach the fake remote; and that file."""
    config = make_config(federation={"allow_private_addresses": True})
    node = await served_node(aiohttp_client, config)
    return node, Path(config.database.url.split("///", 1)[1])


@pytest.mark.parametrize("repetition", range(3))
async def test_the_workers_go_on_after_the_write_lock_was_held(
    sqlite_node: tuple[TestClient, Path],
    remote: FakeRemote,
    caplog: pytest.LogCaptureFixture,
    repetition: int,
) -> None:
    node, database = sqlite_node
    follower = remote.add_actor("follower")
    await follow_the_territory(node, remote, follower)
    senders = [remote.add_actor(f"sender{n}") for n in range(SENDERS)]
    for n, sender in enumerate(senders):  # their keys are fetched once, before the stream
        assert await post(node, sender, note_create(sender, n)) == 202
    posts = stream_of_notes(senders, STREAM)
    # The other writer strikes while the inbox worker has a backlog to apply.
    lock = SqliteWriteLock(
        database,
        LOCK_HELD_SECONDS,
        when="SELECT count(*) >= 20 FROM inbox_items WHERE state = 'pending'",
    ).start()
    intake = asyncio.ensure_future(deliver_stream(node, posts))
    await eventually_async(lock.taken.is_set, "the other writer to take the lock", within=60)

    async def inbox_reported_stuck() -> Any:
        status, body = await healthz(node, stall_after="1")
        return status == 503 and body

    stuck = await eventually_async(
        inbox_reported_stuck, "/healthz to report the stuck inbox worker", within=30
    )
    assert not lock.released.is_set(), "the lock was released before /healthz saw the stall"
    inbox = stuck["workers"]["inbox"]
    assert inbox["pending"] > 0 and inbox["seconds_without_progress"] >= 1, stuck

    statuses = await intake
    await asyncio.get_running_loop().run_in_executor(None, lock.join)
    assert statuses == Counter({202: STREAM}), statuses
    await backlog_applied(node, STREAM + SENDERS + 1)
    assert worker_failures(caplog, "inbox"), "the inbox worker's failure was not logged"
    assert await healthz(node) == (200, {"status": "ok", "database": "ok"})
    await announcement_reaches(node, remote, follower, f"Après le verrou, essai {repetition}.")


async def test_the_delivery_worker_goes_on_when_its_cursor_cannot_be_written(
    sqlite_node: tuple[TestClient, Path],
    remote: FakeRemote,
    caplog: pytest.LogCaptureFixture,
) -> None:
    node, database = sqlite_node
    follower = remote.add_actor("follower")
    await follow_the_territory(node, remote, follower)
    # The other writer takes the lock as soon as the announcement is logged; the follower
    # answers its delivery only then, so the worker's cursor move meets the lock.
    lock = SqliteWriteLock(
        database,
        GROUP_LOCK_HELD_SECONDS,
        when="SELECT count(*) FROM outbox_entries WHERE type = 'Create'",
    ).start()
    remote.before_answer = lambda: eventually_async(lock.taken.is_set, "the lock", within=30)
    first = await announce(node.app[runtime_key], "Pendant le verrou.")

    async def delivery_reported_stuck() -> Any:
        status, body = await healthz(node, stall_after="1")
        return status == 503 and "delivery" in body.get("workers", {}) and body

    stuck = await eventually_async(delivery_reported_stuck, "/healthz to report it", within=30)
    assert not lock.released.is_set(), "the lock was released before /healthz saw the stall"
    assert stuck["workers"]["delivery"]["pending"] == 1, stuck
    await asyncio.get_running_loop().run_in_executor(None, lock.join)

    await announcement_reaches(node, remote, follower, "Après le verrou.")
    copies = [a for a in received(remote, follower, "Create") if a["object"]["id"] == first.uri]
    assert 1 <= len(copies) <= 2, copies  # sent again at most once: its cursor had not moved
    assert worker_failures(caplog, "delivery"), "the delivery worker's failure was not logged"
    assert await healthz(node) == (200, {"status": "ok", "database": "ok"})


async def test_an_activity_is_failed_for_its_own_error_but_kept_for_the_databases(
    aiohttp_client: Any, make_config: Any, remote: FakeRemote
) -> None:
    config = make_config(federation={"allow_private_addresses": True})
    await initialise(config)
    node = await aiohttp_client(create_app(config, workers=False))
    calls: list[str] = []

    async def broken(activity: dict[str, Any]) -> Outcome:
        calls.append(activity["id"])
        if activity["id"].endswith("/1"):
            raise KeyError("a bug in the handler")
        raise OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is full"))

    worker = InboxWorker(
        node.app[inbox_store_key], {"Create": broken}, utcnow, unavailable=is_database_unavailable
    )
    sender = remote.add_actor("sender")
    for number in (1, 2):
        assert await post(node, sender, note_create(sender, number)) == 202
    with pytest.raises(OperationalError):
        await worker.run_once()
    assert await inbox_states(node) == Counter({"failed": 1, "pending": 1})  # kept for later
    assert len(calls) == 2


async def test_the_workers_go_on_after_postgresql_restarted(
    aiohttp_client: Any,
    make_config: Any,
    remote: FakeRemote,
    postgres_server: PostgresServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = postgres_server.create_database(f"restart_{uuid.uuid4().hex[:12]}")
    config = make_config(
        database={"url": url.replace("+asyncpg", "")}, federation={"allow_private_addresses": True}
    )
    node = await served_node(aiohttp_client, config)
    follower = remote.add_actor("follower")
    await follow_the_territory(node, remote, follower)
    senders = [remote.add_actor(f"sender{n}") for n in range(SENDERS)]
    for n, sender in enumerate(senders):
        assert await post(node, sender, note_create(sender, n)) == 202
    intake = asyncio.ensure_future(deliver_stream(node, stream_of_notes(senders, STREAM)))

    async def backlog_waiting() -> bool:
        return (await inbox_states(node))["pending"] >= 20

    await eventually_async(backlog_waiting, "a backlog for the inbox worker", within=60)
    # While the intake goes on, the server stops (its clients are cut off), stays down a
    # few seconds and starts again.
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, functools.partial(postgres_server.restart, down_seconds=3))

    statuses = await intake
    assert statuses == Counter({202: STREAM}), statuses
    await backlog_applied(node, STREAM + SENDERS + 1)
    assert worker_failures(caplog, "inbox"), "the inbox worker's failure was not logged"
    assert worker_failures(caplog, "delivery"), "the delivery worker's failure was not logged"
    assert await healthz(node) == (200, {"status": "ok", "database": "ok"})
    await announcement_reaches(node, remote, follower, "Après le redémarrage de PostgreSQL.")


@pytest.mark.parametrize("value", ["0", "abc", "nan", "1e9", "-5"])
async def test_healthz_refuses_a_stall_limit_out_of_bounds(client: TestClient, value: str) -> None:
    status, body = await healthz(client, stall_after=value)
    assert status == 400 and "stall_after" in body["error"]
