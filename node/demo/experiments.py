"""The sample's experiments: created from their adopted proposal, started, punctuated by
milestones, measured every month, and (for a concluded one) sent to evaluation and
evaluated."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from random import Random

from sqlalchemy import select

from node.demo.context import Demo
from node.demo.model import ExperimentSample
from node.demo.series import monthly_days, series
from node.services.participation.evaluations import EvaluationInput, evaluate
from node.services.participation.experiments import (
    ExperimentInput,
    IndicatorInput,
    add_milestone,
    change_state,
    complete_milestone,
    create_experiment,
    record_measurement,
    set_progress,
)
from node.storage.models import (
    Evaluation,
    Experiment,
    ExperimentIndicator,
    Milestone,
    Note,
    Proposal,
)


async def add_experiments(demo: Demo, experiments: tuple[ExperimentSample, ...], seed: int) -> None:
    """Every sample experiment, with the same measurements each time (seeded noise)."""
    rng = Random(seed)
    for sample in experiments:
        await _experiment(demo, sample, rng)


async def _experiment(demo: Demo, sample: ExperimentSample, rng: Random) -> None:
    runtime = demo.runtime
    proposal = demo.proposals[sample.proposal]
    created = demo.at(sample.created_days_ago)
    facilitator = demo.person(sample.facilitator, created)
    start = demo.clock.day(sample.starts_days_ago)
    data = ExperimentInput(
        title=sample.title,
        hypothesis=sample.hypothesis,
        starts_on=start,
        ends_on=start + timedelta(days=sample.duration_days),
        circle_id=proposal.circle_id,
        indicators=tuple(
            IndicatorInput(i.name, i.unit, i.baseline, i.target, i.direction)
            for i in sample.indicators
        ),
    )
    experiment = await create_experiment(runtime, facilitator, proposal.id, data)
    demo.keep("experiments", experiment.id)
    await demo.backdate.stamp(created, experiment, created=True)
    await demo.backdate.stamp(created, proposal)
    await _milestones(demo, experiment, sample, start)
    started = _morning(demo, start)
    await change_state(runtime, facilitator, experiment.id, "running", sample.start_note)
    await demo.backdate.stamp(started, experiment)
    await _measure(demo, experiment, sample, start, rng)
    await set_progress(runtime, facilitator, experiment.id, sample.progress)
    last = _morning(demo, monthly_days(start, sample.months_measured)[-1])
    if sample.evaluating_days_ago is not None:
        last = demo.at(sample.evaluating_days_ago)
        note = sample.evaluating_note
        await change_state(runtime, facilitator, experiment.id, "evaluating", note)
        await demo.backdate.stamp(last, experiment)
    if sample.evaluation is not None:
        last = await _evaluate(demo, experiment, proposal, sample)
    await demo.backdate.rows(Experiment, [Experiment.id == experiment.id], updated_at=last)


def _morning(demo: Demo, day: date) -> datetime:
    """A plausible moment of a day: 9:30 on the territory's clock (in UTC)."""
    return datetime.combine(day, time(9, 30), tzinfo=demo.clock.zone).astimezone(UTC)


async def _milestones(
    demo: Demo, experiment: Experiment, sample: ExperimentSample, start: date
) -> None:
    runtime = demo.runtime
    facilitator = demo.accounts[sample.facilitator]
    for item in sample.milestones:
        due = start + timedelta(days=item.due_after)
        await add_milestone(runtime, facilitator, experiment.id, item.title, due)
        if item.done_after is None:
            continue
        async with runtime.sessions() as session:
            milestone_id = await session.scalar(
                select(Milestone.id).where(
                    Milestone.experiment_id == experiment.id, Milestone.title == item.title
                )
            )
        assert milestone_id is not None
        await complete_milestone(runtime, facilitator, experiment.id, milestone_id)
        done = start + timedelta(days=item.done_after)
        await demo.backdate.rows(Milestone, [Milestone.id == milestone_id], done_on=done)
        demo.counts["milestones"] += 1


async def _measure(
    demo: Demo, experiment: Experiment, sample: ExperimentSample, start: date, rng: Random
) -> None:
    """Every indicator's monthly measurements, recorded by the facilitator."""
    runtime = demo.runtime
    facilitator = demo.accounts[sample.facilitator]
    async with runtime.sessions() as session:
        indicators = list(
            await session.scalars(
                select(ExperimentIndicator)
                .where(ExperimentIndicator.experiment_id == experiment.id)
                .order_by(ExperimentIndicator.position)
            )
        )
    days = monthly_days(start, sample.months_measured)
    for indicator, spec in zip(indicators, sample.indicators, strict=True):
        notes = dict(spec.notes)
        for month, (day, value) in enumerate(zip(days, series(spec.trend, days, rng), strict=True)):
            await record_measurement(
                runtime, facilitator, experiment.id, indicator.id, value, day, notes.get(month, "")
            )
            demo.counts["measurements"] += 1


async def _evaluate(
    demo: Demo, experiment: Experiment, proposal: Proposal, sample: ExperimentSample
) -> datetime:
    """Evaluate the experiment; a success also publishes the territory's announcement."""
    assert sample.evaluation is not None
    item = sample.evaluation
    when = demo.at(item.days_ago)
    data = EvaluationInput(item.outcome, item.lessons, item.recommendation)
    evaluation = await evaluate(demo.runtime, demo.person(item.by, when), experiment.id, data)
    demo.keep("evaluations", evaluation.id)
    await demo.backdate.rows(Evaluation, [Evaluation.id == evaluation.id], published_at=when)
    await demo.backdate.stamp(when, experiment, proposal)
    await demo.backdate.rows(
        Note,
        [
            Note.local,
            Note.published >= demo.clock.now,
            Note.content.contains(evaluation.uri),
            Note.in_reply_to.is_(None),
        ],
        published=when,
    )
    if item.outcome == "success":
        demo.counts["announcements"] += 1
    return when
