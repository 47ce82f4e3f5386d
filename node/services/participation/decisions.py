"""Decisions: a facilitator opens one on a proposal in deliberation, residents vote (one
vote each, changeable until closing), and poll answers from the fediverse are kept apart.

Binding votes are cast only here, by the node's accounts (every account is a verified
resident); remote answers go to a separate tally that never counts. Opening and closing on
time is node/services/participation/decision_closing.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from federation.inbox.worker import Outcome
from node.convert.decisions import option_labels
from node.domain.ids import new_id
from node.domain.participation import DecisionMethod, DecisionState, ProposalState
from node.services.participation.circles import can_facilitate
from node.services.participation.decision_closing import close_due_decisions, publish_question
from node.services.participation.decision_views import effective_state, pending_decision
from node.services.participation.history import record_change
from node.services.participation.needs import NotAllowed, ParticipationError, author_name
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import Account, Decision, ExternalAnswer, Proposal, Vote
from protocols.activitystreams import id_of, ids_of, type_of

__all__ = [
    "FACILITATORS_ONLY",
    "DecisionDraft",
    "NotAllowed",
    "ParticipationError",
    "cast_vote",
    "close_due_decisions",
    "open_decision",
    "record_external_answer",
]

#: An opening time this far in the past still counts as "now" (forms have minute precision).
OPENING_TOLERANCE = timedelta(minutes=10)
MAX_COMMENT_CHARS = 2000

FACILITATORS_ONLY = "Ouvrir une décision est réservé aux facilitateurs et facilitatrices du cercle."


@dataclass(frozen=True, slots=True)
class DecisionDraft:
    """What a facilitator asks for when opening a decision."""

    proposal_id: str
    question: str
    method: DecisionMethod
    #: None: open now
    opens_at: datetime | None
    closes_at: datetime
    #: share of the residents who must take part, 0.0 - 1.0
    quorum: float


def _check_times(draft: DecisionDraft, now: datetime) -> datetime:
    """The opening moment, once the times are coherent."""
    opens_at = draft.opens_at or now
    if opens_at < now - OPENING_TOLERANCE:
        raise ParticipationError("L'ouverture ne peut pas être dans le passé.", "opens_at")
    if draft.closes_at <= max(opens_at, now):
        raise ParticipationError("La clôture doit venir après l'ouverture.", "closes_at")
    return max(opens_at, now)


async def open_decision(
    runtime: Runtime, account: Account, draft: DecisionDraft, now: datetime | None = None
) -> Decision:
    """Put a proposal in deliberation to a decision; it opens now (federated as a `Create`
    of its `Question`) or at its opening time (then `close_due_decisions` opens it)."""
    now = now or utcnow()
    opens_at = _check_times(draft, now)
    if not 0.0 <= draft.quorum <= 1.0:
        raise ParticipationError("Le quorum est un pourcentage entre 0 et 100.", "quorum")
    async with runtime.sessions.begin() as session:
        proposal = await session.get(Proposal, draft.proposal_id)
        if proposal is None:
            raise ParticipationError("Choisissez une des valeurs proposées.", "proposal")
        if not await can_facilitate(session, account, proposal.circle_id):
            raise NotAllowed(FACILITATORS_ONLY)
        if proposal.state != ProposalState.IN_DELIBERATION:
            raise ParticipationError("Cette proposition n'est pas en délibération.", "proposal")
        if await pending_decision(session, proposal.id) is not None:
            raise ParticipationError(
                "Une décision est déjà prévue sur cette proposition.", "proposal"
            )
        decision_id = new_id()
        state = DecisionState.OPEN if opens_at <= now else DecisionState.SCHEDULED
        decision = Decision(
            id=decision_id,
            uri=f"{runtime.config.node.base_url}/decisions/{decision_id}",
            proposal_id=proposal.id,
            question=draft.question,
            method=draft.method.value,
            opens_at=opens_at,
            closes_at=draft.closes_at,
            quorum=draft.quorum,
            state=state.value,
            created_by=account.id,
        )
        session.add(decision)
        await session.flush()
        by = await author_name(session, account.id)
        record_change(session, decision.uri, None, state.value, by)
        if state == DecisionState.OPEN:
            await publish_question(runtime, session, decision, "Create")
    runtime.wake_delivery()
    return decision


async def cast_vote(
    runtime: Runtime,
    account: Account,
    decision_id: str,
    choice: str,
    comment: str = "",
    now: datetime | None = None,
) -> Vote:
    """Record a resident's vote while the decision is open; a second vote replaces the first
    (one resident, one vote). With consent, an objection must give its reasons."""
    now = now or utcnow()
    comment = comment.strip()
    for attempt in (1, 2):  # a double submit may race to insert: the retry then updates
        try:
            async with runtime.sessions.begin() as session:
                decision = await session.get(Decision, decision_id)
                if decision is None:
                    raise ParticipationError("Cette décision n'existe pas.")
                _check_vote(decision, choice, comment, now)
                vote = (
                    await session.scalars(
                        select(Vote).where(
                            Vote.decision_id == decision.id, Vote.account_id == account.id
                        )
                    )
                ).first()
                if vote is None:
                    vote = Vote(decision_id=decision.id, account_id=account.id)
                    session.add(vote)
                vote.choice, vote.comment, vote.cast_at = choice, comment, now
            return vote
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _check_vote(decision: Decision, choice: str, comment: str, now: datetime) -> None:
    """Refuse a vote outside the window, an unknown choice, or an objection without reasons."""
    state = effective_state(decision, now)
    if state == DecisionState.SCHEDULED:
        raise ParticipationError("Le vote n'est pas encore ouvert.")
    if state == DecisionState.CLOSED:
        raise ParticipationError("Le vote est clos.")
    if choice not in {token for token, _ in option_labels(decision.method)}:
        raise ParticipationError("Choisissez une des valeurs proposées.", "choice")
    if len(comment) > MAX_COMMENT_CHARS:
        raise ParticipationError("Ce texte est trop long.", "comment")
    if decision.method == DecisionMethod.CONSENT and choice == "objection" and not comment:
        raise ParticipationError(
            "Une objection doit être motivée : écrivez vos raisons.", "comment"
        )


def _choice_named(method: str, name: str) -> str | None:
    """The choice token a remote answer names (the option's label, as Mastodon sends it)."""
    wanted = name.strip().casefold()
    for token, label in option_labels(method):
        if wanted in (label.casefold(), token):
            return token
    return None


def may_answer_a_decision(runtime: Runtime, document: dict[str, Any]) -> bool:
    """Whether a received post has the shape of a poll answer to one of our decisions (a
    Note with a `name`, replying to /decisions/...): the inbox applies plain posts in
    batches, and leaves these to `record_external_answer`."""
    target = id_of(document.get("inReplyTo"))
    return (
        type_of(document) == "Note"
        and isinstance(document.get("name"), str)
        and target is not None
        and target.startswith(f"{runtime.config.node.base_url}/decisions/")
    )


async def record_external_answer(
    runtime: Runtime,
    activity: dict[str, Any],
    document: dict[str, Any],
    now: datetime | None = None,
) -> Outcome | None:
    """A remote poll answer (a Note with `name` and `inReplyTo` one of our decisions) goes to
    the decision's separate, non-binding tally; None when `document` is not such an answer.

    One answer per remote actor: a later one replaces it; answers outside the voting window
    are ignored. Each counted answer federates an `Update` of the Question with the new
    `externalTally` (to followers and to everyone who answered, as Mastodon does for its
    polls); the delivery log collapses a burst of Updates into the last one per server.
    """
    if not may_answer_a_decision(runtime, document):
        return None
    name, target = document["name"], id_of(document.get("inReplyTo"))
    actor = activity.get("actor")
    if not isinstance(actor, str):
        return None
    now = now or utcnow()
    async with runtime.sessions.begin() as session:
        decision = (await session.scalars(select(Decision).where(Decision.uri == target))).first()
        choice = _choice_named(decision.method, name) if decision else None
        if decision is None or choice is None:
            return None  # a reply to a decision, not an answer: handled as a post
        if actor not in (ids_of(document.get("attributedTo")) or [actor]):
            return Outcome.ignored("poll answer attributed to someone else than its sender")
        if effective_state(decision, now) != DecisionState.OPEN:
            return Outcome.ignored("poll answer outside the voting window")
        activity_uri = str(activity.get("id") or document.get("id") or "")
        if await session.scalar(
            select(ExternalAnswer.id).where(ExternalAnswer.activity_uri == activity_uri)
        ):
            return Outcome.ignored("poll answer already counted")
        answer = (
            await session.scalars(
                select(ExternalAnswer).where(
                    ExternalAnswer.decision_id == decision.id, ExternalAnswer.actor_uri == actor
                )
            )
        ).first()
        if answer is None:
            answer = ExternalAnswer(decision_id=decision.id, actor_uri=actor)
            session.add(answer)
        changed = answer.choice != choice
        answer.choice, answer.activity_uri, answer.received_at = choice, activity_uri, now
        await session.flush()
        if not changed:
            return Outcome.applied("the same non-binding poll answer again")
        await publish_question(runtime, session, decision, "Update")
    runtime.wake_delivery()
    return Outcome.applied("non-binding poll answer counted")
