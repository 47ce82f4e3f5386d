"""Evaluations: a facilitator concludes an experiment in evaluation with its outcome, lessons
and recommendation. The territory publishes the evaluation (also to the territory whose
experiment it replicates), the experiment is concluded and its proposal evaluated; a success
is also announced in a territory note."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from node.convert.experiments import (
    OUTCOME_LABELS,
    OUTCOMES,
    RECOMMENDATIONS,
    evaluation_to_as,
    evaluation_url,
)
from node.domain.ids import new_id
from node.domain.participation import ExperimentState, ProposalState, allowed_next
from node.services.federation.announcements import announce
from node.services.federation.publishing import federate
from node.services.participation.experiments import (
    editable_experiment,
    origin_territories,
    publish_experiment,
)
from node.services.participation.history import record_change
from node.services.participation.needs import ParticipationError, author_name
from node.services.participation.proposals import set_proposal_state
from node.services.runtime import Runtime
from node.storage.models import Account, Evaluation, Experiment, Proposal


@dataclass(frozen=True, slots=True)
class EvaluationInput:
    """What the facilitator concluded."""

    outcome: str
    lessons: str
    recommendation: str


def success_announcement(experiment: Experiment, evaluation: Evaluation) -> str:
    """The territory note that makes a success visible to every follower."""
    return (
        f"Expérimentation réussie : {experiment.title}\n\n"
        f"Évaluation et enseignements : {evaluation.uri}\n"
        f"L'expérimentation : {experiment.uri}"
    )


async def evaluate(
    runtime: Runtime, account: Account, experiment_id: str, data: EvaluationInput
) -> Evaluation:
    """Record the evaluation of an experiment in evaluation, conclude it, publish both."""
    if data.outcome not in OUTCOMES or data.recommendation not in RECOMMENDATIONS:
        raise ParticipationError("Choisissez une des valeurs proposées.", "outcome")
    async with runtime.sessions.begin() as session:
        experiment = await editable_experiment(session, account, experiment_id)
        by = await author_name(session, account.id)
        if experiment.state != ExperimentState.EVALUATING:
            raise ParticipationError("Une expérimentation s'évalue quand elle est en évaluation.")
        identifier = new_id()
        evaluation = Evaluation(
            id=identifier,
            uri=evaluation_url(runtime.config, identifier),
            experiment_id=experiment.id,
            outcome=data.outcome,
            lessons=data.lessons,
            recommendation=data.recommendation,
            evaluated_by=account.id,
        )
        session.add(evaluation)
        await session.flush()
        record_change(
            session,
            experiment.uri,
            experiment.state,
            ExperimentState.CONCLUDED.value,
            by,
            OUTCOME_LABELS[data.outcome],
        )
        experiment.state = ExperimentState.CONCLUDED.value
        proposal = (
            await session.scalars(select(Proposal).where(Proposal.id == experiment.proposal_id))
        ).first()
        if proposal is not None and ProposalState.EVALUATED in allowed_next(
            ProposalState(proposal.state)
        ):
            await set_proposal_state(
                runtime, session, proposal, ProposalState.EVALUATED, by, evaluation.uri
            )
        document = evaluation_to_as(
            runtime.config,
            evaluation,
            experiment,
            addressed_to=await origin_territories(session, experiment),
        )
        await federate(runtime, session, document, verb="Create")
        await publish_experiment(runtime, session, experiment)
    runtime.wake_delivery()
    if evaluation.outcome == "success":
        await announce(runtime, success_announcement(experiment, evaluation))
    return evaluation
