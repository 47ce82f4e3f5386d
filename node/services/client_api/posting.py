"""What a resident does from an app: post (a Note by their own Person actor, through the normal
outbox), delete their post, favourite and boost, and answer polls (their territory's decisions
with their binding vote; other territories' in those territories' separate tally)."""

from __future__ import annotations

import json

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.convert.activities import make_activity, strip_context
from node.convert.decisions import option_labels
from node.convert.mastodon import MAX_STATUS_CHARS, poll_options
from node.convert.notes import iso, note_to_as, tombstone
from node.convert.urls import actor_id, collection_url
from node.domain.ids import new_id
from node.services.client_api.accounts import person_of
from node.services.client_api.errors import ApiError, not_found, too_many, unprocessable
from node.services.client_api.statuses import StatusRow, status_by_id, status_by_uri
from node.services.federation.announcements import mention_tags
from node.services.federation.outbox import publish
from node.services.limits.posting import PostingLimited, check_posting
from node.services.participation.decisions import cast_vote
from node.services.participation.needs import ParticipationError
from node.services.participation.remote_decisions import answer_remote_decision
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import Account, Decision, Note, Reaction, RemoteObject
from protocols.activitystreams import PUBLIC, id_of
from protocols.html import text_to_html

OFFERED_VISIBILITIES = ("public", "unlisted")


async def post_status(
    runtime: Runtime,
    account: Account,
    text: str,
    *,
    in_reply_to_id: str | None = None,
    visibility: str | None = None,
    spoiler_text: str = "",
    language: str | None = None,
) -> str:
    """Publish a resident's post from their Person actor; returns its status id."""
    text = text.strip()
    if not text:
        raise unprocessable("Text can't be blank")
    if len(text) > MAX_STATUS_CHARS:
        raise unprocessable(f"Text is too long (maximum is {MAX_STATUS_CHARS} characters)")
    if visibility and visibility not in OFFERED_VISIBILITIES:
        raise unprocessable("Only public and unlisted posts are offered by this node")
    config = runtime.config
    async with runtime.sessions.begin() as session:
        person = await person_of(session, account)
        author = actor_id(config, person)
        try:
            await check_posting(runtime, session, "comment", account, author)
        except PostingLimited as limited:
            raise too_many(limited.english, limited.retry_after) from None
        parent: StatusRow | None = None
        if in_reply_to_id:
            parent = await status_by_id(runtime, session, in_reply_to_id)
            if parent is None:
                raise not_found("The post replied to is not known here")
        followers = collection_url(config, person, "followers")
        mentions = [parent.author] if parent and parent.author and parent.author != author else []
        if visibility == "unlisted":
            to, cc = [followers], [PUBLIC, *mentions]
        else:
            to, cc = [PUBLIC], [followers, *mentions]
        identifier = new_id()
        uri = f"{config.node.base_url}/notes/{identifier}"
        note = Note(
            id=identifier,
            uri=uri,
            local=True,
            author_uri=author,
            url=uri,
            summary=spoiler_text.strip()[:500],
            content=text_to_html(text),
            language=(language or config.territory.default_language)[:16],
            visibility=visibility or "public",
            in_reply_to=parent.document["id"] if parent else None,
            to=json.dumps(to),
            cc=json.dumps(cc),
            mentions=json.dumps(mentions),
            published=utcnow(),
        )
        session.add(note)
        await session.flush()
        tags = await mention_tags(session, mentions)
        document = strip_context(note_to_as(config, note, tags))
        create = make_activity(
            config, "Create", author, document, to=to, cc=cc, published=iso(note.published)
        )
        await publish(session, person.id, author, create, to_followers=True, recipients=mentions)
        row = await status_by_uri(runtime, session, uri)
    runtime.wake_delivery()
    assert row is not None, "a published post is in the outbox"
    return row.id


async def delete_status(runtime: Runtime, account: Account, value: str) -> StatusRow:
    """Delete the resident's own post: its URL answers 410, its audience gets a Delete."""
    config = runtime.config
    async with runtime.sessions.begin() as session:
        row = await status_by_id(runtime, session, value)
        person = await person_of(session, account)
        author = actor_id(config, person)
        if row is None:
            raise not_found()
        if row.author != author:
            raise ApiError(403, "This action is not allowed")
        note = (await session.scalars(select(Note).where(Note.uri == row.document["id"]))).first()
        if note is None:
            raise ApiError(403, "Only posts can be deleted from an app; use the node's pages")
        note.deleted_at, note.content = utcnow(), ""
        to, cc = [PUBLIC], [collection_url(config, person, "followers")]
        gone = make_activity(
            config,
            "Delete",
            author,
            strip_context(tombstone(note.uri, "Note", note.deleted_at)),
            to=to,
            cc=cc,
        )
        await publish(
            session,
            person.id,
            author,
            gone,
            to_followers=True,
            recipients=json.loads(note.mentions),
        )
    runtime.wake_delivery()
    return row


