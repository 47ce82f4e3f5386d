"""The visible history of every object: each state change, who made it and why."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.storage.models import StateChange


def record_change(
    session: AsyncSession, uri: str, before: str | None, after: str, by: str, note: str = ""
) -> StateChange:
    """Add one step to an object's history, in the caller's transaction."""
    change = StateChange(object_uri=uri, from_state=before, to_state=after, by=by, note=note)
    session.add(change)
    return change


async def history_of(session: AsyncSession, uri: str) -> list[StateChange]:
    """An object's history, oldest first."""
    rows = await session.scalars(
        select(StateChange)
        .where(StateChange.object_uri == uri)
        .order_by(StateChange.at, StateChange.id)
    )
    return list(rows)
