"""Queries on cached remote actors and keys."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.storage.base import utcnow
from node.storage.models import RemoteActor, RemoteKey


async def get_remote_actor(session: AsyncSession, uri: str) -> RemoteActor | None:
    """The cached actor with this id, or None."""
    return (await session.scalars(select(RemoteActor).where(RemoteActor.uri == uri))).first()


async def get_remote_key(session: AsyncSession, key_id: str) -> RemoteKey | None:
    """The cached key with this id, or None."""
    return await session.get(RemoteKey, key_id)


async def put_remote_actor(
    session: AsyncSession, actor: RemoteActor, keys: dict[str, str]
) -> RemoteActor:
    """Insert or refresh an actor and replace its keys (key id -> public key PEM)."""
    existing = await get_remote_actor(session, actor.uri)
    if existing is None:
        session.add(actor)
        stored = actor
    else:
        for column in RemoteActor.__table__.columns.keys():
            if column not in ("id", "uri", "fetched_at"):
                setattr(existing, column, getattr(actor, column))
        existing.fetched_at = utcnow()
        stored = existing
    await session.execute(delete(RemoteKey).where(RemoteKey.owner_uri == actor.uri))
    for key_id, pem in keys.items():
        await session.merge(RemoteKey(key_id=key_id, owner_uri=actor.uri, public_key_pem=pem))
    await session.flush()
    return stored


async def list_remote_actors(session: AsyncSession, uris: list[str]) -> list[RemoteActor]:
    """The cached actors among these ids."""
    if not uris:
        return []
    return list(await session.scalars(select(RemoteActor).where(RemoteActor.uri.in_(uris))))
