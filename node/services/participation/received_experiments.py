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
from node.convert.received import json_object, raw_document
from node.domain.participation import ExperimentState
from node.storage.models import Experiment, RemoteActor, RemoteObject
from protocols.activitystreams import id_of, origin_of, web_link

EXPERIMENT_KIND = "tc:Experiment"
EVALUATION_KIND = "tc:Evaluation"
#: How many concluded experiments an outcome filter looks through.
CONCLUDED_SCAN = 500


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


async def evaluations_of(
    session: AsyncSession, experiments: list[tuple[str, str]]
) -> dict[str, ReceivedEvaluation]:
    """Experiment id -> its evaluation as received, for (id, raw JSON) of experiments: the
    one the experiment's document names in `evaluation` (on its own server), when that
    arrived too and evaluates it."""
    links: dict[str, str] = {}
    for uri, raw in experiments:
        link = id_of(json_object(raw).get("evaluation"))
        if link and origin_of(link) == origin_of(uri):
            links[link] = uri
    if not links:
        return {}
    found: dict[str, ReceivedEvaluation] = {}
    stored = await session.execute(
        select(RemoteObject.uri, RemoteObject.raw).where(
            RemoteObject.uri.in_(list(links)),
            RemoteObject.kind == EVALUATION_KIND,
            ~RemoteObject.deleted,
        )
    )
    for uri, raw in stored:
        evaluation = received_evaluation_from_as(json_object(raw))
        if evaluation is not None and evaluation.uri == uri and evaluation.evaluates == links[uri]:
            found[evaluation.evaluates] = evaluation
    return found


async def experiment_views(
    session: AsyncSession,
    rows: list[RemoteObject],
    evaluations: dict[str, ReceivedEvaluation] | None = None,
) -> list[RemoteExperimentView]:
    """The views of received experiments: territory names, whether we replicate them, their
    evaluations and indicator changes."""
    if evaluations is None:
        evaluations = await evaluations_of(session, [(row.uri, row.raw) for row in rows])
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


async def received_listing(
    session: AsyncSession, outcome: str, limit: int
) -> list[RemoteExperimentView]:
    """The latest received experiments; with `outcome`, the latest concluded ones whose
    evaluation has that outcome (among the CONCLUDED_SCAN latest concluded)."""
    alive = (RemoteObject.kind == EXPERIMENT_KIND, ~RemoteObject.deleted)
    newest = RemoteObject.updated.desc()
    if not outcome:
        query = select(RemoteObject).where(*alive).order_by(newest).limit(limit)
        return await experiment_views(session, list(await session.scalars(query)))
    concluded = await session.execute(
        select(RemoteObject.uri, RemoteObject.raw)
        .where(*alive, RemoteObject.state == ExperimentState.CONCLUDED.value)
        .order_by(newest)
        .limit(CONCLUDED_SCAN)
    )
    evaluations = await evaluations_of(session, [(uri, raw) for uri, raw in concluded])
    kept = [uri for uri, evaluation in evaluations.items() if evaluation.outcome == outcome]
    rows = await session.scalars(
        select(RemoteObject).where(RemoteObject.uri.in_(kept)).order_by(newest).limit(limit)
    )
    return await experiment_views(session, list(rows), evaluations)


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
        return (await experiment_views(session, [row]))[0] if row is not None else None
