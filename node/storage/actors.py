"""Queries on local actors and accounts. Functions take the session and never commit."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.domain.actors import ActorKind
from node.storage.models import Account, LocalActor


async def get_actor_by_username(session: AsyncSession, username: str) -> LocalActor | None:
    """The local actor with this handle (case-insensitive), or None."""
    result = await session.scalars(
        select(LocalActor).where(func.lower(LocalActor.username) == username.lower())
    )
    return result.first()


async def get_actor_of_kind(session: AsyncSession, kind: ActorKind) -> LocalActor | None:
    """The first actor of a kind: the node has one instance actor and one territory actor."""
    result = await session.scalars(
        select(LocalActor).where(LocalActor.kind == kind.value).order_by(LocalActor.created_at)
    )
    return result.first()


async def count_accounts(session: AsyncSession, seen_since: datetime | None = None) -> int:
    """How many accounts the node has (deleted ones left out), or how many were seen since a
    moment."""
    query = select(func.count()).select_from(Account).where(Account.deleted_at.is_(None))
    if seen_since is not None:
        query = query.where(Account.last_seen_at >= seen_since)
    return await session.scalar(query) or 0


async def get_account_by_username(session: AsyncSession, username: str) -> Account | None:
    """The account with this login name (case-insensitive), or None; a deleted account has
    no login name any more (it can neither log in nor be given a reset link or a role)."""
    result = await session.scalars(
        select(Account).where(
            func.lower(Account.username) == username.lower(), Account.deleted_at.is_(None)
        )
    )
    return result.first()
