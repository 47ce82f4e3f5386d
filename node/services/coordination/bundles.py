"""What a coordinator's bundle carries besides its own activities: the activities of the
territories it aggregates, as they arrived (each with its author's own proof, which the
coordinator cannot make), and their actors' self-proven documents."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.storage.models import CoordinationEntry, InboxItem, RemoteActor

CARRIED_TYPES = ("Create", "Update")


def _proven(raw: str) -> dict[str, Any] | None:
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    return (
        document if isinstance(document, dict) and isinstance(document.get("proof"), dict) else None
    )


async def aggregated(
    session: AsyncSession, since: datetime | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The indexed objects' activities that carry their author's proof, oldest first, and the
    proven documents of their actors (those without a proof cannot travel: left out)."""
    indexed = select(CoordinationEntry.uri)
    query = select(InboxItem).where(
        InboxItem.object_id.in_(indexed), InboxItem.type.in_(CARRIED_TYPES)
    )
    if since is not None:
        query = query.where(InboxItem.received_at >= since)
    activities = [
        document
        for item in await session.scalars(query.order_by(InboxItem.received_at, InboxItem.id))
        if (document := _proven(item.raw)) is not None
    ]
    authors = sorted({str(a.get("actor")) for a in activities})
    actors = [
        document
        for actor in await session.scalars(select(RemoteActor).where(RemoteActor.uri.in_(authors)))
        if (document := _proven(actor.raw)) is not None
    ]
    carried = {a["id"] for a in actors}
    return [a for a in activities if a.get("actor") in carried], actors
