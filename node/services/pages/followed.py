"""What the territories and accounts we follow published lately, for the home page: their
posts (Note rows) and their Maillage objects (needs, proposals, decisions, experiments,
evaluations, offers), which are kept as RemoteObject rows, not as posts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.convert.received import received_kind
from node.services.pages.activity_feed import KIND_LABELS
from node.services.pages.timeline import author_names
from node.storage.models import Follow, Note, RemoteObject
from protocols.activitystreams import web_link

#: How many items the home page shows.
FOLLOWED_LIMIT = 20
#: Kinds of received objects that are not in the timeline's table.
_MORE_LABELS = {"amendment": "Amendement"}


@dataclass(frozen=True, slots=True)
class FollowedItem:
    """One thing a followed actor published."""

    #: who published it (their name, or handle)
    author: str
    #: its page on their server ("" when it has no http(s) link)
    link: str
    at: datetime
    #: French label of the kind ("Besoin", "Offre"...); "" for a post
    kind_label: str = ""
    #: plain-text title and status line of an object
    title: str = ""
    summary: str = ""
    #: a post's sanitised HTML
    content_html: str = ""


def _object_item(row: RemoteObject, author: str) -> FollowedItem:
    kind = received_kind(row)
    return FollowedItem(
        author=author,
        link=web_link(row.url, row.uri),
        at=row.published,
        kind_label=KIND_LABELS.get(kind) or _MORE_LABELS.get(kind, ""),
        title=row.name,
        summary=row.summary,
    )


async def followed_activity(
    sessions: async_sessionmaker[AsyncSession], local_actor_uri: str, limit: int = FOLLOWED_LIMIT
) -> list[FollowedItem]:
    """The latest public posts and objects of the actors `local_actor_uri` follows (accepted
    follows), newest first."""
    followed = select(Follow.followed_uri).where(
        Follow.follower_uri == local_actor_uri, Follow.state == "accepted"
    )
    async with sessions() as session:
        notes = list(
            await session.scalars(
                select(Note)
                .where(Note.author_uri.in_(followed), Note.deleted_at.is_(None))
                .where(Note.visibility.in_(("public", "unlisted")))
                .order_by(Note.published.desc())
                .limit(limit)
            )
        )
        objects = list(
            await session.scalars(
                select(RemoteObject)
                .where(RemoteObject.actor_uri.in_(followed), ~RemoteObject.deleted)
                .order_by(RemoteObject.published.desc())
                .limit(limit)
            )
        )
        names = await author_names(
            session, [n.author_uri for n in notes] + [o.actor_uri for o in objects]
        )
    items = [
        FollowedItem(
            author=names.get(note.author_uri, note.author_uri),
            link=web_link(note.url, note.uri),
            at=note.published,
            content_html=note.content,
        )
        for note in notes
    ]
    items += [_object_item(row, names.get(row.actor_uri, row.actor_uri)) for row in objects]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]
