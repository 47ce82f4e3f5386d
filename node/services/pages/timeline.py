"""Read side of federation: notes with their replies and reactions, collections' pages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.storage.models import Follow, Note, OutboxEntry, Reaction, RemoteActor

PAGE_SIZE = 20


@dataclass(frozen=True, slots=True)
class NoteView:
    """A note with what people did with it, for its page."""

    note: Note
    author_name: str
    replies: list[tuple[Note, str]]
    likes: int
    boosts: int


async def author_names(session: AsyncSession, uris: list[str]) -> dict[str, str]:
    """Display names of cached remote actors (their handle when they have no name)."""
    rows = await session.execute(
        select(RemoteActor.uri, RemoteActor.name, RemoteActor.username, RemoteActor.domain).where(
            RemoteActor.uri.in_(uris)
        )
    )
    return {uri: name or f"@{username}@{domain}" for uri, name, username, domain in rows}


async def note_view(sessions: async_sessionmaker[AsyncSession], uri: str) -> NoteView | None:
    """A note, its replies (oldest first) and its like and boost counts."""
    async with sessions() as session:
        note = (await session.scalars(select(Note).where(Note.uri == uri))).first()
        if note is None:
            return None
        replies = list(
            await session.scalars(
                select(Note)
                .where(Note.in_reply_to == uri, Note.deleted_at.is_(None))
                .where(Note.visibility.in_(("public", "unlisted")))
                .order_by(Note.published)
            )
        )
        counts = dict(
            (
                await session.execute(
                    select(Reaction.kind, func.count())
                    .where(Reaction.object_uri == uri)
                    .group_by(Reaction.kind)
                )
            ).all()
        )
        names = await author_names(session, [note.author_uri] + [r.author_uri for r in replies])
    return NoteView(
        note=note,
        author_name=names.get(note.author_uri, ""),
        replies=[(reply, names.get(reply.author_uri, reply.author_uri)) for reply in replies],
        likes=counts.get("like", 0),
        boosts=counts.get("announce", 0),
    )


async def recent_local_notes(
    sessions: async_sessionmaker[AsyncSession], limit: int = 20
) -> list[tuple[Note, int]]:
    """The territory's latest public announcements with their reply counts."""
    async with sessions() as session:
        notes = list(
            await session.scalars(
                select(Note)
                .where(Note.local, Note.deleted_at.is_(None), Note.in_reply_to.is_(None))
                .order_by(Note.published.desc())
                .limit(limit)
            )
        )
        replies = dict(
            (
                await session.execute(
                    select(Note.in_reply_to, func.count())
                    .where(Note.in_reply_to.in_([n.uri for n in notes]), Note.deleted_at.is_(None))
                    .group_by(Note.in_reply_to)
                )
            ).all()
        )
    return [(note, replies.get(note.uri, 0)) for note in notes]


async def follow_page(
    sessions: async_sessionmaker[AsyncSession], actor_uri: str, *, followers: bool, page: int | None
) -> tuple[int, list[str]]:
    """Accepted followers (or followed actors) of a local actor: total and one page of URIs."""
    mine, theirs = (
        (Follow.followed_uri, Follow.follower_uri)
        if followers
        else (Follow.follower_uri, Follow.followed_uri)
    )
    condition = (mine == actor_uri) & (Follow.state == "accepted")
    async with sessions() as session:
        total = await session.scalar(select(func.count()).select_from(Follow).where(condition)) or 0
        items: list[str] = []
        if page is not None:
            items = list(
                await session.scalars(
                    select(theirs)
                    .where(condition)
                    .order_by(Follow.created_at.desc(), Follow.id)
                    .offset((page - 1) * PAGE_SIZE)
                    .limit(PAGE_SIZE)
                )
            )
    return total, items


#: What the outbox lists: the public activities that change what a follower knows.
OUTBOX_TYPES = ("Create", "Announce", "Update", "Delete", "Add", "Remove")


async def outbox_page(
    sessions: async_sessionmaker[AsyncSession], actor_id: str, page: int | None
) -> tuple[int, list[dict[str, Any]]]:
    """The actor's public activities, newest first: what it created and announced, and
    the updates and deletions that followed, so a peer that was offline can catch up."""
    condition = (
        (OutboxEntry.actor_id == actor_id)
        & OutboxEntry.public
        & OutboxEntry.type.in_(OUTBOX_TYPES)
    )
    async with sessions() as session:
        total = (
            await session.scalar(select(func.count()).select_from(OutboxEntry).where(condition))
            or 0
        )
        items: list[dict[str, Any]] = []
        if page is not None:
            bodies = await session.scalars(
                select(OutboxEntry.body)
                .where(condition)
                .order_by(OutboxEntry.seq.desc())
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            )
            items = [_without_context(json.loads(body)) for body in bodies]
    return total, items


async def public_activity(
    sessions: async_sessionmaker[AsyncSession], activity_id: str
) -> dict[str, Any] | None:
    """One of our public activities, as sent."""
    async with sessions() as session:
        body = await session.scalar(
            select(OutboxEntry.body).where(
                OutboxEntry.activity_id == activity_id, OutboxEntry.public
            )
        )
    return json.loads(body) if body else None


def _without_context(activity: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in activity.items() if k != "@context"}
