"""The territory's announcements: public Notes from the territory actor to its followers."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.convert.activities import make_activity, public_addressing, strip_context
from node.convert.notes import iso, note_to_as, tombstone
from node.convert.urls import actor_id, collection_url
from node.domain.actors import ActorKind
from node.domain.ids import new_id
from node.services.federation.outbox import publish
from node.services.runtime import Runtime
from node.storage.actors import get_actor_of_kind
from node.storage.base import utcnow
from node.storage.models import Note, RemoteObject
from node.storage.remote import list_remote_actors
from protocols.html import text_to_html

#: Mastodon truncates notes above 20 kB of text (FEDERATION.md); refuse before that.
MAX_ANNOUNCEMENT_CHARS = 5000


class AnnouncementError(ValueError):
    """The announcement cannot be published; the message says why."""


async def announce(runtime: Runtime, text: str, in_reply_to: str | None = None) -> Note:
    """Publish a public Note from the territory; returns it (its `uri` is the Note's id).

    With `in_reply_to`, the note answers a post the node knows, and its author is
    mentioned and delivered to.
    """
    text = text.strip()
    if not text:
        raise AnnouncementError("the announcement is empty")
    if len(text) > MAX_ANNOUNCEMENT_CHARS:
        raise AnnouncementError(
            f"the announcement is longer than {MAX_ANNOUNCEMENT_CHARS} characters"
        )
    config = runtime.config
    async with runtime.sessions.begin() as session:
        territory = await get_actor_of_kind(session, ActorKind.TERRITORY)
        if territory is None:
            raise AnnouncementError("the node has no territory actor: run `maillage init`")
        author = actor_id(config, territory)
        to, cc = public_addressing(collection_url(config, territory, "followers"))
        replied = await _replied_author(session, in_reply_to) if in_reply_to else None
        mentions = [replied] if replied and replied != author else []
        uri = f"{config.node.base_url}/notes/{new_id()}"
        note = Note(
            uri=uri,
            local=True,
            author_uri=author,
            url=uri,
            content=text_to_html(text),
            language=config.territory.default_language,
            visibility="public",
            in_reply_to=in_reply_to,
            to=json.dumps(to),
            cc=json.dumps(cc + mentions),
            mentions=json.dumps(mentions),
            published=utcnow(),
        )
        session.add(note)
        await session.flush()
        tags = await mention_tags(session, mentions)
        document = strip_context(note_to_as(config, note, tags))
        create = make_activity(
            config,
            "Create",
            author,
            document,
            to=to,
            cc=cc + mentions,
            published=iso(note.published),
        )
        await publish(session, territory.id, author, create, to_followers=True, recipients=mentions)
    runtime.wake_delivery()
    return note


async def _replied_author(session: AsyncSession, uri: str) -> str:
    """The author of the post a reply answers, which must be known to the node: a note, or
    an object another node published and this one received (an offer, a proposal...)."""
    note = (await session.scalars(select(Note).where(Note.uri == uri))).first()
    if note is not None and note.deleted_at is None:
        return note.author_uri
    received = (
        await session.scalars(
            select(RemoteObject).where(RemoteObject.uri == uri, RemoteObject.deleted.is_(False))
        )
    ).first()
    if note is None and received is not None and received.actor_uri:
        return received.actor_uri
    raise AnnouncementError(f"the node does not know the post {uri}")


async def mention_tags(session: AsyncSession, actor_uris: list[str]) -> list[dict[str, str]]:
    """Mention tags for remote actors, named @user@host as Mastodon displays them."""
    actors = await list_remote_actors(session, actor_uris)
    return [{"type": "Mention", "href": a.uri, "name": f"@{a.username}@{a.domain}"} for a in actors]


async def delete_announcement(runtime: Runtime, uri: str) -> None:
    """Delete one of the territory's notes: its URL answers 410 and followers get a Delete."""
    config = runtime.config
    async with runtime.sessions.begin() as session:
        note = (await session.scalars(select(Note).where(Note.uri == uri, Note.local))).first()
        territory = await get_actor_of_kind(session, ActorKind.TERRITORY)
        if note is None or territory is None or note.deleted_at is not None:
            raise AnnouncementError(f"no announcement {uri} to delete")
        note.deleted_at = utcnow()
        note.content = ""
        author = actor_id(config, territory)
        to, cc = public_addressing(collection_url(config, territory, "followers"))
        delete = make_activity(
            config,
            "Delete",
            author,
            strip_context(tombstone(uri, "Note", note.deleted_at)),
            to=to,
            cc=cc,
        )
        await publish(session, territory.id, author, delete, to_followers=True)
    runtime.wake_delivery()
