"""Follows between the territory (or another local actor) and remote actors, both ways."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.convert.activities import make_activity
from node.convert.urls import actor_id
from node.domain.actors import ActorKind
from node.services.federation.outbox import publish
from node.services.runtime import Runtime
from node.storage.actors import get_actor_of_kind
from node.storage.base import utcnow
from node.storage.models import Follow, LocalActor


class FollowError(ValueError):
    """A follow operation that cannot be done; the message says why."""


async def territory_actor(session: AsyncSession) -> LocalActor:
    """The node's territory actor (every node has exactly one)."""
    actor = await get_actor_of_kind(session, ActorKind.TERRITORY)
    if actor is None:
        raise FollowError("the node has no territory actor: run `maillage init`")
    return actor


async def follow(runtime: Runtime, target: str) -> Follow:
    """The territory follows a remote actor (handle or URL); pending until it accepts."""
    remote = await runtime.remote.resolve(target)  # fetched before any transaction opens
    async with runtime.sessions.begin() as session:
        made = await send_follow(runtime, session, await territory_actor(session), remote.uri)
    runtime.wake_delivery()
    return made


async def send_follow(
    runtime: Runtime, session: AsyncSession, local: LocalActor, remote_uri: str
) -> Follow:
    """A local actor's Follow of a remote actor, logged for delivery (again if it was
    refused or is still pending; nothing when already accepted)."""
    local_uri = actor_id(runtime.config, local)
    existing = (
        await session.scalars(
            select(Follow).where(
                Follow.follower_uri == local_uri, Follow.followed_uri == remote_uri
            )
        )
    ).first()
    if existing is not None and existing.state == "accepted":
        return existing
    activity = make_activity(runtime.config, "Follow", local_uri, remote_uri, to=[remote_uri])
    if existing is None:
        existing = Follow(
            follower_uri=local_uri, followed_uri=remote_uri, activity_uri=activity["id"]
        )
        session.add(existing)
    else:
        existing.activity_uri, existing.state = activity["id"], "pending"
    await publish(
        session,
        local.id,
        local_uri,
        activity,
        to_followers=False,
        recipients=[remote_uri],
        shared_inboxes=False,
    )
    return existing


async def unfollow(runtime: Runtime, target: str) -> None:
    """The territory stops following a remote actor: the Follow is undone."""
    remote = await runtime.remote.resolve(target)
    async with runtime.sessions.begin() as session:
        if not await send_unfollow(runtime, session, await territory_actor(session), remote.uri):
            raise FollowError(f"the territory does not follow {remote.uri}")
    runtime.wake_delivery()


async def send_unfollow(
    runtime: Runtime, session: AsyncSession, local: LocalActor, remote_uri: str
) -> bool:
    """Undo a local actor's Follow of a remote actor; False when there was none."""
    local_uri = actor_id(runtime.config, local)
    existing = (
        await session.scalars(
            select(Follow).where(
                Follow.follower_uri == local_uri, Follow.followed_uri == remote_uri
            )
        )
    ).first()
    if existing is None:
        return False
    original = {
        "id": existing.activity_uri,
        "type": "Follow",
        "actor": local_uri,
        "object": remote_uri,
    }
    await session.delete(existing)
    undo = make_activity(runtime.config, "Undo", local_uri, original, to=[remote_uri])
    await publish(
        session,
        local.id,
        local_uri,
        undo,
        to_followers=False,
        recipients=[remote_uri],
        shared_inboxes=False,
    )
    return True


async def answer_follow_request(runtime: Runtime, follower_uri: str, *, accept: bool) -> None:
    """Accept or reject a follower waiting for approval (manual approval is configured)."""
    async with runtime.sessions.begin() as session:
        local = await territory_actor(session)
        local_uri = actor_id(runtime.config, local)
        request = (
            await session.scalars(
                select(Follow).where(
                    Follow.follower_uri == follower_uri,
                    Follow.followed_uri == local_uri,
                    Follow.state == "pending",
                )
            )
        ).first()
        if request is None:
            raise FollowError(f"no pending follow request from {follower_uri}")
        await send_follow_answer(runtime, session, local, request, accept=accept)
    runtime.wake_delivery()


async def send_follow_answer(
    runtime: Runtime, session: AsyncSession, local: LocalActor, request: Follow, *, accept: bool
) -> None:
    """Record the answer to a Follow and log the Accept or Reject embedding it."""
    local_uri = actor_id(runtime.config, local)
    follow_activity = {
        "id": request.activity_uri,
        "type": "Follow",
        "actor": request.follower_uri,
        "object": local_uri,
    }
    if accept:
        request.state, request.accepted_at = "accepted", utcnow()
    else:
        await session.execute(delete(Follow).where(Follow.id == request.id))
    answer = make_activity(
        runtime.config,
        "Accept" if accept else "Reject",
        local_uri,
        follow_activity,
        to=[request.follower_uri],
    )
    await publish(
        session,
        local.id,
        local_uri,
        answer,
        to_followers=False,
        recipients=[request.follower_uri],
        shared_inboxes=False,
    )
