"""Queries on cached remote actors and keys."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.domain.ids import new_id
from node.storage.base import utcnow
from node.storage.dialects import insert_or_ignore
from node.storage.models import RemoteActor, RemoteKey


async def get_remote_actor(session: AsyncSession, uri: str) -> RemoteActor | None:
    """The cached actor with this id, or None."""
    return (await session.scalars(select(RemoteActor).where(RemoteActor.uri == uri))).first()


async def find_remote_actor_by_handle(
    session: AsyncSession, username: str, domain: str
) -> RemoteActor | None:
    """The cached actor known as username@domain, or None (for lookups while offline)."""
    statement = select(RemoteActor).where(
        RemoteActor.username == username, RemoteActor.domain == domain.lower()
    )
    return (await session.scalars(statement)).first()


async def get_remote_key(session: AsyncSession, key_id: str) -> RemoteKey | None:
    """The cached key with this id, or None."""
    return await session.get(RemoteKey, key_id)


async def forget_remote_actor(session: AsyncSession, uri: str) -> None:
    """Remove a cached actor and its keys (the actor was deleted on its server)."""
    await session.execute(delete(RemoteKey).where(RemoteKey.owner_uri == uri))
    await session.execute(delete(RemoteActor).where(RemoteActor.uri == uri))


async def put_remote_actor(
    session: AsyncSession, actor: RemoteActor, keys: dict[str, str]
) -> RemoteActor:
    """Insert or refresh an actor and replace its keys (key id -> public key PEM).

    One upsert, not a read then an insert: two requests that need the same new actor at once
    (an inbox POST checking its key while a page follows it) must not collide on its uri.
    """
    table = RemoteActor.__table__
    values = {column: getattr(actor, column) for column in table.columns.keys()}
    values["id"] = actor.id or new_id()
    values["fetched_at"] = utcnow()
    statement = insert_or_ignore(session, RemoteActor).values(**values)
    refreshed = {
        column: statement.excluded[column] for column in values if column not in ("id", "uri")
    }
    await session.execute(
        statement.on_conflict_do_update(index_elements=[table.c.uri], set_=refreshed)
    )
    await session.execute(delete(RemoteKey).where(RemoteKey.owner_uri == actor.uri))
    for key_id, pem in keys.items():
        await session.merge(RemoteKey(key_id=key_id, owner_uri=actor.uri, public_key_pem=pem))
    await session.flush()
    stored = (
        await session.scalars(
            select(RemoteActor)
            .where(RemoteActor.uri == actor.uri)
            .execution_options(populate_existing=True)
        )
    ).one()
    return stored


async def list_remote_actors(session: AsyncSession, uris: list[str]) -> list[RemoteActor]:
    """The cached actors among these ids."""
    if not uris:
        return []
    return list(await session.scalars(select(RemoteActor).where(RemoteActor.uri.in_(uris))))
