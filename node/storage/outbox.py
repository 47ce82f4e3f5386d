"""The outbox log and per-host delivery cursors (implements federation's DeliveryStore)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.delivery.worker import PendingDelivery
from federation.http import DeliveryOutcome
from node.storage.base import UTCDateTime, utcnow
from node.storage.dialects import insert_or_ignore
from node.storage.group_commit import GroupCommitter
from node.storage.leases import DEFAULT_LEASE, process_identity
from node.storage.models import DeliveryCursor, OutboxEntry, OutboxTarget
from protocols.activitystreams import host_of

#: Advisory lock id serialising outbox appends on PostgreSQL ("MAILLAGE" in hex-ish).
OUTBOX_LOCK = 0x4D41494C


async def append_to_outbox(
    session: AsyncSession,
    activity: dict[str, Any],
    actor_id: str,
    inboxes: Iterable[str],
    *,
    public: bool,
) -> OutboxEntry:
    """Log an activity and the inboxes it goes to, in the caller's transaction."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Cursors skip every target id at or below them, so ids must become visible in
        # order: one outbox writer at a time until commit (SQLite has one writer anyway).
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_LOCK})
    entry = OutboxEntry(
        activity_id=activity["id"],
        type=activity["type"],
        object_id=_object_id(activity),
        actor_id=actor_id,
        body=json.dumps(activity, ensure_ascii=False, separators=(",", ":")),
        public=public,
    )
    session.add(entry)
    await session.flush()
    targets = [
        {"seq": entry.seq, "host": host_of(inbox), "inbox": inbox}
        for inbox in dict.fromkeys(inboxes)
    ]
    if targets:  # one executemany, not an ORM object per follower
        await session.execute(insert(OutboxTarget), targets)
    return entry


def _object_id(activity: dict[str, Any]) -> str | None:
    value = activity.get("object")
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


CURSORS = DeliveryCursor.__table__


def _pending(host: str, row: Any) -> PendingDelivery:
    """A delivery from a row of target and entry columns (not ORM entities: a fan-out reads
    thousands of them)."""
    return PendingDelivery(
        target_id=row.id,
        host=host,
        inbox=row.inbox,
        activity_id=row.activity_id,
        type=row.type,
        object_id=row.object_id,
        actor_id=row.actor_id,
        body=row.body.encode("utf-8"),
        logged_at=row.created_at,
    )


#: One cursor move (parameters merged per host by SqlDeliveryStore.advance). It renews the
#: host's lease, and only the lease holder moves the cursor, never backwards: a process that
#: lost the host (it stalled past its lease) cannot undo what the new owner delivered.
MOVE_CURSOR = text(
    "UPDATE delivery_cursors SET last_target_id = :target, failures = 0,"
    " next_attempt_at = NULL, delivered = delivered + :delivered,"
    " given_up = given_up + :given_up,"
    " last_status = COALESCE(:status, last_status),"
    " last_error = COALESCE(:error, last_error),"
    " last_success_at = COALESCE(:success_at, last_success_at),"
    " lease_until = :lease_until"
    " WHERE host = :host AND owner = :owner AND last_target_id < :target"
).bindparams(
    bindparam("lease_until", type_=UTCDateTime()),
    bindparam("owner", type_=String()),
    bindparam("target", type_=BigInteger()),
    bindparam("delivered", type_=BigInteger()),
    bindparam("given_up", type_=BigInteger()),
    bindparam("status", type_=Integer()),
    bindparam("error", type_=Text()),
    bindparam("success_at", type_=UTCDateTime()),
    bindparam("host", type_=String()),
)


