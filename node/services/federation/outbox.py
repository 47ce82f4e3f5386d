"""Who an activity goes to: followers and named recipients, as deduplicated inboxes with
shared inboxes preferred (one POST per server instead of one per follower)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.services.federation.proofs import proven_activity
from node.storage.base import utcnow
from node.storage.models import Follow, RemoteActor
from node.storage.outbox import append_to_outbox
from protocols.activitystreams import is_public


async def follower_uris(session: AsyncSession, actor_uri: str) -> list[str]:
    """Remote actors whose follow of this local actor was accepted."""
    rows = await session.scalars(
        select(Follow.follower_uri).where(
            Follow.followed_uri == actor_uri, Follow.state == "accepted"
        )
    )
    return list(rows)


async def inboxes_for(
    session: AsyncSession, actor_uris: Iterable[str], *, shared: bool
) -> list[str]:
    """The inboxes of cached remote actors; shared inboxes collapse recipients on one server."""
    uris = list(dict.fromkeys(actor_uris))
    if not uris:
        return []
    rows = await session.execute(
        select(RemoteActor.inbox, RemoteActor.shared_inbox).where(RemoteActor.uri.in_(uris))
    )
    return list(
        dict.fromkeys(
            (row.shared_inbox if shared and row.shared_inbox else row.inbox) for row in rows
        )
    )


async def publish(
    session: AsyncSession,
    actor_id: str,
    actor_uri: str,
    activity: dict[str, Any],
    *,
    to_followers: bool,
    recipients: Iterable[str] = (),
    shared_inboxes: bool = True,
) -> None:
    """Log an activity for delivery to the actor's followers and/or named remote actors.

    Activities about one relationship (Follow, Accept, Undo) go to personal inboxes. The
    logged copy carries the actor's integrity proof (services/federation/proofs.py).
    """
    audience = list(recipients)
    if to_followers:
        audience += await follower_uris(session, actor_uri)
    inboxes = await inboxes_for(session, audience, shared=shared_inboxes)
    proven = await proven_activity(session, actor_id, actor_uri, activity, utcnow())
    await append_to_outbox(session, proven, actor_id, inboxes, public=is_public(activity))
