"""Queries behind moderation: what lives on a domain, and removing what a suspension removes.

A domain block names a host (covering its subdomains and ports) or a host:port. URIs are
matched first with LIKE (a cheap prefilter on the scheme://host part) and then exactly, in
Python, with federation.domain_policy.covering, so that `https://evil.example/a.bad.example/`
is never taken for a URI of bad.example.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
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


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def uri_prefilter(column: InstrumentedAttribute[Any], domain: str) -> ColumnElement[bool]:
    """A LIKE condition matching every URI on `domain` (and some others: check with
    `is_on_domain`)."""
    name = _like_escaped(domain)
    patterns = [f"%://{name}/%", f"%://{name}"]
    if ":" not in domain.rsplit("]", 1)[-1]:  # no port: any port, and subdomains
        patterns += [f"%://{name}:%", f"%.{name}/%", f"%.{name}", f"%.{name}:%"]
    return or_(*(column.like(pattern, escape="\\") for pattern in patterns))


def is_on_domain(uri: str | None, domain: str) -> bool:
    """Whether a URI's host[:port] is `domain`, one of its subdomains, or (for a domain
    without port) the domain on another port."""
    return bool(uri) and domain in covering(host_of(uri or ""))


async def _ids_on_domain(
    session: AsyncSession,
    key: InstrumentedAttribute[Any],
    *uri_columns: InstrumentedAttribute[Any],
    domain: str,
) -> list[Any]:
    """Primary keys of rows with any of `uri_columns` on the domain."""
    rows = await session.execute(
        select(key, *uri_columns).where(
            or_(*(uri_prefilter(column, domain) for column in uri_columns))
        )
    )
    return [row[0] for row in rows if any(is_on_domain(uri, domain) for uri in row[1:])]


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


async def remove_domain_content(session: AsyncSession, domain: str) -> Removed:
    """Remove what a suspended domain left here: its posts, objects, reactions, poll answers,
    follow relations both ways, cached actors and keys; its waiting inbox items are set
    aside and the deliveries waiting for it are skipped."""
    removed = Removed()
    plan: list[tuple[str, InstrumentedAttribute[Any], tuple[InstrumentedAttribute[Any], ...]]] = [
        ("posts", Note.id, (Note.author_uri,)),
        ("objects", RemoteObject.id, (RemoteObject.actor_uri,)),
        ("reactions", Reaction.id, (Reaction.actor_uri,)),
        ("answers", ExternalAnswer.id, (ExternalAnswer.actor_uri,)),
        ("follows", Follow.id, (Follow.follower_uri, Follow.followed_uri)),
        ("keys", RemoteKey.key_id, (RemoteKey.owner_uri,)),
        ("actors", RemoteActor.id, (RemoteActor.uri,)),
    ]
    for kind, key, columns in plan:
        ids = await _ids_on_domain(session, key, *columns, domain=domain)
        if kind == "posts":  # our own notes never go, even if their URIs were odd
            ids = [
                note_id
                for note_id, local in await session.execute(
                    select(Note.id, Note.local).where(Note.id.in_(ids))
                )
                if not local
            ]
        removed.add(kind, await _delete_ids(session, key, ids))
    waiting = await _ids_on_domain(session, InboxItem.id, InboxItem.actor_uri, domain=domain)
    if waiting:
        await session.execute(
            update(InboxItem)
            .where(InboxItem.id.in_(waiting), InboxItem.state.in_(("pending", "held")))
            .values(state="ignored", note="the actor's domain is suspended by moderation")
        )
    await skip_deliveries(session, domain)
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


async def skip_deliveries(session: AsyncSession, domain: str) -> int:
    """Move the cursors of the domain's hosts past everything logged for them: what waited
    is not sent, now or after the block is lifted. Returns how many hosts were moved."""
    hosts = [
        host
        for host in await session.scalars(
            select(OutboxTarget.host).where(_host_prefilter(domain)).distinct()
        )
        if domain in covering(host)
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


def _host_prefilter(domain: str) -> ColumnElement[bool]:
    name = _like_escaped(domain)
    column = OutboxTarget.host
    return or_(
        column == domain,
        column.like(f"{name}:%", escape="\\"),
        column.like(f"%.{name}", escape="\\"),
        column.like(f"%.{name}:%", escape="\\"),
    )