class SqlDeliveryStore:
    """Cursors advance target by target; the log itself is never rewritten.

    Each host is delivered to by one process at a time: the process leases the host's cursor
    row (`owner`, `lease_until`), renews the lease with every cursor move, and another process
    takes the host over only once the lease has expired (its owner died or stalled). The
    database decides, not a parent process: several machines on one PostgreSQL share hosts
    the same way. On SQLite there is one process, and the leases cost one statement a pass.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        committer: GroupCommitter | None = None,
        *,
        owner: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """`owner` names this process in the leases (unique per process by default);
        `lease` is how long a host stays this process's without a cursor move; `clock`
        dates the renewals (the worker's clock: tests pin both)."""
        self._sessions = sessions
        # Cursor moves of all hosts share transactions: a fan-out is one commit every few
        # milliseconds instead of one per delivery, and each delivery still waits for its own.
        self._committer = committer or GroupCommitter(sessions)
        self._moves: dict[str, dict[str, Any]] = {}
        self._flush: asyncio.Future[set[str]] | None = None
        self.owner = owner or process_identity()
        self._lease = lease
        self._clock = clock

    async def due_hosts(self, now: datetime, limit: int) -> list[str]:
        """Hosts with targets beyond their cursor, no backoff in force, and no other process's
        lease on them; leased to this process (renewed if already its own) before returning.

        Rows another process is leasing right now are skipped, not waited for
        (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer)."""
        query = (
            _due_targets(select(OutboxTarget.host), now)
            .where(_leasable(self.owner, now))
            .group_by(OutboxTarget.host)
            .order_by(func.min(OutboxTarget.id))
            .limit(limit)
        )
        async with self._sessions.begin() as session:
            due = list(await session.scalars(query))
            if not due:
                return []
            await session.execute(
                insert_or_ignore(session, DeliveryCursor).on_conflict_do_nothing(),
                [{"host": host, "last_target_id": 0} for host in due],
            )
            free = (
                select(CURSORS.c.host)
                .where(CURSORS.c.host.in_(due), _leasable(self.owner, now))
                .with_for_update(skip_locked=True)
            )
            leased = set(
                await session.scalars(
                    update(CURSORS)
                    .where(CURSORS.c.host.in_(free.scalar_subquery()))
                    .values(owner=self.owner, lease_until=now + self._lease)
                    .returning(CURSORS.c.host)
                )
            )
        return [host for host in due if host in leased]

    async def release_leases(self, *, everyone: bool = False) -> int:
        """Give back the hosts this process leases (at a graceful stop), or every process's
        leases (`everyone`: at start on SQLite, where only one process ever runs), so that the
        next process delivers at once instead of waiting for the old leases to end. Returns
        how many hosts were released."""
        held = CURSORS.c.owner.is_not(None) if everyone else CURSORS.c.owner == self.owner
        async with self._sessions.begin() as session:
            result = await session.execute(
                CURSORS.update().where(held).values(owner=None, lease_until=None)
            )
        return int(result.rowcount or 0)

    async def renew_leases(self, hosts: Collection[str]) -> int:
        """Extend this process's leases on the hosts it is delivering to (the lease
        heartbeat): a delivery slower than the lease, a peer that takes its time to answer,
        keeps its host instead of another process sending the same thing meanwhile. Returns
        how many leases were renewed."""
        if not hosts:
            return 0
        async with self._sessions.begin() as session:
            result = await session.execute(
                CURSORS.update()
                .where(CURSORS.c.host.in_(list(hosts)), CURSORS.c.owner == self.owner)
                .values(lease_until=self._clock() + self._lease)
            )
        return int(result.rowcount or 0)

    async def count_due(self, now: datetime) -> int:
        """How many deliveries are due now: beyond their host's cursor, no backoff in force."""
        async with self._sessions() as session:
            return int(await session.scalar(_due_targets(select(func.count()), now)) or 0)

    async def pending_for_hosts(
        self, hosts: list[str], limit: int
    ) -> dict[str, list[PendingDelivery]]:
        """The next deliveries of several hosts leased to this process (at most `limit`
        each) in one query."""
        ranked = (
            select(
                OutboxTarget.id,
                OutboxTarget.host,
                OutboxTarget.inbox,
                OutboxTarget.seq,
                func.row_number()
                .over(partition_by=OutboxTarget.host, order_by=OutboxTarget.id)
                .label("rank"),
            )
            .outerjoin(DeliveryCursor, DeliveryCursor.host == OutboxTarget.host)
            .where(
                OutboxTarget.host.in_(hosts),
                OutboxTarget.id > func.coalesce(DeliveryCursor.last_target_id, 0),
                DeliveryCursor.owner == self.owner,
            )
            .subquery()
        )
        query = (
            select(
                ranked.c.id,
                ranked.c.host,
                ranked.c.inbox,
                OutboxEntry.activity_id,
                OutboxEntry.type,
                OutboxEntry.object_id,
                OutboxEntry.actor_id,
                OutboxEntry.body,
                OutboxEntry.created_at,
            )
            .join(OutboxEntry, OutboxEntry.seq == ranked.c.seq)
            .where(ranked.c.rank <= limit)
            .order_by(ranked.c.host, ranked.c.id)
        )
        found: dict[str, list[PendingDelivery]] = {}
        async with self._sessions() as session:
            for row in await session.execute(query):
                found.setdefault(row.host, []).append(_pending(row.host, row))
        return found

    async def pending_for_host(self, host: str, limit: int) -> list[PendingDelivery]:
        """The host's next deliveries beyond its cursor, in log order; none once this process
        no longer holds the host's lease (the lease heartbeat keeps it while the host is
        being delivered to: reading costs no write)."""
        return (await self.pending_for_hosts([host], limit)).get(host, [])

    async def advance(
        self,
        host: str,
        target_id: int,
        *,
        delivered: int = 0,
        given_up: int = 0,
        answer: DeliveryOutcome | None = None,
    ) -> bool:
        """Move the host's cursor past a target and reset its failure count; False when the
        host's lease is another process's now (the cursor is left to it).

        Moves waiting for the same commit are merged per host and written by one
        executemany: a fan-out to a hundred hosts costs one statement per commit, not one
        per delivery. Returns once the move is committed.
        """
        move = self._moves.get(host)
        if move is None:
            move = self._moves[host] = {
                "host": host,
                "delivered": 0,
                "given_up": 0,
                "status": None,
                "error": None,
                "success_at": None,
            }
        move["target"] = target_id
        move["owner"] = self.owner
        move["delivered"] += delivered
        move["given_up"] += given_up
        if answer is not None:
            move["status"], move["error"] = answer.status, (answer.error or "")[:2000]
        if delivered:
            move["success_at"] = utcnow()
        if self._flush is None or self._flush.done():  # done here: it failed before its write ran
            self._flush = asyncio.ensure_future(self._committer.write(self._take_moves()))
        lost = await asyncio.shield(self._flush)
        return host not in lost

    def _take_moves(self) -> Callable[[AsyncSession], Awaitable[set[str]]]:
        """The write of the moves gathered until it runs (kept if it has to run again); it
        gives the hosts whose lease this process has lost."""
        taken: dict[str, dict[str, Any]] = {}

        async def write(session: AsyncSession) -> set[str]:
            if not taken:
                taken.update(self._moves)
                self._moves.clear()
                self._flush = None
            lease_until = self._clock() + self._lease
            await session.execute(
                MOVE_CURSOR, [move | {"lease_until": lease_until} for move in taken.values()]
            )
            held = await session.scalars(
                select(CURSORS.c.host).where(
                    CURSORS.c.host.in_(taken), CURSORS.c.owner == self.owner
                )
            )
            return set(taken) - set(held)

        return write

    async def postpone(
        self, host: str, count_failure: bool, until: datetime, answer: DeliveryOutcome
    ) -> int:
        """Keep the cursor and wait; returns the host's consecutive failures. The host stays
        leased: another process may take it once its wait and the lease are both over."""
        values: dict[str, Any] = {
            "next_attempt_at": until,
            "last_status": answer.status,
            "last_error": (answer.error or "")[:2000],
        }
        if count_failure:
            values["failures"] = CURSORS.c.failures + 1
        async with self._sessions.begin() as session:
            await session.execute(
                CURSORS.update()
                .where(CURSORS.c.host == host, CURSORS.c.owner == self.owner)
                .values(**values)
            )
            return int(
                await session.scalar(
                    select(DeliveryCursor.failures).where(DeliveryCursor.host == host)
                )
                or 0
            )


def _leasable(owner: str, now: datetime) -> ColumnElement[bool]:
    """Cursor rows (or their absence, in an outer join) that `owner` may lease now: no lease,
    its own, or an expired one."""
    return or_(CURSORS.c.owner.is_(None), CURSORS.c.owner == owner, CURSORS.c.lease_until <= now)


def _due_targets(query: Select[Any], now: datetime) -> Select[Any]:
    """`query` over the targets beyond their host's cursor whose host has no backoff in force."""
    cursor = DeliveryCursor
    return (
        query.select_from(OutboxTarget)
        .outerjoin(cursor, cursor.host == OutboxTarget.host)
        .where(OutboxTarget.id > func.coalesce(cursor.last_target_id, 0))
        .where((cursor.next_attempt_at.is_(None)) | (cursor.next_attempt_at <= now))
    )


async def entries_to_carry(
    session: AsyncSession,
    *,
    since: datetime | None,
    host: str | None,
    after_seq: int,
    limit: int,
) -> list[OutboxEntry]:
    """The next outbox entries a bundle carries, in log order: the public ones, and those
    addressed to `host` when a bundle is made for one territory."""
    wanted = OutboxEntry.public.is_(True)
    if host is not None:
        addressed = select(OutboxTarget.seq).where(OutboxTarget.host == host.lower())
        wanted = or_(wanted, OutboxEntry.seq.in_(addressed))
    statement = select(OutboxEntry).where(wanted, OutboxEntry.seq > after_seq)
    if since is not None:
        statement = statement.where(OutboxEntry.created_at >= since)
    return list(await session.scalars(statement.order_by(OutboxEntry.seq).limit(limit)))


async def waiting_per_host(session: AsyncSession) -> dict[str, tuple[int, datetime | None]]:
    """For each host with undelivered entries: how many, and when the oldest was logged."""
    behind = (
        select(
            OutboxTarget.host,
            func.count(OutboxTarget.id),
            func.min(OutboxEntry.created_at),
        )
        .join(OutboxEntry, OutboxEntry.seq == OutboxTarget.seq)
        .outerjoin(DeliveryCursor, DeliveryCursor.host == OutboxTarget.host)
        .where(OutboxTarget.id > func.coalesce(DeliveryCursor.last_target_id, 0))
        .group_by(OutboxTarget.host)
    )
    return {host: (count, oldest) for host, count, oldest in await session.execute(behind)}
