"""What the proposals pages show: the filtered list, one proposal with its needs,
amendments, comments, history and the steps the visitor may take, and one amendment."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.domain.participation import ProposalState, allowed_next
from node.services.participation.circles import can_facilitate
from node.services.participation.need_pages import (
    Comment,
    HistoryEntry,
    comments_of,
    open_needs,
    visible_history,
)
from node.services.participation.needs import OPEN_STATES, author_name
from node.services.participation.proposals import AMENDABLE, DECIDED_ELSEWHERE, drafting_circles
from node.storage.models import Account, Amendment, Circle, Need, Proposal, ProposalNeed
from protocols.html import text_to_html


@dataclass(frozen=True, slots=True)
class ProposalRow:
    """A proposal in the list."""

    proposal: Proposal
    circle: Circle
    needs: int


#: How many proposals the list shows on one page (older ones on the next pages).
PROPOSALS_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class ProposalList:
    """One page of the proposals list, and how many proposals match in all."""

    rows: list[ProposalRow]
    total: int
    page: int
    pages: int


async def list_proposals(
    sessions: async_sessionmaker[AsyncSession],
    *,
    theme: str = "",
    state: str = "",
    page: int = 1,
) -> ProposalList:
    """Proposals, newest first, optionally of one theme and one state, one page at a time
    (the page costs the same whatever the number of proposals)."""
    filters = [Proposal.theme == theme] if theme else []
    if state:
        filters.append(Proposal.state == state)
    needs = (
        select(func.count(ProposalNeed.id))
        .where(ProposalNeed.proposal_id == Proposal.id)
        .scalar_subquery()
    )
    query = (
        select(Proposal, Circle, needs)
        .join(Circle, Circle.id == Proposal.circle_id)
        .where(*filters)
        .order_by(Proposal.created_at.desc(), Proposal.id.desc())
        .limit(PROPOSALS_PAGE_SIZE)
        .offset((page - 1) * PROPOSALS_PAGE_SIZE)
    )
    async with sessions() as session:
        total = int(
            await session.scalar(select(func.count()).select_from(Proposal).where(*filters)) or 0
        )
        rows = [ProposalRow(p, c, n) for p, c, n in await session.execute(query)]
    pages = max(1, -(-total // PROPOSALS_PAGE_SIZE))
    return ProposalList(rows, total, page, pages)


@dataclass(frozen=True, slots=True)
class AmendmentRow:
    """An amendment as its proposal's page lists it."""

    amendment: Amendment
    author: str


@dataclass
class ProposalPage:
    """One proposal and everything its page shows to the current visitor."""

    proposal: Proposal
    summary_html: str
    text_html: str
    author: str
    circle: Circle
    needs: list[Need]
    amendments: list[AmendmentRow]
    comments: list[Comment]
    history: list[HistoryEntry]
    amendable: bool
    can_facilitate: bool = False
    #: the steps the visitor may choose on the page (adoption is left to decisions)
    next_states: list[str] = field(default_factory=list)


async def proposal_page(
    sessions: async_sessionmaker[AsyncSession],
    base_url: str,
    proposal_id: str,
    viewer: Account | None,
) -> ProposalPage | None:
    """A proposal's page, or None when there is no such proposal."""
    async with sessions() as session:
        proposal = await session.get(Proposal, proposal_id)
        if proposal is None:
            return None
        circle = await session.get(Circle, proposal.circle_id)
        assert circle is not None, "proposals always belong to a circle"
        amendments = await session.scalars(
            select(Amendment)
            .where(Amendment.proposal_id == proposal.id)
            .order_by(Amendment.created_at, Amendment.id)
        )
        page = ProposalPage(
            proposal=proposal,
            summary_html=text_to_html(proposal.summary),
            text_html=text_to_html(proposal.text),
            author=await author_name(session, proposal.author_id),
            circle=circle,
            needs=list(
                await session.scalars(
                    select(Need)
                    .join(ProposalNeed, ProposalNeed.need_id == Need.id)
                    .where(ProposalNeed.proposal_id == proposal.id)
                    .order_by(Need.created_at)
                )
            ),
            amendments=[
                AmendmentRow(a, await author_name(session, a.author_id)) for a in amendments
            ],
            comments=await comments_of(session, proposal.uri, base_url),
            history=await visible_history(session, proposal.uri),
            amendable=ProposalState(proposal.state) in AMENDABLE,
        )
        if viewer is not None:
            page.can_facilitate = await can_facilitate(session, viewer, proposal.circle_id)
            steps = sorted(allowed_next(ProposalState(proposal.state)) - DECIDED_ELSEWHERE)
            if page.can_facilitate:
                page.next_states = [s.value for s in steps]
            elif proposal.author_id == viewer.id and ProposalState.WITHDRAWN in steps:
                page.next_states = [ProposalState.WITHDRAWN.value]
    return page


@dataclass
class DraftChoices:
    """What the new-proposal form offers: the circles the visitor may draft in and the
    needs still open."""

    circles: list[Circle]
    needs: list[Need]


async def draft_choices(
    sessions: async_sessionmaker[AsyncSession], account: Account
) -> DraftChoices:
    """The choices of the new-proposal form for this account."""
    async with sessions() as session:
        return DraftChoices(
            circles=await drafting_circles(session, account),
            needs=await open_needs(session, tuple(s.value for s in OPEN_STATES)),
        )


@dataclass
class AmendmentPage:
    """One amendment, its proposal, its history, and whether the visitor may decide it."""

    amendment: Amendment
    proposal: Proposal
    text_html: str
    rationale_html: str
    author: str
    history: list[HistoryEntry]
    can_decide: bool


async def amendment_page(
    sessions: async_sessionmaker[AsyncSession], amendment_id: str, viewer: Account | None
) -> AmendmentPage | None:
    """An amendment's page, or None when there is no such amendment."""
    async with sessions() as session:
        amendment = await session.get(Amendment, amendment_id)
        if amendment is None:
            return None
        proposal = await session.get(Proposal, amendment.proposal_id)
        assert proposal is not None, "amendments always amend a proposal"
        can_decide = (
            viewer is not None
            and amendment.state == "proposed"
            and ProposalState(proposal.state) in AMENDABLE
            and await can_facilitate(session, viewer, proposal.circle_id)
        )
        return AmendmentPage(
            amendment=amendment,
            proposal=proposal,
            text_html=text_to_html(amendment.text),
            rationale_html=text_to_html(amendment.rationale),
            author=await author_name(session, amendment.author_id),
            history=await visible_history(session, amendment.uri),
            can_decide=can_decide,
        )
