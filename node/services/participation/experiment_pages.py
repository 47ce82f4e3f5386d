"""What the experiment pages show, read in one session each: the list (ours and those
received from followed territories), one experiment with its indicators, milestones,
history, evaluation and replications, an evaluation, and the ActivityPub documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.convert.experiments import (
    STATE_ACTIONS,
    evaluation_to_as,
    replications_collection,
    replications_url,
)
from node.domain.actors import Role
from node.domain.participation import ExperimentState, ProposalState, allowed_next
from node.services.participation.circles import CIRCLE_FACILITATOR, can_facilitate
from node.services.participation.experiments import experiment_document, origin_territories
from node.services.participation.history import history_of
from node.services.participation.received_experiments import (
    RemoteExperimentView,
    received_listing,
)
from node.services.participation.replication import ReplicationSummary, replications_of
from node.services.runtime import Runtime
from node.storage.models import (
    Account,
    Circle,
    CircleMember,
    Evaluation,
    Experiment,
    ExperimentIndicator,
    Measurement,
    Milestone,
    Proposal,
    RemoteObject,
    StateChange,
)
from protocols.activitystreams import web_link

#: How many experiments of other territories the list shows.
REMOTE_LIMIT = 50


@dataclass(frozen=True, slots=True)
class IndicatorView:
    """An indicator with its measurements (oldest first) and where it stands."""

    indicator: ExperimentIndicator
    measurements: list[Measurement]

    @property
    def points(self) -> list[tuple[date, float]]:
        """(day, value) of every measurement, for the chart."""
        return [(m.measured_on, m.value) for m in self.measurements]

    @property
    def latest(self) -> Measurement | None:
        """The most recent measurement, if any."""
        return self.measurements[-1] if self.measurements else None

    @property
    def reached(self) -> bool | None:
        """Whether the latest value meets the target (None before any measurement)."""
        if self.latest is None:
            return None
        if self.indicator.direction == "decrease":
            return self.latest.value <= self.indicator.target
        return self.latest.value >= self.indicator.target


@dataclass(frozen=True, slots=True)
class ExperimentPage:
    """Everything /experiments/<id> shows."""

    experiment: Experiment
    indicators: list[IndicatorView]
    milestones: list[Milestone]
    history: list[StateChange]
    evaluation: Evaluation | None
    replications: ReplicationSummary
    circle: Circle | None
    proposal: Proposal | None
    #: the other territory's experiment this one replicates, as received
    origin: RemoteObject | None
    may_facilitate: bool
    #: the states a facilitator may move it to now (concluding takes the evaluation form)
    next_states: list[str] = field(default_factory=list)

    @property
    def origin_link(self) -> str:
        """Where the replicated experiment can be read."""
        derived_from = self.experiment.derived_from or ""
        return web_link(self.origin.url if self.origin else None, derived_from)


async def experiment_page(
    sessions: async_sessionmaker[AsyncSession], experiment_id: str, account: Account | None
) -> ExperimentPage | None:
    """One local experiment as its page shows it, or None."""
    async with sessions() as session:
        experiment = await session.get(Experiment, experiment_id)
        if experiment is None:
            return None
        indicators = list(
            await session.scalars(
                select(ExperimentIndicator)
                .where(ExperimentIndicator.experiment_id == experiment.id)
                .order_by(ExperimentIndicator.position, ExperimentIndicator.id)
            )
        )
        measurements = list(
            await session.scalars(
                select(Measurement)
                .where(Measurement.indicator_id.in_([i.id for i in indicators]))
                .order_by(Measurement.measured_on)
            )
        )
        milestones = await session.scalars(
            select(Milestone)
            .where(Milestone.experiment_id == experiment.id)
            .order_by(Milestone.due_on.is_(None), Milestone.due_on, Milestone.id)
        )
        evaluation = (
            await session.scalars(
                select(Evaluation).where(Evaluation.experiment_id == experiment.id)
            )
        ).first()
        origin = (
            (
                await session.scalars(
                    select(RemoteObject).where(RemoteObject.uri == experiment.derived_from)
                )
            ).first()
            if experiment.derived_from
            else None
        )
        may = account is not None and await can_facilitate(session, account, experiment.circle_id)
        return ExperimentPage(
            experiment=experiment,
            indicators=[
                IndicatorView(i, [m for m in measurements if m.indicator_id == i.id])
                for i in indicators
            ],
            milestones=list(milestones),
            history=await history_of(session, experiment.uri),
            evaluation=evaluation,
            replications=await replications_of(session, experiment.id),
            circle=await session.get(Circle, experiment.circle_id)
            if experiment.circle_id
            else None,
            proposal=(
                await session.get(Proposal, experiment.proposal_id)
                if experiment.proposal_id
                else None
            ),
            origin=origin,
            may_facilitate=may,
            next_states=[
                s.value
                for s in allowed_next(ExperimentState(experiment.state))
                if s.value in STATE_ACTIONS
            ],
        )


@dataclass(frozen=True, slots=True)
class ExperimentListing:
    """The /experiments page: ours (with their indicator count) and other territories'."""

    #: (experiment, indicator count, its evaluation's outcome or None)
    local: list[tuple[Experiment, int, str | None]]
    remote: list[RemoteExperimentView]
    may_facilitate: bool
    #: the outcome the list is filtered to ("" for every experiment)
    outcome: str = ""


