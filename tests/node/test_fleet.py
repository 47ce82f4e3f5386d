"""Several `maillage serve` processes on one real PostgreSQL: what arrives is applied once,
what is sent goes once to each inbox in order per host, and `kill -9` of a process loses
nothing (its leases expire and another process takes its work over).

The node runs as `maillage serve --workers 3` (real subprocesses sharing one port); the
remote actors and the 100 inbox hosts are served by this test on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from node.storage.base import utcnow
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.models import DeliveryCursor, Follow, InboxItem, Note, OutboxEntry, RemoteActor
from tests.testrig.nodes import eventually_async
from tests.testrig.postgres import PostgresServer, free_port
from tests.testrig.processes import run_maillage, start_maillage, stop, wait_until_serving
from tests.testrig.remote import FakeRemote, signed_post
from tests.testrig.sinks import Sinks

PROCESSES = 3
LEASE_SECONDS = 15
ACTIVITIES = 600
AUTHORS = 12
HOSTS = 100
PER_HOST = 10
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


class Fleet:
    """The node: its folder, database, address and the `serve --workers` process."""

    def __init__(
        self, root: Path, database_url: str, processes: int = PROCESSES, **env: str
    ) -> None:
        """Initialise the node on `database_url` (an asyncpg URL) and start serving it as
        `processes` processes; `env` adds MAILLAGE_* settings (e.g. limits) to theirs."""
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data = root / "fleet"
        self.territory = f"{self.base}/actors/territoire"
        self.engine: AsyncEngine = make_engine(database_url)
        result = run_maillage(
            "init",
            "--data",
            str(self.data),
            "--base-url",
            self.base,
            "--name",
            "Flotte",
            "--allow-private-addresses",
            "--database-url",
            database_url,
        )
        assert result.returncode == 0, result.stderr
        self.process = start_maillage(
            "serve",
            "--data",
            str(self.data),
            "--workers",
            str(processes),
            **({"MAILLAGE_DATABASE_LEASE_SECONDS": str(LEASE_SECONDS)} | env),
        )

    async def scalar(self, statement: Any) -> Any:
        async with make_sessionmaker(self.engine)() as session:
            return await session.scalar(statement)

    async def rows(self, statement: Any) -> list[Any]:
        async with make_sessionmaker(self.engine)() as session:
            return list(await session.execute(statement))


@contextlib.asynccontextmanager
async def running_fleet(
    postgres_server: PostgresServer, root: Path, processes: int = PROCESSES, **env: str
) -> AsyncIterator[Fleet]:
    """A Fleet on a new database of `postgres_server`, serving until the block ends; then
    stopped with SIGTERM, which must end it cleanly."""
    url = postgres_server.create_database(f"fleet_{uuid.uuid4().hex[:10]}")
    node = Fleet(root, url, processes, **env)
    try:
        await asyncio.to_thread(wait_until_serving, node.base, node.process)
        yield node
    finally:
        code, _out, err = await asyncio.to_thread(stop, node.process)
        await node.engine.dispose()
    assert code == 0, err[-3000:]


@pytest.fixture
async def fleet(postgres_server: PostgresServer, tmp_path: Path) -> AsyncIterator[Fleet]:
    async with running_fleet(postgres_server, tmp_path) as node:
        yield node


def _create_note(author: str, serial: int, territory: str) -> dict[str, Any]:
    note = f"{author}/statuses/{serial}"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note}/activity",
        "type": "Create",
        "actor": author,
        "to": [PUBLIC],
        "cc": [territory],
        "object": {
            "id": note,
            "type": "Note",
            "attributedTo": author,
            "to": [PUBLIC],
            "cc": [territory],
            "content": f"<p>Message {serial} pour le territoire</p>",
            "published": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "tag": [{"type": "Mention", "href": territory}],
        },
    }


async def _post_all(fleet: Fleet, remote: FakeRemote) -> Counter[int]:
    """ACTIVITIES signed Create(Note) posted at once (50 in flight) to the shared inbox."""
    authors = [remote.add_actor(f"a{number}") for number in range(AUTHORS)]
    inbox = f"{fleet.base}/inbox"
    requests = [
        signed_post(
            authors[serial % AUTHORS],
            inbox,
            _create_note(authors[serial % AUTHORS].uri, serial, fleet.territory),
        )
        for serial in range(ACTIVITIES)
    ]
    return await post_signed(inbox, requests, in_flight=50)


async def post_signed(
    inbox: str,
    requests: list[tuple[bytes, dict[str, str]]],
    *,
    in_flight: int,
    connection_each: bool = False,
) -> Counter[int]:
    """POST the signed requests to `inbox`, `in_flight` at once (each on a new connection
    with `connection_each`: they then spread over the processes); the answers' statuses."""
    statuses: Counter[int] = Counter()
    slots = asyncio.Semaphore(in_flight)
    connector = aiohttp.TCPConnector(force_close=connection_each)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def send(body: bytes, headers: dict[str, str]) -> None:
            async with slots, session.post(inbox, data=body, headers=headers) as answer:
                await answer.read()
                statuses[answer.status] += 1

        await asyncio.gather(*(send(body, headers) for body, headers in requests))
    return statuses


