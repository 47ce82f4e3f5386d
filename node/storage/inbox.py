"""The received-activity store and queue (implements federation's InboxStore and InboxQueue).

The hot paths use SQLAlchemy Core on the table, never ORM objects: a batch of deliveries is
one multi-row INSERT ... ON CONFLICT DO NOTHING through the group committer, a batch of
outcomes one executemany UPDATE.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.ports import QueuedActivity, ReceivedActivity, Settlement, StoreUnavailable
from node.domain.ids import new_id
from node.storage.base import utcnow
from node.storage.dialects import insert_or_ignore
from node.storage.errors import is_database_unavailable
from node.storage.group_commit import GroupCommitter, WritesQueueFull
from node.storage.leases import DEFAULT_LEASE, process_identity
from node.storage.models import InboxItem

ITEMS = InboxItem.__table__
#: Outcomes that end an item's wait (held items still wait).
_FINAL = frozenset({"applied", "ignored", "failed"})
#: The backlog kept in memory is re-read from the database at least this often (other
#: processes, or a CLI command, may have changed it).
RECOUNT_EVERY_SECONDS = 10.0


class SqlInbox:
    """Received activities in the `inbox_items` table; the unique activity id deduplicates.

    Inserts go through group commit: a burst of deliveries shares transactions and one
    statement. The backlog (pending and held items) is kept in memory from the inserts and
    the outcomes, and recounted now and then when the worker claims.

    Claims are leases: a claimed item is this process's until it is settled or its lease
    ends, so several processes on one PostgreSQL never apply the same item at once, and the
    items of a process that died are due again once their lease is over.
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
        """`owner` names this process in the claims (unique per process by default);
        `lease` is how long a claimed item stays this process's without being settled;
        `clock` dates the renewals (the worker's clock: tests pin both)."""
        self._sessions = sessions
        self._committer = committer or GroupCommitter(sessions)
        self._backlog = 0
        self._counted_at: float | None = None
        self.owner = owner or process_identity()
        self._lease = lease
        self._clock = clock
        #: items claimed and not settled yet (their leases are renewed by `renew_claims`)
        self._in_hand: set[str] = set()

    def backlog(self) -> int:
        """Pending and held items, as this process last knew (no query)."""
        return self._backlog

    async def add_if_new(self, activity: ReceivedActivity) -> bool:
        """Store the raw activity unless its id is known; True when it was new, once it is
        committed. StoreUnavailable when the database cannot be written now (locked past
        its busy timeout, read-only, full, gone) or too many writes wait for it."""
        row = {
            "id": new_id(),
            "activity_id": activity.activity_id,
            "type": activity.type[:64],
            "actor_uri": activity.actor,
            "object_id": activity.object_id,
            "raw": activity.raw_text or json.dumps(activity.raw, ensure_ascii=False),
            "state": "pending",
            "attempts": 0,
            "note": "",
            "received_at": utcnow(),
        }
        try:
            new = bool(await self._committer.write_in_batch(_insert_new, row))
        except WritesQueueFull as full:
            raise StoreUnavailable(str(full)) from full
        except Exception as exc:
            if is_database_unavailable(exc):
                raise StoreUnavailable(str(exc).splitlines()[0][:200]) from exc
            raise
        self._backlog += new
        return new

    async def claim_due(self, now: datetime, limit: int) -> list[QueuedActivity]:
        """Claim pending items and held items whose wait is over, in arrival order, that no
        other process holds: `FOR UPDATE SKIP LOCKED` on PostgreSQL passes over the rows
        another process is claiming at that moment instead of waiting for them.

        The worker claims again only once its previous pass has ended, so what this process
        still holds was left unsettled by a pass that failed (the database went away): it is
        due again at once, not after its lease, and no longer renewed."""
        due = (
            select(ITEMS.c.id)
            .where(_due(now, self.owner))
            .order_by(ITEMS.c.received_at, ITEMS.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._sessions.begin() as session:
            rows = await session.execute(
                update(ITEMS)
                .where(ITEMS.c.id.in_(due.scalar_subquery()))
                .values(claimed_by=self.owner, lease_until=now + self._lease)
                .returning(ITEMS.c.id, ITEMS.c.raw, ITEMS.c.attempts, ITEMS.c.received_at)
            )
            claimed = sorted(rows, key=lambda row: (row.received_at, row.id))
            if len(claimed) < limit or self._recount_due():
                await self._recount(session)
        self._in_hand = {row.id for row in claimed}
        return [
            QueuedActivity(
                item_id=row.id,
                activity=json.loads(row.raw),
                attempts=row.attempts,
                received_at=row.received_at,
            )
            for row in claimed
        ]

    async def release_claims(self, *, everyone: bool = False) -> int:
        """Give back the items this process claimed and has not settled (at a graceful stop),
        or every process's claims (`everyone`: at start on SQLite, where only one process ever
        runs, so that a restart after a crash does not wait for its own old leases to end).
        Returns how many items were released."""
        held = ITEMS.c.claimed_by.is_not(None) if everyone else ITEMS.c.claimed_by == self.owner
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(ITEMS).where(held).values(claimed_by=None, lease_until=None)
            )
        self._in_hand.clear()
        return int(result.rowcount or 0)

    async def recount_backlog(self) -> int:
        """Read the backlog from the database (at start: what earlier runs left waiting)."""
        async with self._sessions() as session:
            await self._recount(session)
        return self._backlog

    async def _recount(self, session: AsyncSession) -> None:
        self._backlog = await _count(session, _waiting())
        self._counted_at = time.monotonic()

    async def count_due(self, now: datetime) -> int:
        """How many items `claim_due` would give with no limit."""
        async with self._sessions() as session:
            return await _count(session, _due(now, self.owner))

    async def settle_many(self, settlements: list[Settlement]) -> None:
        """Record the outcomes of a batch of items in one statement and one transaction (the
        worker holds its write turn: the committer is not writing meanwhile), releasing their
        claims."""
        if not settlements:
            return
        self._in_hand.difference_update(s.item_id for s in settlements)
        rows = [
            {
                "item": s.item_id,
                "new_state": s.state,
                "new_note": s.note[:2000],
                "new_hold_until": s.hold_until,
            }
            for s in settlements
        ]

        async with self._sessions.begin() as session:
            await session.execute(
                update(ITEMS)
                .where(ITEMS.c.id == bindparam("item"))
                .values(
                    state=bindparam("new_state"),
                    note=bindparam("new_note"),
                    hold_until=bindparam("new_hold_until"),
                    attempts=ITEMS.c.attempts + 1,
                    claimed_by=None,
                    lease_until=None,
                ),
                rows,
            )
        self._backlog = max(0, self._backlog - sum(s.state in _FINAL for s in settlements))

    async def renew_claims(self) -> int:
        """Extend the leases of the items claimed and not yet settled (the lease heartbeat):
        an item slower to apply than its lease stays this process's instead of being applied
        a second time by another one. Returns how many claims were renewed."""
        if not self._in_hand:
            return 0
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(ITEMS)
                .where(ITEMS.c.id.in_(list(self._in_hand)), ITEMS.c.claimed_by == self.owner)
                .values(lease_until=self._clock() + self._lease)
            )
        return int(result.rowcount or 0)

    def _recount_due(self) -> bool:
        return (
            self._counted_at is None or time.monotonic() - self._counted_at >= RECOUNT_EVERY_SECONDS
        )


