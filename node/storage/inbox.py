"""The received-activity store and queue (implements federation's InboxStore and InboxQueue)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.ports import QueuedActivity, ReceivedActivity
from node.domain.ids import new_id
from node.storage.base import utcnow
from node.storage.dialects import insert_or_ignore
from node.storage.group_commit import GroupCommitter
from node.storage.leases import DEFAULT_LEASE, process_identity
from node.storage.models import InboxItem


class SqlInbox:
    """Received activities in the `inbox_items` table; the unique activity id deduplicates.

    Inserts go through group commit: a burst of deliveries shares transactions.

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
        self.owner = owner or process_identity()
        self._lease = lease
        self._clock = clock
        #: items claimed and not settled yet, and when their leases are next renewed
        self._in_hand: set[str] = set()
        self._renew_at: datetime | None = None

    async def add_if_new(self, activity: ReceivedActivity) -> bool:
        """Store the raw activity unless its id is known; True when it was new."""
        values = {
            "id": new_id(),
            "activity_id": activity.activity_id,
            "type": activity.type[:64],
            "actor_uri": activity.actor,
            "object_id": activity.object_id,
            "raw": json.dumps(activity.raw, ensure_ascii=False),
            "state": "pending",
            "received_at": utcnow(),
        }

        async def insert(session: AsyncSession) -> bool:
            statement = insert_or_ignore(session, InboxItem).values(**values)
            result = await session.execute(statement.on_conflict_do_nothing())
            return bool(result.rowcount)  # type: ignore[attr-defined]

        return await self._committer.write(insert)

    async def claim_due(self, now: datetime, limit: int) -> list[QueuedActivity]:
        """Claim pending items and held items whose wait is over, in arrival order, that no
        other process holds: `FOR UPDATE SKIP LOCKED` on PostgreSQL passes over the rows
        another process is claiming at that moment instead of waiting for them."""
        due = (
            select(InboxItem.id)
            .where(_due(now))
            .order_by(InboxItem.received_at, InboxItem.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                update(InboxItem)
                .where(InboxItem.id.in_(due.scalar_subquery()))
                .values(claimed_by=self.owner, lease_until=now + self._lease)
                .returning(InboxItem)
                .execution_options(synchronize_session=False)
            )
            claimed = sorted(rows, key=lambda row: (row.received_at, row.id))
        self._in_hand.update(row.id for row in claimed)
        self._renew_at = now + self._lease / 2
        return [
            QueuedActivity(
                item_id=row.id,
                activity=json.loads(row.raw),
                attempts=row.attempts,
                received_at=row.received_at,
            )
            for row in claimed
        ]

    async def count_due(self, now: datetime) -> int:
        """How many items `claim_due` would give with no limit."""
        async with self._sessions() as session:
            counted = await session.scalar(
                select(func.count()).select_from(InboxItem).where(_due(now))
            )
            return int(counted or 0)

    async def settle(
        self, item_id: str, state: str, note: str, hold_until: datetime | None
    ) -> None:
        """Record the outcome of applying an item, and renew the leases of the items still in
        hand once half their lease has passed (a batch slower to apply than its lease stays
        this process's instead of being applied a second time by another one)."""
        self._in_hand.discard(item_id)
        async with self._sessions.begin() as session:
            await self._renew_if_due(session)
            await session.execute(
                update(InboxItem)
                .where(InboxItem.id == item_id)
                .values(
                    state=state,
                    note=note[:2000],
                    hold_until=hold_until,
                    attempts=InboxItem.attempts + 1,
                    claimed_by=None,
                    lease_until=None,
                )
            )

    async def _renew_if_due(self, session: AsyncSession) -> None:
        now = self._clock()
        if not self._in_hand or self._renew_at is None or now < self._renew_at:
            return
        self._renew_at = now + self._lease / 2
        await session.execute(
            update(InboxItem)
            .where(InboxItem.id.in_(self._in_hand), InboxItem.claimed_by == self.owner)
            .values(lease_until=now + self._lease)
        )


def _due(now: datetime) -> ColumnElement[bool]:
    """Items to apply now: pending ones, and held ones whose wait is over, that no process
    holds (never claimed, or its claim has expired: that process died)."""
    waiting = or_(
        InboxItem.state == "pending",
        (InboxItem.state == "held") & (InboxItem.hold_until <= now),
    )
    return waiting & or_(InboxItem.lease_until.is_(None), InboxItem.lease_until <= now)
