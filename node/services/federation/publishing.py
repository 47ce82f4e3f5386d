"""Publishing the node's objects to the network: Create, Update or Delete from the territory
actor to its followers (and any named actors), logged in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from node.convert.activities import make_activity, strip_context
from node.convert.notes import tombstone
from node.convert.urls import actor_id
from node.services.federation.following import territory_actor
from node.services.federation.outbox import publish
from node.services.runtime import Runtime
from node.storage.base import utcnow
from protocols.activitystreams import PUBLIC


async def federate(
    runtime: Runtime,
    session: AsyncSession,
    document: dict[str, Any],
    *,
    verb: str = "Create",
    recipients: Iterable[str] = (),
) -> dict[str, Any]:
    """Log a Create or Update of `document` for delivery; returns the activity.

    The caller commits, then calls `runtime.wake_delivery()`.
    """
    territory = await territory_actor(session)
    author = actor_id(runtime.config, territory)
    activity = make_activity(
        runtime.config,
        verb,
        author,
        strip_context(document),
        to=list(document.get("to", [])),
        cc=list(document.get("cc", [])),
    )
    extra = list(recipients) + [a for a in document.get("cc", []) if not a.endswith("/followers")]
    await publish(session, territory.id, author, activity, to_followers=True, recipients=extra)
    return activity


async def federate_deletion(
    runtime: Runtime,
    session: AsyncSession,
    uri: str,
    former_type: str,
    recipients: Iterable[str] = (),
) -> None:
    """Log the Delete of one of the node's objects (it then answers 410 with a Tombstone)."""
    territory = await territory_actor(session)
    author = actor_id(runtime.config, territory)
    document = strip_context(tombstone(uri, former_type, utcnow()))
    followers = f"{author}/followers"
    activity = make_activity(
        runtime.config, "Delete", author, document, to=[PUBLIC], cc=[followers]
    )
    await publish(session, territory.id, author, activity, to_followers=True, recipients=recipients)
