"""The received-activity store and queue (implements federation's InboxStore and InboxQueue)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.ports import QueuedActivity, ReceivedActivity
from node.domain.ids import new_id
from node.storage.base import utcnow
from node.storage.dialects import insert_or_ignore
from node.storage.group_commit import GroupCommitter
from node.storage.models import InboxItem


class SqlInbox:
    """Received activities in the `inbox_items` table; the unique activity id deduplicates.

    Inserts go through group commit: a burst of deliveries shares transactions.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], committer: GroupCommitter | None = None
    ) -> None:
        self._sessions = sessions
        self._committer = committer or GroupCommitter(sessions)

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
        """Pending items and held items whose wait is over, in arrival order."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(InboxItem)
                .where(_due(now))
                .order_by(InboxItem.received_at, InboxItem.id)
                .limit(limit)
            )
            return [
                QueuedActivity(
                    item_id=row.id,
                    activity=json.loads(row.raw),
                    attempts=row.attempts,
                    received_at=row.received_at,
                )
                for row in rows
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
        """Record the outcome of applying an item."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(InboxItem)
                .where(InboxItem.id == item_id)
                .values(
                    state=state,
                    note=note[:2000],
                    hold_until=hold_until,
                    attempts=InboxItem.attempts + 1,
                )
            )


def _due(now: datetime) -> ColumnElement[bool]:
    """Items to apply now: pending ones, and held ones whose wait is over."""
    return or_(
        InboxItem.state == "pending",
        (InboxItem.state == "held") & (InboxItem.hold_until <= now),
    )
