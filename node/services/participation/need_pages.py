"""What the needs pages show: the filtered list with support counts, one need with its
supports, comments (local and remote replies), history and triage choices, and the needs
and proposals of other Maillage nodes received through federation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.domain.participation import NeedState, allowed_next
from node.services.participation.circles import can_facilitate
from node.services.participation.history import history_of
from node.services.participation.needs import OPEN_STATES, author_name, support_count
from node.storage.models import (
    Account,
    Circle,
    LocalActor,
    Need,
    NeedSupport,
    Note,
    Proposal,
    ProposalNeed,
    RemoteActor,
    RemoteObject,
    StateChange,
)
from protocols.activitystreams import web_link
from protocols.html import text_to_html

#: How many received objects of other nodes a list shows.
REMOTE_LIMIT = 30


@dataclass(frozen=True, slots=True)
class Comment:
    """A reply to one of our objects: a resident's comment or a remote reply (`link`: where
    it lives, for remote ones)."""

    note: Note
    author: str
    local: bool
    link: str


async def comments_of(session: AsyncSession, uri: str, base_url: str) -> list[Comment]:
    """The visible replies to an object, oldest first, with their authors' names."""
    notes = list(
        await session.scalars(
            select(Note)
            .where(Note.in_reply_to == uri, Note.deleted_at.is_(None))
            .where(Note.visibility.in_(("public", "unlisted")))
            .order_by(Note.published, Note.id)
        )
    )
    prefix = f"{base_url}/actors/"
    local_names = {
        f"{prefix}{username}": name
        for username, name in await session.execute(
            select(LocalActor.username, LocalActor.display_name).where(
                LocalActor.username.in_(
                    [n.author_uri.removeprefix(prefix) for n in notes if n.local]
                )
            )
        )
    }
    remote_names = {
        uri: name or f"@{username}@{domain}"
        for uri, name, username, domain in await session.execute(
            select(
                RemoteActor.uri, RemoteActor.name, RemoteActor.username, RemoteActor.domain
            ).where(RemoteActor.uri.in_([n.author_uri for n in notes if not n.local]))
        )
    }
    names = local_names | remote_names
    return [
        Comment(n, names.get(n.author_uri, n.author_uri), n.local, web_link(n.url, n.uri))
        for n in notes
    ]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A step of an object's history, its note made HTML (links clickable)."""

    change: StateChange
    note_html: str


async def visible_history(session: AsyncSession, uri: str) -> list[HistoryEntry]:
    """An object's history, oldest first, ready for a page."""
    return [HistoryEntry(c, text_to_html(c.note)) for c in await history_of(session, uri)]


@dataclass(frozen=True, slots=True)
class Received:
    """A need or proposal of another Maillage node, with a safe link to it."""

    item: RemoteObject
    link: str


@dataclass(frozen=True, slots=True)
class NeedRow:
    """A need in the list."""

    need: Need
    supports: int


async def list_needs(
    sessions: async_sessionmaker[AsyncSession], *, theme: str = "", state: str = ""
) -> list[NeedRow]:
    """Needs, newest first, optionally of one theme and one state, with support counts."""
    query = (
        select(Need, func.count(NeedSupport.id))
        .outerjoin(NeedSupport, NeedSupport.need_id == Need.id)
        .group_by(Need.id)
        .order_by(Need.created_at.desc(), Need.id.desc())
    )
    if theme:
        query = query.where(Need.theme == theme)
    if state:
        query = query.where(Need.state == state)
    async with sessions() as session:
        return [NeedRow(need, count) for need, count in await session.execute(query)]


async def open_needs(session: AsyncSession, states: tuple[str, ...]) -> list[Need]:
    """Needs in the given states, by title: merge targets, needs a proposal can take up."""
    return list(
        await session.scalars(select(Need).where(Need.state.in_(states)).order_by(Need.title))
    )


@dataclass
class NeedPage:
    """One need and everything its page shows to the current visitor."""

    need: Need
    text_html: str
    answer_html: str
    author: str
    supports: int
    supported: bool
    circle: Circle | None
    merged_into: Need | None
    merged_here: list[Need]
    proposals: list[Proposal]
    comments: list[Comment]
    history: list[HistoryEntry]
    can_triage: bool = False
    #: the triage steps the visitor may take now (in_circle, answered, merged)
    triage_steps: set[str] = field(default_factory=set)
    merge_targets: list[Need] = field(default_factory=list)
    circles: list[Circle] = field(default_factory=list)


async def need_page(
    sessions: async_sessionmaker[AsyncSession], base_url: str, need_id: str, viewer: Account | None
) -> NeedPage | None:
    """A need's page, or None when there is no such need."""
    async with sessions() as session:
        need = await session.get(Need, need_id)
        if need is None:
            return None
        supported = viewer is not None and bool(
            await session.scalar(
                select(NeedSupport.id).where(
                    NeedSupport.need_id == need.id, NeedSupport.account_id == viewer.id
                )
            )
        )
        page = NeedPage(
            need=need,
            text_html=text_to_html(need.text),
            answer_html=text_to_html(need.answer),
            author=await author_name(session, need.author_id),
            supports=await support_count(session, need.id),
            supported=supported,
            circle=await session.get(Circle, need.circle_id) if need.circle_id else None,
            merged_into=await session.get(Need, need.merged_into_id)
            if need.merged_into_id
            else None,
            merged_here=list(
                await session.scalars(select(Need).where(Need.merged_into_id == need.id))
            ),
            proposals=list(
                await session.scalars(
                    select(Proposal)
                    .join(ProposalNeed, ProposalNeed.proposal_id == Proposal.id)
                    .where(ProposalNeed.need_id == need.id)
                )
            ),
            comments=await comments_of(session, need.uri, base_url),
            history=await visible_history(session, need.uri),
        )
        steps = {s.value for s in allowed_next(NeedState(need.state))} - {NeedState.IN_PROPOSAL}
        if steps and viewer is not None:
            page.can_triage = await can_facilitate(session, viewer, need.circle_id)
        if page.can_triage:
            page.triage_steps = steps
        if NeedState.MERGED in page.triage_steps:
            open_states = (*OPEN_STATES, NeedState.IN_PROPOSAL)
            page.merge_targets = [
                n for n in await open_needs(session, open_states) if n.id != need.id
            ]
        if NeedState.IN_CIRCLE in page.triage_steps:
            page.circles = list(await session.scalars(select(Circle).order_by(Circle.name)))
    return page


async def received_objects(
    sessions: async_sessionmaker[AsyncSession], proposal_kind: str
) -> list[Received]:
    """Needs or proposals (by `proposalKind`) received from other Maillage nodes, newest
    first; their text was sanitised when stored."""
    async with sessions() as session:
        rows = await session.scalars(
            select(RemoteObject)
            .where(RemoteObject.kind == "tc:Proposal", RemoteObject.deleted.is_(False))
            .order_by(RemoteObject.updated.desc())
            .limit(REMOTE_LIMIT * 4)
        )
        kept = [
            Received(row, link)
            for row in rows
            if _proposal_kind(row.raw) == proposal_kind and (link := web_link(row.url, row.uri))
        ]
    return kept[:REMOTE_LIMIT]


def _proposal_kind(raw: str) -> str:
    try:
        document = json.loads(raw)
    except ValueError:
        return ""
    kind = document.get("proposalKind") if isinstance(document, dict) else None
    return kind if isinstance(kind, str) else ""