async def test_three_processes_apply_each_activity_once_through_kill_9(
    fleet: Fleet, remote: FakeRemote
) -> None:
    statuses = await _post_all(fleet, remote)
    assert statuses == Counter({202: ACTIVITIES})

    # kill -9 the process holding the most claims while the items are being applied.
    claims = await fleet.rows(
        select(InboxItem.claimed_by, func.count())
        .where(InboxItem.claimed_by.is_not(None))
        .group_by(InboxItem.claimed_by)
        .order_by(func.count().desc())
    )
    if claims:  # (on a fast machine everything may already be applied)
        os.kill(int(claims[0][0].split(":")[1]), signal.SIGKILL)

    async def settled() -> bool:
        due = InboxItem.state.in_(("pending", "held"))
        return not await fleet.scalar(select(func.count()).where(due))

    await eventually_async(settled, "every activity applied", within=120)
    outcomes = dict(
        await fleet.rows(
            select(InboxItem.note, func.count()).group_by(InboxItem.state, InboxItem.note)
        )
    )
    # Applied once each: a post the killed process had stored but not yet marked is found
    # "already known" by the process that took the item over; nothing fails or repeats.
    assert set(outcomes) <= {"post stored", "post already known"}, outcomes
    assert sum(outcomes.values()) == ACTIVITIES
    assert await fleet.scalar(select(func.max(InboxItem.attempts))) == 1
    assert await fleet.scalar(select(func.count()).select_from(Note)) == ACTIVITIES
    await asyncio.to_thread(wait_until_serving, fleet.base, fleet.process)


async def _insert_followers(fleet: Fleet, ports: list[int]) -> None:
    async with make_sessionmaker(fleet.engine).begin() as session:
        for port in ports:
            for index in range(PER_HOST):
                uri = f"http://127.0.0.1:{port}/users/f{index}"
                session.add(
                    RemoteActor(
                        uri=uri,
                        domain=f"127.0.0.1:{port}",
                        type="Person",
                        username=f"f{index}",
                        inbox=f"{uri}/inbox",
                        raw="{}",
                    )
                )
                session.add(
                    Follow(
                        follower_uri=uri,
                        followed_uri=fleet.territory,
                        activity_uri=f"{uri}/follows/1",
                        state="accepted",
                        accepted_at=utcnow(),
                    )
                )


async def test_a_fan_out_survives_kill_9_of_the_process_sending_it(fleet: Fleet) -> None:
    # The sinks answer the first 300 POSTs, then hold the answers: whoever sends then has
    # deliveries in flight on its hosts when it is killed.
    sinks = await Sinks(hold_after=300).start(HOSTS)
    try:
        await _insert_followers(fleet, sinks.ports)
        for text_ in ("Première annonce", "Deuxième annonce"):
            done = await asyncio.to_thread(
                run_maillage, "announce", text_, "--data", str(fleet.data)
            )
            assert done.returncode == 0, done.stderr
        announced = [
            row[0] for row in await fleet.rows(select(OutboxEntry.activity_id).order_by("seq"))
        ]
        assert len(announced) == 2
        await eventually_async(lambda: len(sinks.posts) > 300, "deliveries under way", within=60)

        # kill -9 the process that holds the most hosts, with deliveries in flight.
        owners = await fleet.rows(
            select(DeliveryCursor.owner, func.count())
            .where(DeliveryCursor.owner.is_not(None))
            .group_by(DeliveryCursor.owner)
            .order_by(func.count().desc())
        )
        victim = owners[0][0]
        os.kill(int(victim.split(":")[1]), signal.SIGKILL)
        in_flight = {(inbox, activity) for inbox, activity, _ in sinks.posts[300:]}
        sinks.gate.set()

        expected = {(f"{host}/inbox", a) for host in _inboxes(sinks) for a in announced}
        await eventually_async(
            lambda: sinks.pairs() >= expected,
            lambda: f"every inbox has both announcements ({len(sinks.pairs())}/{len(expected)})",
            within=120,
        )
        assert sinks.pairs() == expected
        assert all(signed for *_, signed in sinks.posts)
        for inbox in {i for i, _ in expected}:
            assert sinks.first_arrivals(inbox) == announced, inbox  # in log order per host
        # The only repeats are deliveries that were in flight when the process was killed
        # (their answers were held, so their cursors had not moved): sent once more each by
        # the process that took the host over once the lease expired, nothing else.
        repeats = sinks.repeats()
        assert set(repeats.values()) <= {2}
        assert set(repeats) <= in_flight
        taken_over = await fleet.scalar(select(func.count()).where(DeliveryCursor.owner == victim))
        assert taken_over == 0
        delivered = await fleet.scalar(select(func.sum(DeliveryCursor.delivered)))
        assert delivered >= len(expected)
        # The parent restarted the killed process: the node still serves.
        await asyncio.to_thread(wait_until_serving, fleet.base, fleet.process)
    finally:
        await sinks.close()


def _inboxes(sinks: Sinks) -> list[str]:
    return [f"http://127.0.0.1:{port}/users/f{i}" for port in sinks.ports for i in range(PER_HOST)]


async def test_serve_refuses_several_processes_on_sqlite(tmp_path: Path) -> None:
    result = await asyncio.to_thread(
        run_maillage, "serve", "--data", str(tmp_path / "solo"), "--workers", "2"
    )
    assert result.returncode == 2
    assert "--workers 2 needs PostgreSQL" in result.stderr
