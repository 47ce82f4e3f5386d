"""Timeline markers (GET/POST /api/v1/markers): where a resident stopped reading, shared
between their apps."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from node.convert.mastodon import api_time
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import Account, ClientMarker

TIMELINES = ("home", "notifications")


async def read_markers(runtime: Runtime, account: Account, timelines: list[str]) -> dict[str, Any]:
    """The markers of the timelines asked for, as Mastodon's Marker entities."""
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(ClientMarker).where(
                ClientMarker.account_id == account.id,
                ClientMarker.timeline.in_([t for t in timelines if t in TIMELINES]),
            )
        )
        return {
            row.timeline: {
                "last_read_id": row.last_read_id,
                "version": row.version,
                "updated_at": api_time(row.updated_at),
            }
            for row in rows
        }


async def save_marker(runtime: Runtime, account: Account, timeline: str, last_read_id: str) -> None:
    """Move a marker (its version counts the moves, as Mastodon's does)."""
    async with runtime.sessions.begin() as session:
        row = (
            await session.scalars(
                select(ClientMarker).where(
                    ClientMarker.account_id == account.id, ClientMarker.timeline == timeline
                )
            )
        ).first()
        if row is None:
            row = ClientMarker(
                account_id=account.id, timeline=timeline, last_read_id="", version=-1
            )
            session.add(row)
        row.last_read_id, row.version, row.updated_at = last_read_id[:64], row.version + 1, utcnow()
