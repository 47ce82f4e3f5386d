"""Experiments: created by a facilitator from an adopted proposal, measured with indicators,
punctuated by milestones, moved through their lifecycle; every change federated as Update.

Each public function is one use case in one transaction; refusals raise the participation
chain's ParticipationError (NotAllowed for someone who is not a facilitator of the
experiment's circle) with a French message for the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.convert.experiments import IndicatorCopy, experiment_to_as, experiment_url
from node.domain.ids import new_id
from node.domain.local_time import today
from node.domain.participation import (
    ExperimentState,
    ProposalState,
    TransitionError,
    check_transition,
)
from node.services.federation.publishing import federate
from node.services.participation.history import record_change
from node.services.participation.needs import (
    UNKNOWN_CIRCLE,
    ParticipationError,
    author_name,
    require_facilitator,
)
from node.services.participation.proposals import set_proposal_state
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import (
    Account,
    Circle,
    Evaluation,
    Experiment,
    ExperimentIndicator,
    Measurement,
    Milestone,
    Proposal,
    RemoteObject,
)

NOT_ADOPTED = "Seule une proposition adoptée peut devenir une expérimentation."
IMPOSSIBLE_CHANGE = "Ce changement d'état n'est pas possible maintenant."


class NoSuchExperiment(LookupError):
    """No local experiment (or indicator, milestone) with this id."""


#: What an indicator measures: a unit, a baseline, a target, the better direction (the same
#: shape whether a facilitator typed it or it was read from another territory's experiment).
IndicatorInput = IndicatorCopy


@dataclass(frozen=True, slots=True)
class ExperimentInput:
    """A new experiment as the facilitator described it."""

    title: str
    hypothesis: str
    starts_on: date
    ends_on: date
    circle_id: str
    indicators: tuple[IndicatorInput, ...] = ()


async def editable_experiment(
    session: AsyncSession, account: Account, experiment_id: str
) -> Experiment:
    """The experiment, if the account may facilitate it (raises NoSuchExperiment, NotAllowed)."""
    experiment = await session.get(Experiment, experiment_id)
    if experiment is None:
        raise NoSuchExperiment(experiment_id)
    await require_facilitator(session, account, experiment.circle_id)
    return experiment


async def experiment_document(
    session: AsyncSession, runtime: Runtime, experiment: Experiment
) -> dict[str, Any]:
    """The experiment's current ActivityStreams document, read from the database."""
    indicators = list(
        await session.scalars(
            select(ExperimentIndicator)
            .where(ExperimentIndicator.experiment_id == experiment.id)
            .order_by(ExperimentIndicator.position, ExperimentIndicator.id)
        )
    )
    latest: dict[str, Measurement] = {}
    if indicators:
        measurements = await session.scalars(
            select(Measurement)
            .where(Measurement.indicator_id.in_([i.id for i in indicators]))
            .order_by(Measurement.measured_on)
        )
        latest = {m.indicator_id: m for m in measurements}
    proposal_uri = (
        await session.scalar(select(Proposal.uri).where(Proposal.id == experiment.proposal_id))
        if experiment.proposal_id
        else None
    )
    evaluation_uri = await session.scalar(
        select(Evaluation.uri).where(Evaluation.experiment_id == experiment.id)
    )
    return experiment_to_as(
        runtime.config,
        experiment,
        [(indicator, latest.get(indicator.id)) for indicator in indicators],
        proposal_uri=proposal_uri,
        evaluation_uri=evaluation_uri,
        addressed_to=await origin_territories(session, experiment),
    )


async def origin_territories(session: AsyncSession, experiment: Experiment) -> list[str]:
    """The territory whose experiment this one replicates: it is copied on every change."""
    if not experiment.derived_from:
        return []
    publisher = await session.scalar(
        select(RemoteObject.actor_uri).where(RemoteObject.uri == experiment.derived_from)
    )
    return [publisher] if publisher else []


async def publish_experiment(
    runtime: Runtime, session: AsyncSession, experiment: Experiment, verb: str = "Update"
) -> None:
    """Log the experiment's Create or Update for the territory's followers (and its origin)."""
    experiment.updated_at = utcnow()
    await session.flush()
    await federate(
        runtime, session, await experiment_document(session, runtime, experiment), verb=verb
    )


def add_indicators(
    session: AsyncSession,
    experiment: Experiment,
    indicators: tuple[IndicatorInput, ...],
    start: int,
) -> None:
    """Attach indicators to an experiment, numbered from `start`."""
    for position, item in enumerate(indicators, start=start):
        session.add(
            ExperimentIndicator(
                experiment_id=experiment.id,
                name=item.name,
                unit=item.unit,
                baseline=item.baseline,
                target=item.target,
                direction=item.direction,
                position=position,
            )
        )


async def create_experiment(
    runtime: Runtime, account: Account, proposal_id: str, data: ExperimentInput
) -> Experiment:
    """A facilitator starts an experiment from an adopted proposal, which goes in_project."""
    async with runtime.sessions.begin() as session:
        proposal = await session.get(Proposal, proposal_id)
        if proposal is None:
            raise NoSuchExperiment(proposal_id)
        if await session.get(Circle, data.circle_id) is None:
            raise ParticipationError(UNKNOWN_CIRCLE, "circle")
        await require_facilitator(session, account, data.circle_id)
        if proposal.state != ProposalState.ADOPTED:
            raise ParticipationError(NOT_ADOPTED)
        by = await author_name(session, account.id)
        identifier = new_id()
        experiment = Experiment(
            id=identifier,
            uri=experiment_url(runtime.config, identifier),
            proposal_id=proposal.id,
            circle_id=data.circle_id,
            title=data.title,
            hypothesis=data.hypothesis,
            theme=proposal.theme,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            created_by=account.id,
        )
        session.add(experiment)
        await session.flush()
        add_indicators(session, experiment, data.indicators, 0)
        record_change(
            session, experiment.uri, None, ExperimentState.PROPOSED.value, by, proposal.title
        )
        await set_proposal_state(
            runtime, session, proposal, ProposalState.IN_PROJECT, by, data.title
        )
        await publish_experiment(runtime, session, experiment, "Create")
    runtime.wake_delivery()
    return experiment