async def react(runtime: Runtime, account: Account, value: str, kind: str, *, undo: bool) -> None:
    """Favourite (Like) or boost (Announce) a status, or take it back (Undo)."""
    config = runtime.config
    activity_type = {"like": "Like", "announce": "Announce"}[kind]
    async with runtime.sessions.begin() as session:
        row = await status_by_id(runtime, session, value)
        if row is None:
            raise not_found()
        person = await person_of(session, account)
        me = actor_id(config, person)
        uri = row.document["id"]
        existing = (
            await session.scalars(
                select(Reaction).where(
                    Reaction.object_uri == uri, Reaction.actor_uri == me, Reaction.kind == kind
                )
            )
        ).first()
        recipients = [row.author] if row.author and row.author != me else []
        followers = collection_url(config, person, "followers")
        if undo:
            if existing is None:
                return
            original = {
                "id": existing.activity_uri,
                "type": activity_type,
                "actor": me,
                "object": uri,
            }
            await session.execute(delete(Reaction).where(Reaction.id == existing.id))
            activity = make_activity(
                config, "Undo", me, original, to=[PUBLIC], cc=[followers, *recipients]
            )
        else:
            if existing is not None:
                return
            if kind == "like":
                activity = make_activity(config, "Like", me, uri, to=recipients or [PUBLIC])
            else:
                activity = make_activity(
                    config,
                    "Announce",
                    me,
                    uri,
                    to=[PUBLIC],
                    cc=[followers, *recipients],
                    published=iso(utcnow()),
                )
            session.add(
                Reaction(activity_uri=activity["id"], kind=kind, actor_uri=me, object_uri=uri)
            )
        await publish(
            session, person.id, me, activity, to_followers=kind == "announce", recipients=recipients
        )
    runtime.wake_delivery()


async def context(
    runtime: Runtime, session: AsyncSession, row: StatusRow
) -> tuple[list[StatusRow], list[StatusRow]]:
    """The posts a status replies to (oldest first) and the replies under it (depth first)."""
    ancestors: list[StatusRow] = []
    parent = id_of(row.document.get("inReplyTo"))
    seen = {row.document["id"]}
    while parent and parent not in seen and len(ancestors) < 40:
        seen.add(parent)
        found = await status_by_uri(runtime, session, parent)
        if found is None:
            break
        ancestors.insert(0, found)
        parent = id_of(found.document.get("inReplyTo"))
    descendants: list[StatusRow] = []
    pending = [row.document["id"]]
    while pending and len(descendants) < 200:
        uri = pending.pop(0)
        replies = await session.scalars(
            select(Note.uri)
            .where(Note.in_reply_to == uri, Note.deleted_at.is_(None))
            .order_by(Note.published)
        )
        for reply in replies:
            if reply in seen:
                continue
            seen.add(reply)
            found = await status_by_uri(runtime, session, reply)
            if found is not None:
                descendants.append(found)
                pending.append(reply)
    return ancestors, descendants


async def vote(runtime: Runtime, account: Account, poll_id: str, choices: list[int]) -> None:
    """Answer a poll: the resident's own territory's decision takes their binding vote (one
    resident, one vote, as on the page); another territory's, an answer to its tally."""
    async with runtime.sessions() as session:
        row = await status_by_id(runtime, session, poll_id)
        if row is None or row.document.get("type") != "Question":
            raise not_found()
        names, multiple = poll_options(row.document)
        if not choices or any(c < 0 or c >= len(names) for c in choices):
            raise unprocessable("Choose one of the poll's options")
        if len(choices) > 1 and not multiple:
            raise unprocessable("This poll takes one choice")
        decision = (
            await session.scalars(select(Decision).where(Decision.uri == row.document["id"]))
        ).first()
        remote = (
            await session.scalars(
                select(RemoteObject).where(RemoteObject.uri == row.document["id"])
            )
        ).first()
    try:
        if decision is not None:
            tokens = [token for token, _ in option_labels(decision.method)]
            await cast_vote(runtime, account, decision.id, tokens[choices[0]])
        elif remote is not None:
            await answer_remote_decision(runtime, account, remote.id, names[choices[0]])
        else:
            raise unprocessable("This poll cannot be answered from here")
    except ParticipationError as refused:
        raise unprocessable(str(refused)) from None
