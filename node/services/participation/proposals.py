"""Proposals: drafted in a circle from one or more needs, amended by residents (a circle
facilitator accepts or rejects each amendment), commented, and moved through their
lifecycle; every step is kept in the visible history and federated as an Update.

Decisions move proposals to adopted / not adopted through `set_proposal_state`; the pages
never do (DECIDED_ELSEWHERE).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.convert.needs import THEMES
from node.convert.proposals import amendment_to_as, proposal_to_as
from node.convert.urls import actor_id
from node.domain.ids import new_id
from node.domain.participation import (
    NeedState,
    ProposalState,
    TransitionError,
    check_transition,
)
from node.services.federation.publishing import federate
from node.services.participation.circles import can_facilitate
from node.services.participation.history import record_change
from node.services.participation.needs import (
    FACILITATORS_ONLY,
    OPEN_STATES,
    UNKNOWN_CIRCLE,
    UNKNOWN_THEME,
    NotAllowed,
    ParticipationError,
    author_left,
    author_name,
    post_comment,
    require_facilitator,
    set_need_state,
)
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import (
    Account,
    Amendment,
    Circle,
    CircleMember,
    LocalActor,
    Need,
    Note,
    Proposal,
    ProposalNeed,
)

P = ProposalState
#: Longest text of a proposal or an amendment; its written summary is shorter.
MAX_PROPOSAL_TEXT = 20_000
MAX_SUMMARY = 500
#: States in which residents may propose amendments and facilitators decide them.
AMENDABLE = frozenset({P.DRAFT, P.IN_DELIBERATION})
#: States only a decision's result sets (participation/decisions.py), never a page's form.
DECIDED_ELSEWHERE = frozenset({P.ADOPTED, P.NOT_ADOPTED})

NOT_IN_CIRCLE = "Seuls les membres et facilitateurs du cercle peuvent y rédiger une proposition."
NEEDS_REQUIRED = "Choisissez au moins un besoin."
NEED_TAKEN = "Un des besoins choisis n'est plus ouvert : rechargez la page et choisissez à nouveau."
NOT_AMENDABLE = "Cette proposition n'accepte plus d'amendements."
ALREADY_DECIDED = "Cet amendement a déjà été tranché."
STEP_REFUSED = "Cette étape n'est pas possible depuis l'état actuel de la proposition."
DECIDED_BY_VOTE = "L'adoption ou le rejet résulte d'une décision, pas de ce formulaire."
WITHDRAW_ONLY = "Seuls l'auteur ou l'autrice et les facilitateurs peuvent retirer une proposition."


async def may_draft(session: AsyncSession, account: Account, circle_id: str) -> bool:
    """Whether the account may draft a proposal in the circle: its facilitators (and the
    node's facilitators and admins) and its members."""
    if await can_facilitate(session, account, circle_id):
        return True
    member = await session.scalar(
        select(CircleMember.id).where(
            CircleMember.circle_id == circle_id, CircleMember.account_id == account.id
        )
    )
    return member is not None


async def drafting_circles(session: AsyncSession, account: Account) -> list[Circle]:
    """The circles the account may draft proposals in, by name."""
    circles = await session.scalars(select(Circle).order_by(Circle.name))
    return [c for c in circles if await may_draft(session, account, c.id)]


async def proposal_document(
    runtime: Runtime, session: AsyncSession, proposal: Proposal
) -> dict[str, Any]:
    """The proposal's current ActivityPub document."""
    circle = await session.get(Circle, proposal.circle_id)
    assert circle is not None, "proposals always belong to a circle"
    circle_actor = await session.get(LocalActor, circle.actor_id)
    assert circle_actor is not None, "circles always have their actor"
    need_uris = await session.scalars(
        select(Need.uri)
        .join(ProposalNeed, ProposalNeed.need_id == Need.id)
        .where(ProposalNeed.proposal_id == proposal.id)
        .order_by(Need.created_at)
    )
    return proposal_to_as(
        runtime.config,
        proposal,
        circle_uri=actor_id(runtime.config, circle_actor),
        circle_name=circle.name,
        need_uris=list(need_uris),
        author_left=await author_left(session, proposal.author_id),
    )


async def federate_proposal(
    runtime: Runtime, session: AsyncSession, proposal: Proposal, verb: str = "Update"
) -> None:
    """Log the proposal's Create or Update for the territory's followers."""
    await session.flush()
    await federate(runtime, session, await proposal_document(runtime, session, proposal), verb=verb)


async def set_proposal_state(
    runtime: Runtime,
    session: AsyncSession,
    proposal: Proposal,
    state: ProposalState,
    by: str,
    note: str = "",
) -> None:
    """Move a proposal to `state` in the caller's transaction: the transition is checked
    (TransitionError), the history records it, and an Update is federated.

    The caller commits, then calls `runtime.wake_delivery()`. Decisions call it at closing.
    """
    check_transition(ProposalState(proposal.state), state)
    record_change(session, proposal.uri, proposal.state, state.value, by, note)
    proposal.state, proposal.updated_at = state.value, utcnow()
    await federate_proposal(runtime, session, proposal)


async def draft_proposal(
    runtime: Runtime,
    account: Account,
    *,
    circle_id: str,
    title: str,
    summary: str,
    text: str,
    theme: str,
    need_ids: list[str],
) -> Proposal:
    """Draft a proposal in a circle from needs (which go to state in_proposal)."""
    if theme and theme not in THEMES:
        raise ParticipationError(UNKNOWN_THEME, "theme")
    need_ids = list(dict.fromkeys(need_ids))
    if not need_ids:
        raise ParticipationError(NEEDS_REQUIRED, "needs")
    identifier, now = new_id(), utcnow()
    async with runtime.sessions.begin() as session:
        circle = await session.get(Circle, circle_id) if circle_id else None
        if circle is None:
            raise ParticipationError(UNKNOWN_CIRCLE, "circle")
        if not await may_draft(session, account, circle.id):
            raise NotAllowed(NOT_IN_CIRCLE)
        needs = list(await session.scalars(select(Need).where(Need.id.in_(need_ids))))
        if len(needs) != len(need_ids) or any(n.state not in OPEN_STATES for n in needs):
            raise ParticipationError(NEED_TAKEN, "needs")
        proposal = Proposal(
            id=identifier,
            uri=f"{runtime.config.node.base_url}/proposals/{identifier}",
            circle_id=circle.id,
            author_id=account.id,
            title=title,
            summary=summary,
            text=text,
            theme=theme,
            state=P.DRAFT.value,
            created_at=now,
            updated_at=now,
        )
        session.add(proposal)
        by = await author_name(session, account.id)
        record_change(session, proposal.uri, None, proposal.state, by, circle.name)
        for need in needs:
            session.add(ProposalNeed(proposal_id=proposal.id, need_id=need.id))
            await set_need_state(runtime, session, need, NeedState.IN_PROPOSAL, by, title)
        await federate_proposal(runtime, session, proposal, verb="Create")
    runtime.wake_delivery()
    return proposal


async def _proposal(session: AsyncSession, proposal_id: str) -> Proposal:
    proposal = await session.get(Proposal, proposal_id)
    if proposal is None:
        raise LookupError(proposal_id)
    return proposal


async def move_proposal(
    runtime: Runtime, account: Account, proposal_id: str, state: str, note: str
) -> Proposal:
    """A step chosen on the proposal's page: by the circle's facilitators, or a withdrawal
    by its author; adoption is left to decisions."""
    try:
        wanted = ProposalState(state)
    except ValueError:
        raise ParticipationError(STEP_REFUSED, "state") from None
    if wanted in DECIDED_ELSEWHERE:
        raise ParticipationError(DECIDED_BY_VOTE, "state")
    async with runtime.sessions.begin() as session:
        proposal = await _proposal(session, proposal_id)
        author_withdraws = wanted is P.WITHDRAWN and proposal.author_id == account.id
        if not author_withdraws and not await can_facilitate(session, account, proposal.circle_id):
            raise NotAllowed(WITHDRAW_ONLY if wanted is P.WITHDRAWN else FACILITATORS_ONLY)
        by = await author_name(session, account.id)
        try:
            await set_proposal_state(runtime, session, proposal, wanted, by, note)
        except TransitionError:
            raise ParticipationError(STEP_REFUSED, "state") from None
    runtime.wake_delivery()
    return proposal


async def comment_proposal(runtime: Runtime, account: Account, proposal_id: str, text: str) -> Note:
    """A resident comments on a proposal."""
    async with runtime.sessions.begin() as session:
        proposal = await _proposal(session, proposal_id)
        note = await post_comment(runtime, session, account, proposal.uri, text)
    runtime.wake_delivery()
    return note


async def amendment_document(
    runtime: Runtime, session: AsyncSession, amendment: Amendment
) -> dict[str, Any]:
    """The amendment's current ActivityPub document."""
    proposal = await _proposal(session, amendment.proposal_id)
    left = await author_left(session, amendment.author_id)
    return amendment_to_as(runtime.config, amendment, proposal, author_left=left)


async def propose_amendment(
    runtime: Runtime, account: Account, proposal_id: str, *, text: str, rationale: str
) -> Amendment:
    """A resident proposes a new text for a proposal still open to amendments."""
    identifier = new_id()
    async with runtime.sessions.begin() as session:
        proposal = await _proposal(session, proposal_id)
        if proposal.state not in AMENDABLE:
            raise ParticipationError(NOT_AMENDABLE)
        amendment = Amendment(
            id=identifier,
            uri=f"{runtime.config.node.base_url}/amendments/{identifier}",
            proposal_id=proposal.id,
            author_id=account.id,
            text=text,
            rationale=rationale,
            state="proposed",
            created_at=utcnow(),
        )
        session.add(amendment)
        by = await author_name(session, account.id)
        record_change(session, amendment.uri, None, "proposed", by, rationale)
        await session.flush()
        document = amendment_to_as(runtime.config, amendment, proposal)
        await federate(runtime, session, document, verb="Create")
    runtime.wake_delivery()
    return amendment


async def decide_amendment(
    runtime: Runtime, account: Account, amendment_id: str, *, accept: bool, note: str
) -> Amendment:
    """A circle facilitator accepts an amendment (its text replaces the proposal's) or
    rejects it; both are in the history and federated."""
    async with runtime.sessions.begin() as session:
        amendment = await session.get(Amendment, amendment_id)
        if amendment is None:
            raise LookupError(amendment_id)
        proposal = await _proposal(session, amendment.proposal_id)
        await require_facilitator(session, account, proposal.circle_id)
        if amendment.state != "proposed":
            raise ParticipationError(ALREADY_DECIDED)
        if proposal.state not in AMENDABLE:
            raise ParticipationError(NOT_AMENDABLE)
        by = await author_name(session, account.id)
        decided = "accepted" if accept else "rejected"
        record_change(session, amendment.uri, amendment.state, decided, by, note)
        amendment.state, amendment.decided_by, amendment.decided_at = decided, account.id, utcnow()
        if accept:
            proposal.text, proposal.updated_at = amendment.text, utcnow()
            replaced = f"Texte remplacé par l'amendement {amendment.uri}"
            record_change(session, proposal.uri, proposal.state, proposal.state, by, replaced)
            await federate_proposal(runtime, session, proposal)
        document = amendment_to_as(runtime.config, amendment, proposal)
        await federate(runtime, session, document, verb="Update")
    runtime.wake_delivery()
    return amendment


async def proposal_as(runtime: Runtime, proposal_id: str) -> dict[str, Any] | None:
    """The document served at a proposal's URL, or None when there is no such proposal."""
    async with runtime.sessions() as session:
        proposal = await session.get(Proposal, proposal_id)
        return await proposal_document(runtime, session, proposal) if proposal else None


async def amendment_as(runtime: Runtime, amendment_id: str) -> dict[str, Any] | None:
    """The document served at an amendment's URL, or None when there is no such amendment."""
    async with runtime.sessions() as session:
        amendment = await session.get(Amendment, amendment_id)
        return await amendment_document(runtime, session, amendment) if amendment else None
