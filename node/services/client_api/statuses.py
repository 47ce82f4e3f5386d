"""Statuses as the client API lists them, from three sources: what this node published (its
outbox log: the territory's needs, proposals, decisions, experiments, evaluations, offers,
announcements, and residents' posts), the remote posts it keeps, and the Maillage objects of
other territories it received. Timelines page over the three by time (client_ids)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.convert.decisions import option_labels
from node.convert.mastodon import (
    PollFacts,
    StatusFacts,
    StatusText,
    note_status_text,
    own_status_text,
    poll_entity,
    poll_options,
    question_counts,
    remote_object_status_text,
    status_entity,
)
from node.convert.notes import note_to_as
from node.domain.client_ids import id_millis, millis, parse_status_id, status_id
from node.services.client_api.accounts import (
    accounts_by_uri,
    local_uri_prefix,
    person_of,
    unknown_account,
)
from node.services.federation.remote_objects import maillage_kind
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import (
    Account,
    Decision,
    Follow,
    Note,
    OutboxEntry,
    Reaction,
    RemoteObject,
    RemoteVote,
    Vote,
)
from protocols.activitystreams import id_of, type_of

MAX_LIMIT = 40
DEFAULT_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Page:
    """A page request: Mastodon's max_id (older than), since_id and min_id (newer than; min_id
    reads forward from there), limit."""

    max_id: str | None = None
    since_id: str | None = None
    min_id: str | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose statuses a timeline holds: local ones (all, or of some local actors), remote ones
    (none, all, or of some remote actors)."""

    local_actor_ids: frozenset[str] | None = None  # None: every local actor
    local: bool = True
    remote_authors: frozenset[str] | None = frozenset()  # None: every remote author


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One status found: its id here, its document, author and whether it is the node's
    own, and the text it shows (from stored, already cleaned columns)."""

    id: str
    document: dict[str, Any]
    author: str
    local: bool
    text: StatusText


def _author(document: dict[str, Any]) -> str:
    return id_of(document.get("attributedTo")) or id_of(document.get("actor")) or ""


def _bounds(page: Page) -> tuple[int | None, int | None]:
    """The page's time bounds in milliseconds (inclusive; ids then decide exactly)."""
    upper = id_millis(page.max_id) if page.max_id else None
    lower_id = page.min_id or page.since_id
    lower = id_millis(lower_id) if lower_id else None
    return lower, upper


def _moment(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, UTC)


async def _deleted(session: AsyncSession, object_ids: Iterable[str]) -> set[str]:
    ids = [i for i in object_ids if i]
    if not ids:
        return set()
    rows = await session.scalars(
        select(OutboxEntry.object_id).where(
            OutboxEntry.type == "Delete", OutboxEntry.object_id.in_(ids)
        )
    )
    return {r for r in rows if r}