async def add_indicator(
    runtime: Runtime, account: Account, experiment_id: str, data: IndicatorInput
) -> None:
    """A facilitator adds an indicator to an experiment."""
    async with runtime.sessions.begin() as session:
        experiment = await editable_experiment(session, account, experiment_id)
        count = await session.scalar(
            select(func.count())
            .select_from(ExperimentIndicator)
            .where(ExperimentIndicator.experiment_id == experiment.id)
        )
        add_indicators(session, experiment, (data,), count or 0)
        await publish_experiment(runtime, session, experiment)
    runtime.wake_delivery()


async def _indicator(
    session: AsyncSession, experiment: Experiment, indicator_id: str
) -> ExperimentIndicator:
    indicator = await session.get(ExperimentIndicator, indicator_id)
    if indicator is None or indicator.experiment_id != experiment.id:
        raise NoSuchExperiment(indicator_id)
    return indicator


async def update_indicator(
    runtime: Runtime, account: Account, experiment_id: str, indicator_id: str, data: IndicatorInput
) -> None:
    """A facilitator corrects an indicator (a replica adapts the copied ones, for instance)."""
    async with runtime.sessions.begin() as session:
        experiment = await editable_experiment(session, account, experiment_id)
        indicator = await _indicator(session, experiment, indicator_id)
        indicator.name, indicator.unit = data.name, data.unit
        indicator.baseline, indicator.target = data.baseline, data.target
        indicator.direction = data.direction
        await publish_experiment(runtime, session, experiment)
    runtime.wake_delivery()


async def record_measurement(
    runtime: Runtime,
    account: Account,
    experiment_id: str,
    indicator_id: str,
    value: float,
    day: date,
    note: str,
) -> None:
    """A facilitator records an indicator's value on a day (a second one that day replaces
    the first: it is a correction)."""
    async with runtime.sessions.begin() as session:
        experiment = await editable_experiment(session, account, experiment_id)
        indicator = await _indicator(session, experiment, indicator_id)
        existing = (
            await session.scalars(
                select(Measurement).where(
                    Measurement.indicator_id == indicator.id, Measurement.measured_on == day
                )
            )
        ).first()
        measurement = existing or Measurement(indicator_id=indicator.id, measured_on=day)
        measurement.value, measurement.note, measurement.recorded_by = value, note, account.id
        if existing is None:
            session.add(measurement)
        await publish_experiment(runtime, session, experiment)
    runtime.wake_delivery()


async def add_milestone(
    runtime: Runtime, account: Account, experiment_id: str, title: str, due: date | None
) -> None:
    """A facilitator plans a step of the experiment."""
    async with runtime.sessions.begin() as session:
        experiment = await editable_experiment(session, account, experiment_id)
        session.add(Milestone(experiment_id=experiment.id, title=title, due_on=due))


async def complete_milestone(
    runtime: Runtime, account: Account, experiment_id: str, milestone_id: str
) -> None:
    """A facilitator marks a step done today (the territory's today)."""
    async with runtime.sessions.begin() as session:
        experiment = await editable_experiment(session, account, experiment_id)
        milestone = await session.get(Milestone, milestone_id)
        if milestone is None or milestone.experiment_id != experiment.id:
            raise NoSuchExperiment(milestone_id)
        milestone.done_on = milestone.done_on or today(runtime.config.territory.zone)


async def set_progress(
    runtime: Runtime, account: Account, experiment_id: str, progress: int
) -> None:
    """A facilitator updates how far along the experiment is (0-100)."""
    async with runtime.sessions.begin() as session:
        experiment = await editable_experiment(session, account, experiment_id)
        experiment.progress = max(0, min(100, progress))
        await publish_experiment(runtime, session, experiment)
    runtime.wake_delivery()


async def change_state(
    runtime: Runtime, account: Account, experiment_id: str, wanted: str, note: str = ""
) -> None:
    """Start, pause, resume or send to evaluation (concluding takes an evaluation)."""
    async with runtime.sessions.begin() as session:
        experiment = await editable_experiment(session, account, experiment_id)
        try:
            target = ExperimentState(wanted)
            if target is ExperimentState.CONCLUDED:
                raise TransitionError("an experiment concludes with its evaluation")
            check_transition(ExperimentState(experiment.state), target)
        except (ValueError, TransitionError):
            raise ParticipationError(IMPOSSIBLE_CHANGE) from None
        by = await author_name(session, account.id)
        record_change(session, experiment.uri, experiment.state, target.value, by, note)
        experiment.state = target.value
        await publish_experiment(runtime, session, experiment)
    runtime.wake_delivery()


async def ensure_facilitator(runtime: Runtime, account: Account, experiment_id: str) -> None:
    """Refuse early (NoSuchExperiment, NotAllowed), before reading a facilitator's form."""
    async with runtime.sessions() as session:
        await editable_experiment(session, account, experiment_id)
