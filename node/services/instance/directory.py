"""Read-only look-ups of the node's own actors, for discovery endpoints and pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.domain.actors import ActorKind
from node.storage.actors import count_accounts, get_actor_by_username, get_actor_of_kind
from node.storage.base import utcnow
from node.storage.models import LocalActor, Note


async def find_local_actor(
    sessions: async_sessionmaker[AsyncSession], username: str
) -> LocalActor | None:
    """The local actor with this handle, or None."""
    async with sessions() as session:
        return await get_actor_by_username(session, username)


async def find_actor_of_kind(
    sessions: async_sessionmaker[AsyncSession], kind: ActorKind
) -> LocalActor | None:
    """The node's instance or territory actor."""
    async with sessions() as session:
        return await get_actor_of_kind(session, kind)


@dataclass(frozen=True, slots=True)
class NodeUsage:
    """The counts NodeInfo publishes."""

    users: int
    active_month: int
    active_halfyear: int
    local_posts: int


async def node_usage(sessions: async_sessionmaker[AsyncSession]) -> NodeUsage:
    """How many accounts and local posts the node has."""
    now = utcnow()
    async with sessions() as session:
        return NodeUsage(
            users=await count_accounts(session),
            active_month=await count_accounts(session, seen_since=now - timedelta(days=30)),
            active_halfyear=await count_accounts(session, seen_since=now - timedelta(days=180)),
            local_posts=await session.scalar(
                select(func.count()).select_from(Note).where(Note.local, Note.deleted_at.is_(None))
            )
            or 0,
        )
