"""Whom a coordinator follows: the territories of its allow-list, and those whose admins ask
(their territory follows the coordinator; an admin of the coordinator follows it back)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from node.convert.urls import actor_id
from node.services.federation.following import FollowError, follow, territory_actor
from node.services.federation.remote_actors import LookupFailed
from node.services.runtime import Runtime
from node.storage.models import DiscoveredTerritory, Follow, RemoteActor


@dataclass(frozen=True, slots=True)
class FollowResult:
    """What following one territory gave: its id, or why not."""

    target: str
    followed: str | None
    problem: str | None


async def follow_territory(runtime: Runtime, target: str) -> FollowResult:
    """The coordinator follows a territory (handle or URL); a discovered one stops waiting."""
    try:
        made = await follow(runtime, target)
    except (LookupFailed, FollowError) as exc:
        return FollowResult(target, None, str(exc))
    async with runtime.sessions.begin() as session:
        found = await session.get(DiscoveredTerritory, made.followed_uri)
        if found is not None:
            found.state = "followed"
    return FollowResult(target, made.followed_uri, None)


async def sync_allow_list(runtime: Runtime) -> list[FollowResult]:
    """Follow every territory of `coordination.allow` not followed yet."""
    return [await follow_territory(runtime, ref) for ref in runtime.config.coordination.allow]


async def follow_requests(runtime: Runtime) -> list[RemoteActor]:
    """Territories that follow the coordinator and that it does not follow: their admins ask
    to be indexed; the coordinator's admin answers by following them."""
    async with runtime.sessions() as session:
        me = actor_id(runtime.config, await territory_actor(session))
        followed = select(Follow.followed_uri).where(Follow.follower_uri == me)
        followers = select(Follow.follower_uri).where(
            Follow.followed_uri == me,
            Follow.state == "accepted",
            Follow.follower_uri.not_in(followed),
        )
        rows = await session.scalars(
            select(RemoteActor).where(RemoteActor.uri.in_(followers)).order_by(RemoteActor.uri)
        )
        return [a for a in rows if a.type in ("Group", "Organization")]