async def facilitates_somewhere(session: AsyncSession, account: Account | None) -> bool:
    """Whether the account may start experiments: a facilitator of the node or of a circle."""
    if account is None:
        return False
    if account.role in (Role.ADMIN, Role.FACILITATOR):
        return True
    role = await session.scalar(
        select(CircleMember.id).where(
            CircleMember.account_id == account.id, CircleMember.role == CIRCLE_FACILITATOR
        )
    )
    return role is not None


async def experiment_listing(
    sessions: async_sessionmaker[AsyncSession], account: Account | None, outcome: str = ""
) -> ExperimentListing:
    """Local experiments (newest first) and the latest received from other territories, with
    their outcomes; with `outcome` (success, partial...), only the experiments evaluated so."""
    async with sessions() as session:
        counts = (
            select(ExperimentIndicator.experiment_id, func.count().label("n"))
            .group_by(ExperimentIndicator.experiment_id)
            .subquery()
        )
        local_query = (
            select(Experiment, func.coalesce(counts.c.n, 0), Evaluation.outcome)
            .outerjoin(counts, counts.c.experiment_id == Experiment.id)
            .outerjoin(Evaluation, Evaluation.experiment_id == Experiment.id)
            .order_by(Experiment.created_at.desc())
        )
        if outcome:
            local_query = local_query.where(Evaluation.outcome == outcome)
        local = await session.execute(local_query)
        return ExperimentListing(
            local=[(experiment, int(n), result) for experiment, n, result in local],
            remote=await received_listing(session, outcome, REMOTE_LIMIT),
            may_facilitate=await facilitates_somewhere(session, account),
            outcome=outcome,
        )


async def circles_for(session: AsyncSession, account: Account) -> list[Circle]:
    """The circles in which the account may run an experiment."""
    circles = await session.scalars(select(Circle).order_by(Circle.name))
    return [c for c in circles if await can_facilitate(session, account, c.id)]


@dataclass(frozen=True, slots=True)
class NewExperimentChoices:
    """What the new-experiment form offers: adopted proposals and the account's circles."""

    proposal: Proposal | None
    adopted: list[Proposal]
    circles: list[Circle]
    may_facilitate: bool


async def new_experiment_choices(
    sessions: async_sessionmaker[AsyncSession], account: Account, proposal_id: str | None
) -> NewExperimentChoices:
    """The chosen proposal (if adopted), the other adopted proposals, the usable circles."""
    async with sessions() as session:
        adopted = list(
            await session.scalars(
                select(Proposal)
                .where(Proposal.state == ProposalState.ADOPTED.value)
                .order_by(Proposal.updated_at.desc())
            )
        )
        chosen = next((p for p in adopted if p.id == proposal_id), None)
        return NewExperimentChoices(
            proposal=chosen,
            adopted=adopted,
            circles=await circles_for(session, account),
            may_facilitate=await facilitates_somewhere(session, account),
        )


async def experiment_as_document(runtime: Runtime, experiment_id: str) -> dict[str, Any] | None:
    """The experiment's ActivityPub document, or None."""
    async with runtime.sessions() as session:
        experiment = await session.get(Experiment, experiment_id)
        if experiment is None:
            return None
        return await experiment_document(session, runtime, experiment)


async def replications_as_document(runtime: Runtime, experiment_id: str) -> dict[str, Any] | None:
    """The experiment's replications collection, or None."""
    async with runtime.sessions() as session:
        experiment = await session.get(Experiment, experiment_id)
        if experiment is None:
            return None
        summary = await replications_of(session, experiment.id)
        return replications_collection(
            replications_url(experiment.uri), [row.replica_uri for row in summary.rows]
        )


async def evaluation_page(
    sessions: async_sessionmaker[AsyncSession], evaluation_id: str
) -> tuple[Evaluation, Experiment] | None:
    """An evaluation and the experiment it concludes, or None."""
    async with sessions() as session:
        evaluation = await session.get(Evaluation, evaluation_id)
        if evaluation is None:
            return None
        experiment = await session.get(Experiment, evaluation.experiment_id)
        return (evaluation, experiment) if experiment is not None else None


async def evaluation_as_document(runtime: Runtime, evaluation_id: str) -> dict[str, Any] | None:
    """The evaluation's ActivityPub document, or None."""
    async with runtime.sessions() as session:
        evaluation = await session.get(Evaluation, evaluation_id)
        experiment = await session.get(Experiment, evaluation.experiment_id) if evaluation else None
        if evaluation is None or experiment is None:
            return None
        territories = await origin_territories(session, experiment)
        return evaluation_to_as(runtime.config, evaluation, experiment, territories)