async def _insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> list[bool]:
    """One INSERT ... ON CONFLICT DO NOTHING for the batch; whether each row was new (a
    repeated id in the same batch is new only the first time)."""
    statement = (
        insert_or_ignore(session, ITEMS).on_conflict_do_nothing().returning(ITEMS.c.activity_id)
    )
    inserted = set((await session.execute(statement, rows)).scalars())
    answers = []
    for row in rows:
        answers.append(row["activity_id"] in inserted)
        inserted.discard(row["activity_id"])
    return answers


async def _count(session: AsyncSession, where: ColumnElement[bool]) -> int:
    counted = await session.scalar(select(func.count()).select_from(ITEMS).where(where))
    return int(counted or 0)


def _waiting() -> ColumnElement[bool]:
    """Items not yet settled for good: pending ones and held ones (the backlog)."""
    return ITEMS.c.state.in_(("pending", "held"))


def _due(now: datetime, owner: str) -> ColumnElement[bool]:
    """Items to apply now: pending ones, and held ones whose wait is over, that no other
    process holds (never claimed, its claim has expired: that process died, or `owner`'s
    own: left by a failed pass)."""
    waiting = or_(
        ITEMS.c.state == "pending",
        (ITEMS.c.state == "held") & (ITEMS.c.hold_until <= now),
    )
    free = or_(
        ITEMS.c.lease_until.is_(None), ITEMS.c.lease_until <= now, ITEMS.c.claimed_by == owner
    )
    return waiting & free
