"""What the admin page shows of the territory's relations: followers, requests, follows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.storage.models import Follow, RemoteActor


@dataclass(frozen=True, slots=True)
class Relation:
    """A remote actor in a follow relation with the territory."""

    uri: str
    name: str
    handle: str
    state: str


@dataclass(frozen=True, slots=True)
class Overview:
    """The admin's view of the territory's federation."""

    followers: list[Relation]
    requests: list[Relation]
    following: list[Relation]


async def _relations(session: AsyncSession, *where: object, remote_side: object) -> list[Relation]:
    rows = await session.execute(
        select(Follow.state, RemoteActor)
        .join(RemoteActor, RemoteActor.uri == remote_side)
        .where(*where)  # type: ignore[arg-type]
        .order_by(Follow.created_at.desc())
    )
    return [
        Relation(
            actor.uri, actor.name or actor.username, f"@{actor.username}@{actor.domain}", state
        )
        for state, actor in rows
    ]


async def federation_overview(
    sessions: async_sessionmaker[AsyncSession], territory_uri: str
) -> Overview:
    """Followers (accepted and waiting) and followed actors."""
    async with sessions() as session:
        inbound = Follow.followed_uri == territory_uri
        followers = await _relations(
            session, inbound, Follow.state == "accepted", remote_side=Follow.follower_uri
        )
        requests = await _relations(
            session, inbound, Follow.state == "pending", remote_side=Follow.follower_uri
        )
        following = await _relations(
            session, Follow.follower_uri == territory_uri, remote_side=Follow.followed_uri
        )
    return Overview(followers, requests, following)
