"""Reading decisions: what a decision's page, the decisions list and the `Question` document
show (participation, the result once closed, the non-binding remote tally, the history)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.convert.decisions import decision_to_as, option_labels
from node.domain.participation import DecisionState, ProposalState
from node.services.participation.circles import CIRCLE_FACILITATOR, can_facilitate
from node.services.participation.history import history_of
from node.storage.models import (
    Account,
    CircleMember,
    Decision,
    ExternalAnswer,
    Proposal,
    StateChange,
    Vote,
)


def effective_state(decision: Decision, now: datetime) -> DecisionState:
    """The state a decision is in at `now`, by its times: the scheduler may lag a few seconds
    behind the clock, but votes and pages follow the times the facilitator announced."""
    if decision.state == DecisionState.CLOSED or now >= decision.closes_at:
        return DecisionState.CLOSED
    if now >= decision.opens_at:
        return DecisionState.OPEN
    return DecisionState.SCHEDULED


def quorum_needed(quorum: float, eligible: int) -> int:
    """How many voters the quorum asks for (a share of the eligible residents, rounded up).

    >>> quorum_needed(0.1, 41), quorum_needed(0.25, 40), quorum_needed(0.0, 40)
    (5, 10, 0)
    """
    return math.ceil(round(quorum * eligible, 6))


def stored_result(decision: Decision) -> dict[str, Any]:
    """The result computed at closing (empty before)."""
    if not decision.result:
        return {}
    value = json.loads(decision.result)
    return value if isinstance(value, dict) else {}


async def eligible_residents(session: AsyncSession, decision_id: str | None = None) -> int:
    """Who may vote: every account of the node is a verified resident, except the accounts
    their owners deleted; with `decision_id`, those who voted in that decision before
    deleting their account still count (their votes do)."""
    counted = Account.deleted_at.is_(None)
    if decision_id is not None:
        voted = select(Vote.account_id).where(Vote.decision_id == decision_id)
        counted = or_(counted, Account.id.in_(voted))
    query = select(func.count()).select_from(Account).where(counted)
    return int(await session.scalar(query) or 0)


async def voter_count(session: AsyncSession, decision_id: str) -> int:
    """How many residents have voted so far (their choices stay secret until closing)."""
    query = select(func.count()).select_from(Vote).where(Vote.decision_id == decision_id)
    return int(await session.scalar(query) or 0)


async def binding_choices(session: AsyncSession, decision_id: str) -> list[str]:
    """Every resident's current choice, for the count at closing."""
    return list(await session.scalars(select(Vote.choice).where(Vote.decision_id == decision_id)))


async def external_tally(session: AsyncSession, decision_id: str) -> dict[str, int]:
    """Remote answers per choice token: the separate, non-binding tally."""
    rows = await session.execute(
        select(ExternalAnswer.choice, func.count())
        .where(ExternalAnswer.decision_id == decision_id)
        .group_by(ExternalAnswer.choice)
    )
    return {choice: int(count) for choice, count in rows.all()}


async def question_document(
    session: AsyncSession, config: InstanceConfig, decision: Decision
) -> dict[str, Any]:
    """The decision's `Question` document as served at its id and federated."""
    proposal = await session.get(Proposal, decision.proposal_id)
    assert proposal is not None, "a decision's proposal is deleted with it"
    external = await external_tally(session, decision.id)
    return decision_to_as(config, decision, proposal, stored_result(decision), external)


async def question_for(
    sessions: async_sessionmaker[AsyncSession], config: InstanceConfig, decision_id: str
) -> dict[str, Any] | None:
    """The `Question` document of a decision by id, or None when there is no such decision."""
    async with sessions() as session:
        decision = await session.get(Decision, decision_id)
        if decision is None:
            return None
        return await question_document(session, config, decision)


@dataclass
class DecisionView:
    """Everything a decision's page shows."""

    decision: Decision
    proposal: Proposal
    #: scheduled, open or closed, by the clock
    state: DecisionState
    options: list[tuple[str, str]]
    voters: int
    eligible: int
    quorum_needed: int
    #: the visitor's own vote, if they are logged in and voted
    my_vote: Vote | None
    #: computed at closing: counts, voters, eligible, participation, quorum_reached, adopted
    result: dict[str, Any]
    #: remote answers per choice token (non-binding)
    external: dict[str, int]
    history: list[StateChange] = field(default_factory=list)
    #: time until closing while open, until opening while scheduled
    time_left: timedelta | None = None

    @property
    def external_total(self) -> int:
        """How many remote actors answered."""
        return sum(self.external.values())

    @property
    def participation(self) -> int:
        """Participation so far, in whole percent of the eligible residents."""
        return round(100 * self.voters / self.eligible) if self.eligible else 0


