"""Queries behind moderation: what lives on blocked domains, and removing what a suspension
removes.

A domain block names a host (covering its subdomains and ports) or a host:port. Each URI's
host is matched exactly, in Python, with federation.domain_policy.covering against the set of
suspended domains, so that `https://evil.example/a.bad.example/` is never taken for a URI of
bad.example, and a whole block list costs one pass over each table, not one per domain.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from federation.domain_policy import covering
from node.storage.dialects import insert_or_ignore
from node.storage.models import (
    DeliveryCursor,
    ExternalAnswer,
    Follow,
    InboxItem,
    Note,
    OutboxTarget,
    Reaction,
    RemoteActor,
    RemoteKey,
    RemoteObject,
)
from protocols.activitystreams import host_of


def host_is_covered(host: str, domains: Collection[str]) -> bool:
    """Whether a host[:port] is one of `domains`, a subdomain of one, or (for a domain
    without port) on another port of it."""
    return any(name in domains for name in covering(host))


def is_on_domains(uri: str | None, domains: Collection[str]) -> bool:
    """Whether a URI lives on one of `domains` (see `host_is_covered`)."""
    return bool(uri) and host_is_covered(host_of(uri or ""), domains)


async def _ids_on_domains(
    session: AsyncSession,
    key: InstrumentedAttribute[Any],
    *uri_columns: InstrumentedAttribute[Any],
    domains: Collection[str],
    where: ColumnElement[bool] | None = None,
) -> list[Any]:
    """Primary keys of rows with any of `uri_columns` on the domains."""
    rows = await session.stream(
        select(key, *uri_columns).where(where if where is not None else true())
    )
    return [row[0] async for row in rows if any(is_on_domains(uri, domains) for uri in row[1:])]


@dataclass
class Removed:
    """What a suspension removed, per kind of row."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int) -> None:
        """Count rows of a kind removed."""
        if count:
            self.counts[kind] = self.counts.get(kind, 0) + count

    @property
    def total(self) -> int:
        """Every row removed."""
        return sum(self.counts.values())


async def _delete_ids(
    session: AsyncSession, key: InstrumentedAttribute[Any], ids: list[Any]
) -> int:
    for start in range(0, len(ids), 500):
        await session.execute(delete(key.class_).where(key.in_(ids[start : start + 500])))
    return len(ids)


async def remove_domains_content(session: AsyncSession, domains: Collection[str]) -> Removed:
    """Remove what suspended domains left here: their posts, objects, reactions, poll
    answers, follow relations both ways, cached actors and keys; their waiting inbox items
    are set aside and the deliveries waiting for them are skipped."""
    removed = Removed()
    if not domains:
        return removed
    plan: list[
        tuple[
            str,
            InstrumentedAttribute[Any],
            tuple[InstrumentedAttribute[Any], ...],
            ColumnElement[bool] | None,
        ]
    ] = [
        ("posts", Note.id, (Note.author_uri,), ~Note.local),  # our own notes never go
        ("objects", RemoteObject.id, (RemoteObject.actor_uri,), None),
        ("reactions", Reaction.id, (Reaction.actor_uri,), None),
        ("answers", ExternalAnswer.id, (ExternalAnswer.actor_uri,), None),
        ("follows", Follow.id, (Follow.follower_uri, Follow.followed_uri), None),
        ("keys", RemoteKey.key_id, (RemoteKey.owner_uri,), None),
        ("actors", RemoteActor.id, (RemoteActor.uri,), None),
    ]
    for kind, key, columns, where in plan:
        ids = await _ids_on_domains(session, key, *columns, domains=domains, where=where)
        removed.add(kind, await _delete_ids(session, key, ids))
    waiting = await _ids_on_domains(
        session,
        InboxItem.id,
        InboxItem.actor_uri,
        domains=domains,
        where=InboxItem.state.in_(("pending", "held")),
    )
    for start in range(0, len(waiting), 500):
        await session.execute(
            update(InboxItem)
            .where(InboxItem.id.in_(waiting[start : start + 500]))
            .values(state="ignored", note="the actor's domain is suspended by moderation")
        )
    await skip_deliveries(session, domains)
    return removed


async def remove_actor_content(session: AsyncSession, actor_uri: str) -> Removed:
    """Remove what one suspended remote account left here: its posts, objects, reactions,
    poll answers and follow relations (the cached actor stays, to show who it was)."""
    removed = Removed()
    for kind, model, condition in (
        ("posts", Note, (Note.author_uri == actor_uri) & ~Note.local),
        ("objects", RemoteObject, RemoteObject.actor_uri == actor_uri),
        ("reactions", Reaction, Reaction.actor_uri == actor_uri),
        ("answers", ExternalAnswer, ExternalAnswer.actor_uri == actor_uri),
        (
            "follows",
            Follow,
            (Follow.follower_uri == actor_uri) | (Follow.followed_uri == actor_uri),
        ),
    ):
        result = await session.execute(delete(model).where(condition))
        removed.add(kind, int(result.rowcount or 0))  # type: ignore[attr-defined]
    return removed


async def skip_deliveries(session: AsyncSession, domains: Collection[str]) -> int:
    """Move the cursors of the domains' hosts past everything logged for them: what waited
    is not sent, now or after the block is lifted. Returns how many hosts were moved."""
    hosts = [
        host
        for host in await session.scalars(select(OutboxTarget.host).distinct())
        if host_is_covered(host, domains)
    ]
    for host in hosts:
        last = await session.scalar(
            select(func.max(OutboxTarget.id)).where(OutboxTarget.host == host)
        )
        await session.execute(
            insert_or_ignore(session, DeliveryCursor)
            .values(host=host, last_target_id=0)
            .on_conflict_do_nothing()
        )
        await session.execute(
            update(DeliveryCursor)
            .where(DeliveryCursor.host == host, DeliveryCursor.last_target_id < (last or 0))
            .values(last_target_id=last or 0, failures=0, next_attempt_at=None)
        )
    return len(hosts)
