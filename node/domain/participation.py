"""The participation chain's lifecycles: which state may follow which, and who may move it.

Pure rules (Takahē's explicit state graphs): services call `check_transition` before any
change and record every step in the visible history.
"""

from __future__ import annotations

from enum import StrEnum


class TransitionError(ValueError):
    """A state change the lifecycle does not allow; the message says which."""


class NeedState(StrEnum):
    """A resident's need, from submission to its answer."""

    SUBMITTED = "submitted"  #: waiting for triage; supports and comments welcome
    IN_CIRCLE = "in_circle"  #: assigned to a circle that works on it
    IN_PROPOSAL = "in_proposal"  #: a proposal answers it
    ANSWERED = "answered"  #: closed with an answer
    MERGED = "merged"  #: merged into another need


class ProposalState(StrEnum):
    """A proposal, from its draft to its evaluation."""

    DRAFT = "draft"
    IN_DELIBERATION = "in_deliberation"
    ADOPTED = "adopted"
    NOT_ADOPTED = "not_adopted"
    IN_PROJECT = "in_project"
    IMPLEMENTED = "implemented"
    EVALUATED = "evaluated"
    WITHDRAWN = "withdrawn"


class DecisionState(StrEnum):
    """A decision between its opening and closing times."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


class ExperimentState(StrEnum):
    """An experiment, from its proposal to its conclusion."""

    PROPOSED = "proposed"
    RUNNING = "running"
    PAUSED = "paused"
    EVALUATING = "evaluating"
    CONCLUDED = "concluded"


class OfferState(StrEnum):
    """A resource offer or request."""

    OPEN = "open"
    TAKEN = "taken"
    CLOSED = "closed"


N, P, D, E, OF = NeedState, ProposalState, DecisionState, ExperimentState, OfferState

TRANSITIONS: dict[type[StrEnum], dict[StrEnum, frozenset[StrEnum]]] = {
    NeedState: {
        N.SUBMITTED: frozenset({N.IN_CIRCLE, N.ANSWERED, N.MERGED, N.IN_PROPOSAL}),
        N.IN_CIRCLE: frozenset({N.IN_PROPOSAL, N.ANSWERED, N.MERGED}),
        N.IN_PROPOSAL: frozenset({N.ANSWERED}),
    },
    ProposalState: {
        P.DRAFT: frozenset({P.IN_DELIBERATION, P.WITHDRAWN}),
        P.IN_DELIBERATION: frozenset({P.ADOPTED, P.NOT_ADOPTED, P.WITHDRAWN, P.DRAFT}),
        P.ADOPTED: frozenset({P.IN_PROJECT}),
        P.IN_PROJECT: frozenset({P.IMPLEMENTED, P.EVALUATED}),
        P.IMPLEMENTED: frozenset({P.EVALUATED}),
    },
    DecisionState: {
        D.SCHEDULED: frozenset({D.OPEN, D.CLOSED}),
        D.OPEN: frozenset({D.CLOSED}),
    },
    ExperimentState: {
        E.PROPOSED: frozenset({E.RUNNING}),
        E.RUNNING: frozenset({E.PAUSED, E.EVALUATING}),
        E.PAUSED: frozenset({E.RUNNING, E.EVALUATING}),
        E.EVALUATING: frozenset({E.CONCLUDED, E.RUNNING}),
    },
    OfferState: {
        OF.OPEN: frozenset({OF.TAKEN, OF.CLOSED}),
        OF.TAKEN: frozenset({OF.OPEN, OF.CLOSED}),
    },
}


def allowed_next(state: StrEnum) -> frozenset[StrEnum]:
    """The states that may follow `state` (none for final states).

    >>> sorted(s.value for s in allowed_next(ExperimentState.RUNNING))
    ['evaluating', 'paused']
    """
    return TRANSITIONS[type(state)].get(state, frozenset())


def check_transition(current: StrEnum, wanted: StrEnum) -> None:
    """Raise TransitionError unless `wanted` may follow `current`.

    >>> check_transition(ProposalState.DRAFT, ProposalState.ADOPTED)
    Traceback (most recent call last):
    ...
    node.domain.participation.TransitionError: cannot go from draft to adopted
    """
    if wanted not in allowed_next(current):
        raise TransitionError(f"cannot go from {current.value} to {wanted.value}")


class DecisionMethod(StrEnum):
    """How a decision is taken."""

    MAJORITY = "majority"  #: for / against / abstain; adopted with more for than against
    CONSENT = "consent"  #: consent / objection / abstain; adopted when nobody objects


#: The choices of each method, as (token, French label) in display order.
CHOICES: dict[DecisionMethod, tuple[tuple[str, str], ...]] = {
    DecisionMethod.MAJORITY: (("for", "Pour"), ("against", "Contre"), ("abstain", "Abstention")),
    DecisionMethod.CONSENT: (
        ("consent", "Consentement"),
        ("objection", "Objection"),
        ("abstain", "Abstention"),
    ),
}


def decision_outcome(method: DecisionMethod, counts: dict[str, int], quorum_reached: bool) -> bool:
    """Whether the proposal is adopted: quorum first, then the method's rule.

    >>> decision_outcome(DecisionMethod.MAJORITY, {"for": 3, "against": 2, "abstain": 9}, True)
    True
    >>> decision_outcome(DecisionMethod.CONSENT, {"consent": 30, "objection": 1}, True)
    False
    >>> decision_outcome(DecisionMethod.MAJORITY, {"for": 3}, False)
    False
    """
    if not quorum_reached:
        return False
    if method is DecisionMethod.MAJORITY:
        return counts.get("for", 0) > counts.get("against", 0)
    return counts.get("consent", 0) > 0 and counts.get("objection", 0) == 0