async def decision_view(
    sessions: async_sessionmaker[AsyncSession],
    decision_id: str,
    account_id: str | None,
    now: datetime,
) -> DecisionView | None:
    """A decision's page, as the visitor `account_id` (None when anonymous) sees it at `now`."""
    async with sessions() as session:
        decision = await session.get(Decision, decision_id)
        if decision is None:
            return None
        proposal = await session.get(Proposal, decision.proposal_id)
        assert proposal is not None, "a decision's proposal is deleted with it"
        my_vote = None
        if account_id is not None:
            my_vote = (
                await session.scalars(
                    select(Vote).where(
                        Vote.decision_id == decision.id, Vote.account_id == account_id
                    )
                )
            ).first()
        state = effective_state(decision, now)
        result = stored_result(decision)
        eligible = result.get("eligible") or await eligible_residents(session, decision.id)
        voters = result.get("voters", await voter_count(session, decision.id))
        left = None
        if state == DecisionState.OPEN:
            left = decision.closes_at - now
        elif state == DecisionState.SCHEDULED:
            left = decision.opens_at - now
        return DecisionView(
            decision=decision,
            proposal=proposal,
            state=state,
            options=option_labels(decision.method),
            voters=voters,
            eligible=eligible,
            quorum_needed=quorum_needed(decision.quorum, eligible),
            my_vote=my_vote,
            result=result,
            external=await external_tally(session, decision.id),
            history=await history_of(session, decision.uri),
            time_left=left,
        )


async def recent_decisions(
    sessions: async_sessionmaker[AsyncSession], limit: int = 100
) -> list[tuple[Decision, Proposal]]:
    """The latest decisions with their proposals, newest closing time first."""
    async with sessions() as session:
        rows = await session.execute(
            select(Decision, Proposal)
            .join(Proposal, Proposal.id == Decision.proposal_id)
            .order_by(Decision.closes_at.desc())
            .limit(limit)
        )
        return [(decision, proposal) for decision, proposal in rows.all()]


async def decisions_of_proposal(session: AsyncSession, proposal_id: str) -> list[Decision]:
    """A proposal's decisions, latest first (for the proposal's page)."""
    rows = await session.scalars(
        select(Decision)
        .where(Decision.proposal_id == proposal_id)
        .order_by(Decision.created_at.desc())
    )
    return list(rows)


async def pending_decision(session: AsyncSession, proposal_id: str) -> Decision | None:
    """The proposal's decision that is scheduled or open, if any (one at a time)."""
    return (
        await session.scalars(
            select(Decision).where(
                Decision.proposal_id == proposal_id, Decision.state != DecisionState.CLOSED
            )
        )
    ).first()


async def proposals_to_decide(
    sessions: async_sessionmaker[AsyncSession], account: Account
) -> list[Proposal]:
    """Proposals in deliberation, without a pending decision, that `account` may put to a
    decision (the facilitators of their circle, and the node's facilitators and admins)."""
    async with sessions() as session:
        candidates = await session.scalars(
            select(Proposal)
            .where(Proposal.state == ProposalState.IN_DELIBERATION)
            .order_by(Proposal.updated_at.desc())
        )
        found = []
        for proposal in candidates:
            if await pending_decision(session, proposal.id) is None and await can_facilitate(
                session, account, proposal.circle_id
            ):
                found.append(proposal)
        return found


async def may_open_decisions(sessions: async_sessionmaker[AsyncSession], account: Account) -> bool:
    """Whether the account facilitates anything: the node's facilitators and admins, and the
    facilitators of a circle (each proposal is then checked against its own circle)."""
    async with sessions() as session:
        if await can_facilitate(session, account, None):
            return True
        role = await session.scalar(
            select(CircleMember.id).where(
                CircleMember.account_id == account.id, CircleMember.role == CIRCLE_FACILITATOR
            )
        )
        return role is not None
