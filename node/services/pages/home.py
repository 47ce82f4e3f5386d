"""The home page's dashboard: what is open now in the territory (decisions to vote on, needs
waiting for support, running experiments with their latest values, open offers and requests),
its map and a glance at its indicators, read together for one page.

Few queries, whatever the territory's size: each block is one query (two for the experiments'
indicators and measurements), counts come with the rows, lists are capped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.services.knowledge.indicators.catalogue import IndicatorView, drawable_indicators
from node.services.knowledge.map.records import MeshSnapshot, mesh_snapshot
from node.services.participation.experiment_pages import IndicatorView as ExperimentIndicatorView
from node.services.participation.needs import OPEN_STATES
from node.storage.models import (
    Decision,
    Experiment,
    ExperimentIndicator,
    Measurement,
    Need,
    NeedSupport,
    Offer,
    Vote,
)

Sessions = async_sessionmaker[AsyncSession]
Item = TypeVar("Item")

#: How many items each block of the dashboard lists (its page lists them all).
BLOCK_SIZE = 5
#: How many of the territory's indicators get a sparkline.
SPARKLINES = 4


@dataclass(frozen=True, slots=True)
class OpenDecision:
    """A decision residents can vote on now."""

    uri: str
    question: str
    closes_at: datetime
    votes: int


@dataclass(frozen=True, slots=True)
class WaitingNeed:
    """A need still open to supports (to triage, or with a circle)."""

    uri: str
    title: str
    state: str
    supports: int


@dataclass(frozen=True, slots=True)
class RunningExperiment:
    """An experiment under way, with its indicators and their measurements."""

    uri: str
    title: str
    indicators: list[ExperimentIndicatorView]


@dataclass(frozen=True, slots=True)
class OpenOffer:
    """An offer or a request still open."""

    uri: str
    title: str
    #: offer or request
    purpose: str
    #: lend, give, group_purchase, time_bank
    kind: str


@dataclass(frozen=True, slots=True)
class Listed(Generic[Item]):
    """The first items of a block, and how many there are in all."""

    items: list[Item]
    total: int


@dataclass(frozen=True, slots=True)
class HomeDashboard:
    """Everything the home page shows above the territory's activity."""

    decisions: Listed[OpenDecision]
    needs: Listed[WaitingNeed]
    experiments: Listed[RunningExperiment]
    offers: Listed[OpenOffer]
    mesh: MeshSnapshot
    indicators: list[IndicatorView]

    @property
    def nothing_open(self) -> bool:
        """Whether no decision, need, experiment, offer or request is open."""
        blocks = (self.decisions, self.needs, self.experiments, self.offers)
        return not any(block.total for block in blocks)


def _with_total(statement: Select[Any]) -> Select[Any]:
    """The statement's rows, each with the number of rows of the whole result."""
    return statement.add_columns(func.count().over().label("total"))


async def open_decisions(session: AsyncSession) -> Listed[OpenDecision]:
    """Decisions open to the vote, closing soonest first, with their number of votes."""
    votes = select(Vote.decision_id, func.count().label("n")).group_by(Vote.decision_id).subquery()
    rows = (
        await session.execute(
            _with_total(
                select(Decision.uri, Decision.question, Decision.closes_at, votes.c.n)
                .outerjoin(votes, votes.c.decision_id == Decision.id)
                .where(Decision.state == "open")
                .order_by(Decision.closes_at, Decision.id)
                .limit(BLOCK_SIZE)
            )
        )
    ).all()
    items = [
        OpenDecision(uri, question, closes, int(n or 0)) for uri, question, closes, n, _ in rows
    ]
    return Listed(items, int(rows[0].total) if rows else 0)


async def waiting_needs(session: AsyncSession) -> Listed[WaitingNeed]:
    """Needs open to supports, the most supported first (then the newest)."""
    supports = (
        select(NeedSupport.need_id, func.count().label("n"))
        .group_by(NeedSupport.need_id)
        .subquery()
    )
    count = func.coalesce(supports.c.n, 0)
    rows = (
        await session.execute(
            _with_total(
                select(Need.uri, Need.title, Need.state, count)
                .outerjoin(supports, supports.c.need_id == Need.id)
                .where(Need.state.in_([state.value for state in OPEN_STATES]))
                .order_by(count.desc(), Need.created_at.desc(), Need.id)
                .limit(BLOCK_SIZE)
            )
        )
    ).all()
    items = [WaitingNeed(uri, title, state, int(n)) for uri, title, state, n, _ in rows]
    return Listed(items, int(rows[0].total) if rows else 0)


async def running_experiments(session: AsyncSession) -> Listed[RunningExperiment]:
    """Experiments under way, the most recently started first, each with its indicators and
    their measurements (the page shows the latest value and a sparkline)."""
    rows = (
        await session.execute(
            _with_total(
                select(Experiment.id, Experiment.uri, Experiment.title)
                .where(Experiment.state == "running")
                .order_by(Experiment.starts_on.desc(), Experiment.created_at.desc())
                .limit(BLOCK_SIZE)
            )
        )
    ).all()
    indicators = list(
        await session.scalars(
            select(ExperimentIndicator)
            .where(ExperimentIndicator.experiment_id.in_([row.id for row in rows]))
            .order_by(ExperimentIndicator.position, ExperimentIndicator.id)
        )
    )
    measured: dict[str, list[Measurement]] = {indicator.id: [] for indicator in indicators}
    for measurement in await session.scalars(
        select(Measurement)
        .where(Measurement.indicator_id.in_(list(measured)))
        .order_by(Measurement.measured_on, Measurement.id)
    ):
        measured[measurement.indicator_id].append(measurement)
    items = [
        RunningExperiment(
            uri,
            title,
            [
                ExperimentIndicatorView(indicator, measured[indicator.id])
                for indicator in indicators
                if indicator.experiment_id == experiment_id
            ],
        )
        for experiment_id, uri, title, _ in rows
    ]
    return Listed(items, int(rows[0].total) if rows else 0)


async def open_offers(session: AsyncSession) -> Listed[OpenOffer]:
    """Offers and requests still open, the newest first."""
    rows = (
        await session.execute(
            _with_total(
                select(Offer.uri, Offer.title, Offer.purpose, Offer.kind)
                .where(Offer.state == "open")
                .order_by(Offer.created_at.desc(), Offer.id)
                .limit(BLOCK_SIZE)
            )
        )
    ).all()
    items = [OpenOffer(uri, title, purpose, kind) for uri, title, purpose, kind, _ in rows]
    return Listed(items, int(rows[0].total) if rows else 0)


async def home_dashboard(sessions: Sessions, config: InstanceConfig) -> HomeDashboard:
    """What is open now, the map's data and the first indicators with a series to draw."""
    async with sessions() as session:  # one snapshot of the participation blocks
        decisions = await open_decisions(session)
        needs = await waiting_needs(session)
        experiments = await running_experiments(session)
        offers = await open_offers(session)
    return HomeDashboard(
        decisions=decisions,
        needs=needs,
        experiments=experiments,
        offers=offers,
        mesh=await mesh_snapshot(sessions),
        indicators=await drawable_indicators(sessions, SPARKLINES),
    )
