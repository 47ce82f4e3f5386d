"""The decisions' clock: scheduled decisions open on time (their Question is then published)
and open ones close on time: the votes are counted, the result kept, the proposal moved to
adopted or not adopted, and the final tally federated as an Update of the Question."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.domain.participation import (
    CHOICES,
    DecisionMethod,
    DecisionState,
    ProposalState,
    decision_outcome,
)
from node.services.federation.publishing import federate
from node.services.participation.decision_views import (
    binding_choices,
    eligible_residents,
    external_tally,
    question_document,
    quorum_needed,
)
from node.services.participation.history import record_change
from node.services.participation.proposals import set_proposal_state
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import Decision, ExternalAnswer, Proposal

#: Who the history names for what the node does on its own, on time.
SCHEDULE = "Calendrier de la décision"


def compute_result(
    method: DecisionMethod, choices: Iterable[str], eligible: int, quorum: float
) -> dict[str, Any]:
    """The result of a closed decision: counts per choice, participation, quorum, outcome.

    >>> r = compute_result(DecisionMethod.MAJORITY, ["for", "for", "against"], 10, 0.25)
    >>> r["counts"], r["voters"], r["quorum_reached"], r["adopted"]
    ({'for': 2, 'against': 1, 'abstain': 0}, 3, True, True)
    >>> compute_result(DecisionMethod.CONSENT, ["consent"], 10, 0.5)["adopted"]
    False
    """
    counts = {token: 0 for token, _ in CHOICES[method]}
    for choice in choices:
        if choice in counts:
            counts[choice] += 1
    voters = sum(counts.values())
    needed = quorum_needed(quorum, eligible)
    reached = eligible > 0 and voters >= needed
    return {
        "counts": counts,
        "voters": voters,
        "eligible": eligible,
        "participation": round(voters / eligible, 4) if eligible else 0.0,
        "quorum": quorum,
        "quorum_needed": needed,
        "quorum_reached": reached,
        "adopted": decision_outcome(method, counts, reached),
    }


async def publish_question(
    runtime: Runtime, session: AsyncSession, decision: Decision, verb: str
) -> None:
    """Federate the decision's Question (Create or Update) to the territory's followers and to
    the remote actors who answered it."""
    answerers = await session.scalars(
        select(ExternalAnswer.actor_uri).where(ExternalAnswer.decision_id == decision.id)
    )
    document = await question_document(session, runtime.config, decision)
    await federate(runtime, session, document, verb=verb, recipients=list(answerers))


async def close_due_decisions(runtime: Runtime, now: datetime | None = None) -> int:
    """Open decisions whose time has come and close those whose time is up, computing and
    publishing their results; returns how many decisions changed state.

    Each change is its own transaction and claims the row with a conditional UPDATE, so that
    running it twice, or in two processes at once, changes and publishes each decision once.
    """
    now = now or utcnow()
    async with runtime.sessions() as session:
        to_open = list(
            await session.scalars(
                select(Decision.id).where(
                    Decision.state == DecisionState.SCHEDULED, Decision.opens_at <= now
                )
            )
        )
        to_close = list(
            await session.scalars(
                select(Decision.id).where(
                    Decision.state != DecisionState.CLOSED, Decision.closes_at <= now
                )
            )
        )
    changed = {i for i in to_open if await _open_scheduled(runtime, i)}
    changed |= {i for i in to_close if await _close(runtime, i, now)}
    if changed:
        runtime.wake_delivery()
    return len(changed)


async def _claim(session: AsyncSession, decision: Decision, after: DecisionState) -> bool:
    """Move the decision to `after` unless someone else already moved it."""
    result = await session.execute(
        update(Decision)
        .where(Decision.id == decision.id, Decision.state == decision.state)
        .values(state=after.value)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _open_scheduled(runtime: Runtime, decision_id: str) -> bool:
    """Open a scheduled decision and publish its Question."""
    async with runtime.sessions.begin() as session:
        decision = await session.get(Decision, decision_id)
        if decision is None or decision.state != DecisionState.SCHEDULED:
            return False
        if not await _claim(session, decision, DecisionState.OPEN):
            return False
        decision.state = DecisionState.OPEN.value
        record_change(
            session, decision.uri, DecisionState.SCHEDULED.value, decision.state, SCHEDULE
        )
        await publish_question(runtime, session, decision, "Create")
    return True


async def _close(runtime: Runtime, decision_id: str, now: datetime) -> bool:
    """Close a decision: count the votes, keep the result, move the proposal, publish."""
    async with runtime.sessions.begin() as session:
        decision = await session.get(Decision, decision_id)
        if decision is None or decision.state == DecisionState.CLOSED:
            return False
        before = decision.state
        if not await _claim(session, decision, DecisionState.CLOSED):
            return False
        result = compute_result(
            DecisionMethod(decision.method),
            await binding_choices(session, decision.id),
            await eligible_residents(session, decision.id),
            decision.quorum,
        )
        result["external"] = await external_tally(session, decision.id)
        decision.state, decision.closed_at = DecisionState.CLOSED.value, now
        decision.result = json.dumps(result)
        note = _result_note(result)
        record_change(session, decision.uri, before, decision.state, SCHEDULE, note)
        proposal = await session.get(Proposal, decision.proposal_id)
        if proposal is not None:
            await _settle_proposal(runtime, session, proposal, bool(result["adopted"]), note)
        await publish_question(
            runtime, session, decision, "Update" if before == "open" else "Create"
        )
    return True


def _result_note(result: dict[str, Any]) -> str:
    """The history's line for a closing: "adoptée · 12 votant·es sur 40 · quorum atteint"."""
    outcome = "adoptée" if result["adopted"] else "non adoptée"
    quorum = "quorum atteint" if result["quorum_reached"] else "quorum non atteint"
    return f"{outcome} · {result['voters']} votant·es sur {result['eligible']} · {quorum}"


async def _settle_proposal(
    runtime: Runtime, session: AsyncSession, proposal: Proposal, adopted: bool, note: str
) -> None:
    """Move the decided proposal to adopted or not adopted (if it is still in deliberation);
    the proposal's history records it and its Update is federated."""
    if proposal.state != ProposalState.IN_DELIBERATION:
        return  # withdrawn meanwhile: the result stays on the decision only
    after = ProposalState.ADOPTED if adopted else ProposalState.NOT_ADOPTED
    await set_proposal_state(runtime, session, proposal, after, SCHEDULE, f"Décision : {note}")
