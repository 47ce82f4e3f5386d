"""Delivery hosts leased to one process at a time, on both backends (SQLite and a real
PostgreSQL): two stores with different owners stand for two processes on one database."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.http import DeliveryOutcome
from federation.ports import ReceivedActivity
from node.domain.actors import ActorKind
from node.storage.actors import get_actor_of_kind
from node.storage.base import utcnow
from node.storage.inbox import SqlInbox
from node.storage.models import DeliveryCursor
from node.storage.outbox import SqlDeliveryStore, append_to_outbox

LEASE = timedelta(seconds=30)
OK = DeliveryOutcome(202, None, None, "cavage")
HOSTS = [f"h{number}.example" for number in range(20)]


async def _log_to_every_host(sessions: async_sessionmaker[AsyncSession], count: int) -> None:
    async with sessions.begin() as session:
        territory = await get_actor_of_kind(session, ActorKind.TERRITORY)
        assert territory is not None
        for number in range(count):
            activity = {
                "id": f"https://saint-x.example/activities/{number}",
                "type": "Create",
                "object": {"id": f"https://saint-x.example/notes/{number}"},
                "to": [],
            }
            inboxes = [f"https://{host}/inbox" for host in HOSTS]
            await append_to_outbox(session, activity, territory.id, inboxes, public=True)


async def _cursor(sessions: async_sessionmaker[AsyncSession], host: str) -> DeliveryCursor:
    async with sessions() as session:
        found = await session.scalar(select(DeliveryCursor).where(DeliveryCursor.host == host))
        assert found is not None
        return found


async def test_a_host_is_one_process_s_until_its_lease_expires(
    node_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sessions = node_sessions
    await _log_to_every_host(sessions, 2)
    now: datetime = utcnow()
    first = SqlDeliveryStore(sessions, owner="first", lease=LEASE, clock=lambda: now)
    second = SqlDeliveryStore(sessions, owner="second", lease=LEASE, clock=lambda: now)

    # Both processes ask at once: every host goes to exactly one of them.
    got_first, got_second = await asyncio.gather(
        first.due_hosts(now, 1000), second.due_hosts(now, 1000)
    )
    assert sorted(got_first + got_second) == sorted(HOSTS)
    assert not set(got_first) & set(got_second)
    mine, theirs = (first, second) if got_first else (second, first)
    hosts = got_first or got_second
    assert await theirs.due_hosts(now, 1000) == []
    assert await theirs.pending_for_host(hosts[0], 10) == []
    assert sorted(await mine.due_hosts(now, 1000)) == sorted(hosts)  # renewed, not lost

    # Working renews the lease: the other process still cannot take the host.
    (entry, _) = await mine.pending_for_host(hosts[0], 10)
    in_flight = (await mine.pending_for_hosts([hosts[1]], 10))[hosts[1]]
    now += LEASE * 0.8
    await mine.advance(hosts[0], entry.target_id, delivered=1, answer=OK)
    now += LEASE * 0.8
    taken_over = await theirs.due_hosts(now, 1000)
    assert hosts[0] not in taken_over
    assert sorted(taken_over) == sorted(hosts[1:])  # these leases expired

    # The owner that lost a host moves its cursor no more (what it had in flight then), and
    # reads nothing more to send.
    assert not await mine.advance(hosts[1], in_flight[1].target_id, delivered=1, answer=OK)
    cursor = await _cursor(sessions, hosts[1])
    assert cursor.owner == theirs.owner and cursor.last_target_id == 0
    assert await mine.pending_for_host(hosts[1], 10) == []


async def test_a_stopping_process_gives_back_its_hosts_and_inbox_items_at_once(
    node_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sessions = node_sessions
    await _log_to_every_host(sessions, 1)
    now: datetime = utcnow()
    stopping = SqlDeliveryStore(sessions, owner="stopping", lease=LEASE, clock=lambda: now)
    other = SqlDeliveryStore(sessions, owner="other", lease=LEASE, clock=lambda: now)
    inbox = SqlInbox(sessions, owner="stopping", lease=LEASE, clock=lambda: now)
    next_inbox = SqlInbox(sessions, owner="next", lease=LEASE, clock=lambda: now)
    for number in range(3):
        activity = {"id": f"https://ailleurs.example/a/{number}", "type": "Like"}
        received = ReceivedActivity(
            activity["id"], "Like", "https://ailleurs.example/u", None, activity
        )
        await inbox.add_if_new(received)
    assert len(await stopping.due_hosts(now, 1000)) == len(HOSTS)
    assert len(await inbox.claim_due(now, 10)) == 3
    assert await other.due_hosts(now, 1000) == [] and await next_inbox.claim_due(now, 10) == []

    # A graceful stop releases only its own claims; the next process need not wait.
    assert await other.release_leases() == 0
    assert await stopping.release_leases() == len(HOSTS)
    assert await inbox.release_claims() == 3
    assert sorted(await other.due_hosts(now, 1000)) == sorted(HOSTS)
    assert len(await next_inbox.claim_due(now, 10)) == 3

    # At start on SQLite (one process ever), whatever an earlier run held is released.
    assert await stopping.release_leases(everyone=True) == len(HOSTS)
    assert await inbox.release_claims(everyone=True) == 3
