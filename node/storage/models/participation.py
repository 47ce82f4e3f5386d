"""The participation chain: invitations, circles, needs, proposals, amendments, decisions,
experiments with indicators and measurements, evaluations, replications, resource offers,
and the visible history of every state change."""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.domain.ids import new_id
from node.storage.base import Base, UTCDateTime, utcnow

_ID = 26


def _id_column() -> Mapped[str]:
    return mapped_column(String(_ID), primary_key=True, default=new_id)


class AccessLink(Base):
    """A single-use link: an invitation to join as a resident (or facilitator, admin), or a
    password reset issued by an admin. Only the token's hash is kept."""

    __tablename__ = "access_links"

    id: Mapped[str] = _id_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: invite or reset
    kind: Mapped[str] = mapped_column(String(16))
    #: the role an invitation grants
    role: Mapped[str] = mapped_column(String(16), default="resident")
    #: for a reset: whose password it resets
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True
    )
    #: who it is for, as the issuer wrote it ("famille Martin, 3 rue des Lilas")
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Circle(Base):
    """A working or activity circle; its voice on the network is a Group actor."""

    __tablename__ = "circles"

    id: Mapped[str] = _id_column()
    actor_id: Mapped[str] = mapped_column(ForeignKey("local_actors.id"), unique=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: working, activity, triage or coordination
    kind: Mapped[str] = mapped_column(String(16), default="working")
    mandate: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CircleMember(Base):
    """A resident's place in a circle, with a role (facilitator, secretary, member...)."""

    __tablename__ = "circle_members"
    __table_args__ = (UniqueConstraint("circle_id", "account_id"),)

    id: Mapped[str] = _id_column()
    circle_id: Mapped[str] = mapped_column(ForeignKey("circles.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32), default="member")
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Need(Base):
    """A need expressed by a resident: supported, commented, then triaged by a facilitator."""

    __tablename__ = "needs"

    id: Mapped[str] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    theme: Mapped[str] = mapped_column(String(64), index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    #: submitted, in_circle (assigned), answered (closed with an answer), merged, in_proposal
    state: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    circle_id: Mapped[str | None] = mapped_column(ForeignKey("circles.id"), nullable=True)
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("needs.id"), nullable=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class NeedSupport(Base):
    """One resident's support of a need: binding, so one per resident."""

    __tablename__ = "need_supports"
    __table_args__ = (UniqueConstraint("need_id", "account_id"),)

    id: Mapped[str] = _id_column()
    need_id: Mapped[str] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Proposal(Base):
    """A proposal drafted in a circle from needs, amended, deliberated and decided."""

    __tablename__ = "proposals"

    id: Mapped[str] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    circle_id: Mapped[str] = mapped_column(ForeignKey("circles.id"))
    author_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text)
    theme: Mapped[str] = mapped_column(String(64), default="")
    #: draft, in_deliberation, adopted, not_adopted, in_project, implemented, evaluated, withdrawn
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ProposalNeed(Base):
    """Which needs a proposal answers."""

    __tablename__ = "proposal_needs"
    __table_args__ = (UniqueConstraint("proposal_id", "need_id"),)

    id: Mapped[str] = _id_column()
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    need_id: Mapped[str] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"))


class Amendment(Base):
    """A change to a proposal's text, proposed by a resident, accepted or rejected by the circle."""

    __tablename__ = "amendments"

    id: Mapped[str] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    proposal_id: Mapped[str] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    text: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text, default="")
    #: proposed, accepted, rejected
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Decision(Base):
    """A decision on a proposal: majority vote or consent, between two moments, with a quorum."""

    __tablename__ = "decisions"

    id: Mapped[str] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    proposal_id: Mapped[str] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(String(300))
    #: majority or consent
    method: Mapped[str] = mapped_column(String(16))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: share of the residents who must take part (0.0 - 1.0)
    quorum: Mapped[float] = mapped_column(Float, default=0.0)
    #: scheduled, open, closed
    state: Mapped[str] = mapped_column(String(16), default="scheduled", index=True)
    #: JSON: counts per choice, eligible, participation, quorum reached, outcome
    result: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Vote(Base):
    """A resident's binding vote: one per resident and decision."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("decision_id", "account_id"),)

    id: Mapped[str] = _id_column()
    decision_id: Mapped[str] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    choice: Mapped[str] = mapped_column(String(32))
    #: an objection's reasons
    comment: Mapped[str] = mapped_column(Text, default="")
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExternalAnswer(Base):
    """A remote actor's poll answer (Mastodon...): counted apart, never binding; one per actor."""

    __tablename__ = "external_answers"
    __table_args__ = (UniqueConstraint("decision_id", "actor_uri"),)

    id: Mapped[str] = _id_column()
    decision_id: Mapped[str] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), index=True
    )
    actor_uri: Mapped[str] = mapped_column(String(2048))
    activity_uri: Mapped[str] = mapped_column(String(2048), unique=True)
    choice: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RemoteVote(Base):
    """A resident's answer to another territory's decision, sent from the resident's own actor
    as a poll answer (that territory counts it apart, non-binding); one per resident and
    decision, a new answer replacing the previous one while the decision is open."""

    __tablename__ = "remote_votes"
    __table_args__ = (UniqueConstraint("account_id", "question_uri"),)

    id: Mapped[str] = _id_column()
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    #: the other territory's `Question`
    question_uri: Mapped[str] = mapped_column(String(2048), index=True)
    #: the option's name, as sent (and as the Question names it)
    choice: Mapped[str] = mapped_column(String(500))
    #: the last Create sent with this answer
    activity_uri: Mapped[str] = mapped_column(String(2048))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Experiment(Base):
    """A local experiment: from an adopted proposal, or derived from another territory's."""

    __tablename__ = "experiments"

    id: Mapped[str] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    proposal_id: Mapped[str | None] = mapped_column(ForeignKey("proposals.id"), nullable=True)
    circle_id: Mapped[str | None] = mapped_column(ForeignKey("circles.id"), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    hypothesis: Mapped[str] = mapped_column(Text)
    theme: Mapped[str] = mapped_column(String(64), default="")
    starts_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: proposed, running, paused, evaluating, concluded
    state: Mapped[str] = mapped_column(String(16), default="proposed", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    #: the experiment of another territory this one replicates, and what was adapted
    derived_from: Mapped[str | None] = mapped_column(String(2048), nullable=True, index=True)
    adaptations: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ExperimentIndicator(Base):
    """What an experiment measures: baseline, target and which direction is better."""

    __tablename__ = "experiment_indicators"

    id: Mapped[str] = _id_column()
    experiment_id: Mapped[str] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(64))
    baseline: Mapped[float] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float)
    #: increase or decrease
    direction: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Measurement(Base):
    """One measured value of an indicator on a day."""

    __tablename__ = "measurements"
    __table_args__ = (UniqueConstraint("indicator_id", "measured_on"),)

    id: Mapped[str] = _id_column()
    indicator_id: Mapped[str] = mapped_column(
        ForeignKey("experiment_indicators.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[float] = mapped_column(Float)
    measured_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)


class Milestone(Base):
    """A step of an experiment, with its due and done dates."""

    __tablename__ = "milestones"

    id: Mapped[str] = _id_column()
    experiment_id: Mapped[str] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Evaluation(Base):
    """The evaluation that concludes an experiment."""

    __tablename__ = "evaluations"

    id: Mapped[str] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    experiment_id: Mapped[str] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), unique=True
    )
    #: success, partial, failure, inconclusive
    outcome: Mapped[str] = mapped_column(String(16))
    lessons: Mapped[str] = mapped_column(Text)
    #: generalise, adapt, stop
    recommendation: Mapped[str] = mapped_column(String(16))
    evaluated_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Replication(Base):
    """Another territory's experiment derived from one of ours, and how it went there."""

    __tablename__ = "replications"
    __table_args__ = (UniqueConstraint("experiment_id", "replica_uri"),)

    id: Mapped[str] = _id_column()
    experiment_id: Mapped[str] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    replica_uri: Mapped[str] = mapped_column(String(2048))
    territory_uri: Mapped[str] = mapped_column(String(2048))
    territory_name: Mapped[str] = mapped_column(String(200), default="")
    #: the replica's evaluation outcome once it arrives
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    evaluation_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Offer(Base):
    """A resource offer or request (ValueFlows Proposal/Intent, FEP-0837, sent as a Note)."""

    __tablename__ = "offers"

    id: Mapped[str] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    #: offer or request
    purpose: Mapped[str] = mapped_column(String(16))
    #: lend, give, group_purchase, time_bank
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    quantity: Mapped[float | None] = mapped_column(Float, nullable=True)
    minimum_quantity: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(32), default="")
    available_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    available_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    #: JSON list of neighbouring territory actors it is also addressed to
    addressed_to: Mapped[str] = mapped_column(Text, default="[]")
    #: open, taken, closed
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class StateChange(Base):
    """One step of an object's visible history (needs, proposals, decisions, experiments...)."""

    __tablename__ = "state_changes"

    id: Mapped[str] = _id_column()
    object_uri: Mapped[str] = mapped_column(String(2048), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str] = mapped_column(String(16))
    #: who did it, as shown ("Camille (facilitatrice)"), and why
    by: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RemoteObject(Base):
    """A Maillage object received from another node (need, proposal, decision, experiment,
    evaluation, offer), stored as what it is so pages can show it as such."""

    __tablename__ = "remote_objects"

    id: Mapped[str] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    #: the project's class: tc:Experiment, tc:Evaluation, tc:Proposal, tc:Decision, vf:Proposal...
    kind: Mapped[str] = mapped_column(String(32), index=True)
    actor_uri: Mapped[str] = mapped_column(String(2048), index=True)
    name: Mapped[str] = mapped_column(String(2048), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(32), default="")
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    #: where it is (`location.name`: an offer's place) as text, reduced on receipt
    place: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: the object as received (JSON), for the fields a page needs beyond the common ones
    raw: Mapped[str] = mapped_column(Text)
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