async def _latest_documents(
    session: AsyncSession, object_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The newest Update of each object the node published, when it changed since creation."""
    if not object_ids:
        return {}
    newest = (
        select(OutboxEntry.object_id, func.max(OutboxEntry.seq).label("seq"))
        .where(OutboxEntry.type == "Update", OutboxEntry.object_id.in_(object_ids))
        .group_by(OutboxEntry.object_id)
        .subquery()
    )
    rows = await session.scalars(select(OutboxEntry).join(newest, OutboxEntry.seq == newest.c.seq))
    found = {}
    for entry in rows:
        document = json.loads(entry.body).get("object")
        if isinstance(document, dict) and entry.object_id:
            found[entry.object_id] = document
    return found


async def _outbox_rows(
    session: AsyncSession,
    scope: Scope,
    lower: int | None,
    upper: int | None,
    forward: bool,
    limit: int,
) -> list[StatusRow]:
    query = select(OutboxEntry).where(OutboxEntry.type == "Create", OutboxEntry.public)
    if scope.local_actor_ids is not None:
        query = query.where(OutboxEntry.actor_id.in_(scope.local_actor_ids))
    if upper is not None:
        query = query.where(OutboxEntry.created_at <= _moment(upper + 1))
    if lower is not None:
        query = query.where(OutboxEntry.created_at >= _moment(lower))
    order = OutboxEntry.seq.asc() if forward else OutboxEntry.seq.desc()
    entries = list(await session.scalars(query.order_by(order).limit(limit * 2)))
    return await rows_of_entries(session, entries)


async def rows_of_entries(session: AsyncSession, entries: list[OutboxEntry]) -> list[StatusRow]:
    """Statuses of Create entries of the outbox: their objects as they now stand."""
    created: list[tuple[OutboxEntry, dict[str, Any]]] = []
    for entry in entries:
        document = json.loads(entry.body).get("object")
        if isinstance(document, dict) and isinstance(document.get("id"), str):
            created.append((entry, document))
    object_ids = [document["id"] for _, document in created]
    gone = await _deleted(session, object_ids)
    fresher = await _latest_documents(session, object_ids)
    rows = []
    for entry, document in created:
        if document["id"] in gone:
            continue
        current = fresher.get(document["id"], document)
        rows.append(
            StatusRow(
                status_id(millis(entry.created_at), "o", str(entry.seq)),
                current,
                _author(current),
                True,
                own_status_text(current),
            )
        )
    return rows


async def _note_rows(
    runtime: Runtime,
    session: AsyncSession,
    scope: Scope,
    lower: int | None,
    upper: int | None,
    forward: bool,
    limit: int,
) -> list[StatusRow]:
    if scope.remote_authors is not None and not scope.remote_authors:
        return []
    query = select(Note).where(
        Note.local.is_(False), Note.deleted_at.is_(None), Note.visibility == "public"
    )
    if scope.remote_authors is not None:
        query = query.where(Note.author_uri.in_(scope.remote_authors))
    if upper is not None:
        query = query.where(Note.published <= _moment(upper + 1))
    if lower is not None:
        query = query.where(Note.published >= _moment(lower))
    order = (
        (Note.published.asc(), Note.id.asc())
        if forward
        else (Note.published.desc(), Note.id.desc())
    )
    notes = await session.scalars(query.order_by(*order).limit(limit * 2))
    return [note_row(runtime, note) for note in notes]


def note_row(runtime: Runtime, note: Note) -> StatusRow:
    """A remote post kept by the node, as a status."""
    document = note_to_as(runtime.config, note)
    return StatusRow(
        status_id(millis(note.published), "n", note.id),
        document,
        note.author_uri,
        False,
        note_status_text(note),
    )


async def _object_rows(
    session: AsyncSession,
    scope: Scope,
    lower: int | None,
    upper: int | None,
    forward: bool,
    limit: int,
) -> list[StatusRow]:
    if scope.remote_authors is not None and not scope.remote_authors:
        return []
    query = select(RemoteObject).where(RemoteObject.deleted.is_(False))
    if scope.remote_authors is not None:
        query = query.where(RemoteObject.actor_uri.in_(scope.remote_authors))
    if upper is not None:
        query = query.where(RemoteObject.published <= _moment(upper + 1))
    if lower is not None:
        query = query.where(RemoteObject.published >= _moment(lower))
    order = (
        (RemoteObject.published.asc(), RemoteObject.id.asc())
        if forward
        else (RemoteObject.published.desc(), RemoteObject.id.desc())
    )
    return [
        object_row(row) for row in await session.scalars(query.order_by(*order).limit(limit * 2))
    ]


def object_row(row: RemoteObject) -> StatusRow:
    """Another territory's object received here (a proposal, a decision...), as a status: its
    raw JSON for the structure (ids, dates, poll options), its stored columns for the text."""
    document = json.loads(row.raw)
    return StatusRow(
        status_id(millis(row.published), "r", row.id),
        document,
        row.actor_uri,
        False,
        remote_object_status_text(row),
    )


async def timeline(
    runtime: Runtime, session: AsyncSession, scope: Scope, page: Page
) -> list[StatusRow]:
    """One page of a timeline, newest first."""
    limit = max(1, min(page.limit, MAX_LIMIT))
    lower, upper = _bounds(page)
    forward = page.min_id is not None
    rows: list[StatusRow] = []
    if scope.local:
        rows += await _outbox_rows(session, scope, lower, upper, forward, limit)
    rows += await _note_rows(runtime, session, scope, lower, upper, forward, limit)
    rows += await _object_rows(session, scope, lower, upper, forward, limit)
    floor = page.min_id or page.since_id
    rows = [
        r
        for r in rows
        if (page.max_id is None or r.id < page.max_id) and (floor is None or r.id > floor)
    ]
    rows.sort(key=lambda r: r.id, reverse=not forward)
    rows = rows[:limit]
    rows.sort(key=lambda r: r.id, reverse=True)
    return rows


async def followed_authors(
    runtime: Runtime, session: AsyncSession, viewer: Account
) -> frozenset[str]:
    """The remote actors whose posts the viewer's home timeline holds (their accepted follows)."""
    me = f"{local_uri_prefix(runtime)}{(await person_of(session, viewer)).username}"
    rows = await session.scalars(
        select(Follow.followed_uri).where(Follow.follower_uri == me, Follow.state == "accepted")
    )
    return frozenset(rows)


async def status_by_id(runtime: Runtime, session: AsyncSession, value: str) -> StatusRow | None:
    """The status an API id names, or None."""
    parsed = parse_status_id(value)
    if parsed is None:
        return None
    source, key = parsed
    if source == "o":
        entry = await session.get(OutboxEntry, int(key))
        if entry is None or entry.type != "Create" or not entry.public:
            return None
        rows = await rows_of_entries(session, [entry])
        return rows[0] if rows and rows[0].id == value else None
    if source == "n":
        note = await session.get(Note, key)
        ok = note is not None and note.deleted_at is None and not note.local
        return note_row(runtime, note) if ok and note is not None else None
    if source == "r":
        row = await session.get(RemoteObject, key)
        return object_row(row) if row is not None and not row.deleted else None
    return None


async def status_by_uri(runtime: Runtime, session: AsyncSession, uri: str) -> StatusRow | None:
    """The status of an object the node holds by its ActivityPub id, or None."""
    entry = (
        await session.scalars(
            select(OutboxEntry).where(
                OutboxEntry.object_id == uri, OutboxEntry.type == "Create", OutboxEntry.public
            )
        )
    ).first()
    if entry is not None:
        rows = await rows_of_entries(session, [entry])
        return rows[0] if rows else None
    note = (
        await session.scalars(select(Note).where(Note.uri == uri, Note.local.is_(False)))
    ).first()
    if note is not None and note.deleted_at is None:
        return note_row(runtime, note)
    remote = (await session.scalars(select(RemoteObject).where(RemoteObject.uri == uri))).first()
    if remote is not None and not remote.deleted:
        return object_row(remote)
    return None


async def _ids_for(runtime: Runtime, session: AsyncSession, uris: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for uri in uris:
        row = await status_by_uri(runtime, session, uri)
        if row is not None:
            found[uri] = row.id
    return found


async def _poll_facts(
    session: AsyncSession, document: dict[str, Any], viewer: Account | None, local: bool
) -> PollFacts:

    counts = question_counts(document)
    names, _ = poll_options(document)
    own: list[int] = []
    if viewer is not None:
        if local:
            decision = (
                await session.scalars(select(Decision).where(Decision.uri == document["id"]))
            ).first()
            vote = (
                (
                    await session.scalars(
                        select(Vote).where(
                            Vote.decision_id == decision.id, Vote.account_id == viewer.id
                        )
                    )
                ).first()
                if decision is not None
                else None
            )
            if vote is not None and decision is not None:
                tokens = [token for token, _ in option_labels(decision.method)]
                own = [tokens.index(vote.choice)] if vote.choice in tokens else []
        else:
            answer = (
                await session.scalars(
                    select(RemoteVote).where(
                        RemoteVote.account_id == viewer.id,
                        RemoteVote.question_uri == document["id"],
                    )
                )
            ).first()
            if answer is not None and answer.choice in names:
                own = [names.index(answer.choice)]
    return PollFacts(counts=counts, voters=sum(counts), own_votes=own, voted=bool(own))


async def render(
    runtime: Runtime, session: AsyncSession, rows: list[StatusRow], viewer: Account | None
) -> list[dict[str, Any]]:
    """Status entities for these rows, with counts and the viewer's own flags."""
    if not rows:
        return []
    uris = [r.document["id"] for r in rows]
    accounts = await accounts_by_uri(runtime, session, {r.author for r in rows})
    replies = dict(
        (
            await session.execute(
                select(Note.in_reply_to, func.count())
                .where(Note.in_reply_to.in_(uris), Note.deleted_at.is_(None))
                .group_by(Note.in_reply_to)
            )
        ).all()
    )
    reactions: dict[tuple[str, str], int] = {
        (uri, kind): int(n)
        for uri, kind, n in (
            await session.execute(
                select(Reaction.object_uri, Reaction.kind, func.count())
                .where(Reaction.object_uri.in_(uris))
                .group_by(Reaction.object_uri, Reaction.kind)
            )
        ).all()
    }
    mine: set[tuple[str, str]] = set()
    if viewer is not None and viewer.actor_id:
        me = f"{local_uri_prefix(runtime)}{(await person_of(session, viewer)).username}"
        mine = {
            (uri, kind)
            for uri, kind in (
                await session.execute(
                    select(Reaction.object_uri, Reaction.kind).where(
                        and_(Reaction.object_uri.in_(uris), Reaction.actor_uri == me)
                    )
                )
            ).all()
        }
    parents = {id_of(r.document.get("inReplyTo")) for r in rows} - {None}
    parent_ids = await _ids_for(runtime, session, {p for p in parents if p})
    parent_rows = {uri: await status_by_uri(runtime, session, uri) for uri in parent_ids}
    parent_accounts = await accounts_by_uri(
        runtime, session, {row.author for row in parent_rows.values() if row}
    )
    now = utcnow()
    rendered = []
    for row in rows:
        uri = row.document["id"]
        parent = id_of(row.document.get("inReplyTo"))
        parent_row = parent_rows.get(parent) if parent else None
        poll = None
        if type_of(row.document) == "Question":
            poll = poll_entity(
                row.id,
                row.document,
                await _poll_facts(session, row.document, viewer, row.local),
                now,
            )
        facts = StatusFacts(
            id=row.id,
            account=accounts.get(row.author) or unknown_account(row.author),
            in_reply_to_id=parent_ids.get(parent) if parent else None,
            in_reply_to_account_id=(
                parent_accounts.get(parent_row.author, {}).get("id") if parent_row else None
            ),
            replies_count=int(replies.get(uri, 0)),
            favourites_count=reactions.get((uri, "like"), 0),
            reblogs_count=reactions.get((uri, "announce"), 0),
            favourited=(uri, "like") in mine,
            reblogged=(uri, "announce") in mine,
            poll=poll,
            language=_language(row.document, runtime.config.territory.default_language),
            card_url=row.document.get("url") if _has_card(row.document) else None,
        )
        rendered.append(status_entity(row.document, row.text, facts))
    return rendered


def _has_card(document: dict[str, Any]) -> bool:
    """Maillage objects link to their page with a card; polls and posts do not."""
    return maillage_kind(document) is not None and type_of(document) != "Question"


def _language(document: dict[str, Any], default: str) -> str:
    content_map = document.get("contentMap")
    if isinstance(content_map, dict) and content_map:
        first = next(iter(content_map))
        if isinstance(first, str) and len(first) <= 16:
            return first
    return default
