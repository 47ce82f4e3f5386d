"""The state of the node's link to its peers, read from the outbox log and delivery cursors.

It is read from the database, not from the delivery worker's memory, so that `maillage
status` in another process and the admin page tell the same story: what waits for which
server, since when, and what each server last answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.storage.models import DeliveryCursor
from node.storage.outbox import waiting_per_host

#: The link as a whole, from what the peers last did.
LINK_UP = "up"
LINK_DOWN = "down"
LINK_IDLE = "idle"


@dataclass(frozen=True, slots=True)
class HostQueue:
    """What waits for one destination server, and how it last answered."""

    host: str
    waiting: int
    oldest_waiting_since: datetime | None
    delivered: int
    given_up: int
    failures: int
    last_success_at: datetime | None
    last_status: int | None
    last_error: str
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class LinkReport:
    """The link state and every destination server's queue."""

    state: str
    hosts: list[HostQueue]

    @property
    def waiting(self) -> int:
        """Deliveries waiting on every server together."""
        return sum(host.waiting for host in self.hosts)

    @property
    def oldest_waiting_since(self) -> datetime | None:
        """When the oldest undelivered entry was logged, over every server."""
        dates = [host.oldest_waiting_since for host in self.hosts if host.oldest_waiting_since]
        return min(dates) if dates else None


async def link_report(sessions: async_sessionmaker[AsyncSession]) -> LinkReport:
    """Every server the node delivers to, with its queue, and the link state.

    The link is down when deliveries wait and every server they wait for failed its last
    attempt without any HTTP answer (no route, refused, timed out): the node cannot reach
    anyone. It is up when a server answered; idle when nothing waits.
    """
    async with sessions() as session:
        waiting = await waiting_per_host(session)
        cursors = {c.host: c for c in await session.scalars(select(DeliveryCursor))}
    hosts = [
        _host_queue(host, cursors.get(host), waiting.get(host, (0, None)))
        for host in sorted(set(cursors) | set(waiting))
    ]
    return LinkReport(_state(hosts), hosts)


async def retry_now(sessions: async_sessionmaker[AsyncSession], host: str | None = None) -> int:
    """End the backoff of every server (or of `host`) so that what waits for it is sent at
    once: the operator knows the link, or that peer, is back, and need not wait for the next
    retry, up to ten minutes away. The serving process sees it within a second. Returns how
    many servers were waiting for their next attempt."""
    waiting = DeliveryCursor.next_attempt_at.is_not(None)
    if host is not None:
        waiting = waiting & (DeliveryCursor.host == host)
    async with sessions.begin() as session:
        result = await session.execute(
            update(DeliveryCursor).where(waiting).values(next_attempt_at=None)
        )
    return int(result.rowcount or 0)


def _host_queue(
    host: str, cursor: DeliveryCursor | None, waiting: tuple[int, datetime | None]
) -> HostQueue:
    count, oldest = waiting
    if cursor is None:
        return HostQueue(host, count, oldest, 0, 0, 0, None, None, "", None)
    return HostQueue(
        host,
        count,
        oldest,
        cursor.delivered,
        cursor.given_up,
        cursor.failures,
        cursor.last_success_at,
        cursor.last_status,
        cursor.last_error,
        cursor.next_attempt_at,
    )


def _state(hosts: list[HostQueue]) -> str:
    behind = [host for host in hosts if host.waiting]
    if not behind:
        return LINK_IDLE
    unreachable = [host for host in behind if host.failures and host.last_status is None]
    return LINK_DOWN if len(unreachable) == len(behind) else LINK_UP
