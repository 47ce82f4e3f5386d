"""Other territories' experiments as this node received them, for the experiments list and
the adopt page: each with its territory, its evaluation (outcome, recommendation) when that
arrived too, and its indicators from baseline to latest value. Nothing is fetched here: the
pages show what was last received."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.convert.experiments import (
    IndicatorChange,
    ReceivedEvaluation,
    indicator_changes_from_as,
    received_evaluation_from_as,
)
from node.convert.received import raw_document
from node.storage.models import Experiment, RemoteActor, RemoteObject
from protocols.activitystreams import web_link

EXPERIMENT_KIND = "tc:Experiment"
EVALUATION_KIND = "tc:Evaluation"
#: How many received evaluations are read to find the experiments' outcomes.
EVALUATION_SCAN = 1000


@dataclass(frozen=True, slots=True)
class RemoteExperimentView:
    """An experiment received from another territory, for the list and the adopt page."""

    item: RemoteObject
    territory: str
    adopted: bool
    #: its evaluation, when received
    evaluation: ReceivedEvaluation | None = None
    indicators: list[IndicatorChange] = field(default_factory=list)

    @property
    def link(self) -> str:
        """Its page on its territory's node."""
        return web_link(self.item.url, self.item.uri)


async def received_evaluations(session: AsyncSession) -> dict[str, ReceivedEvaluation]:
    """Evaluated experiment's id -> its latest received evaluation (by the experiment's own
    node: an evaluation of another server's experiment is not taken)."""
    rows = await session.scalars(
        select(RemoteObject)
        .where(RemoteObject.kind == EVALUATION_KIND, ~RemoteObject.deleted)
        .order_by(RemoteObject.updated.desc())
        .limit(EVALUATION_SCAN)
    )
    found: dict[str, ReceivedEvaluation] = {}
    for row in rows:
        evaluation = received_evaluation_from_as(raw_document(row))
        if evaluation is not None and evaluation.uri == row.uri:
            found.setdefault(evaluation.evaluates, evaluation)
    return found


async def experiment_views(
    session: AsyncSession,
    rows: list[RemoteObject],
    evaluations: dict[str, ReceivedEvaluation],
) -> list[RemoteExperimentView]:
    """The views of received experiments: territory names, whether we replicate them, their
    evaluations and indicator changes."""
    names = {
        a.uri: a.name or a.username
        for a in await session.scalars(
            select(RemoteActor).where(RemoteActor.uri.in_([r.actor_uri for r in rows]))
        )
    }
    adopted = set(
        await session.scalars(
            select(Experiment.derived_from).where(
                Experiment.derived_from.in_([r.uri for r in rows])
            )
        )
    )
    return [
        RemoteExperimentView(
            item=row,
            territory=names.get(row.actor_uri, row.actor_uri),
            adopted=row.uri in adopted,
            evaluation=evaluations.get(row.uri),
            indicators=indicator_changes_from_as(raw_document(row)),
        )
        for row in rows
    ]


async def received_experiment(
    sessions: async_sessionmaker[AsyncSession], url: str
) -> RemoteExperimentView | None:
    """The stored copy of another territory's experiment at `url`, if we received it."""
    async with sessions() as session:
        row = (
            await session.scalars(
                select(RemoteObject).where(
                    RemoteObject.uri == url,
                    RemoteObject.kind == EXPERIMENT_KIND,
                    ~RemoteObject.deleted,
                )
            )
        ).first()
        if row is None:
            return None
        evaluations = await received_evaluations(session)
        return (await experiment_views(session, [row], evaluations))[0]
