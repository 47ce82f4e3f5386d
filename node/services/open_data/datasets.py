"""The node's public datasets: for each, its stable name (the URL part), French title and
description, documented CSV columns, how to count it and date its last change, and how to
read it in each format (CSV and JSON-LD for all, GeoJSON for those on the map).

The participation datasets are read by open_data_participation and open_data_experiments;
the map and indicator datasets reuse the exports of the map and dashboard (see
open_data_knowledge), so that each piece of data has one exporter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.services.open_data import experiments, participation
from node.services.open_data.formats import Column, Entry, csv_text
from node.storage.models import (
    Amendment,
    Decision,
    Evaluation,
    Experiment,
    ExperimentIndicator,
    Measurement,
    Need,
    Offer,
    Proposal,
)

Sessions = async_sessionmaker[AsyncSession]
#: How many records a dataset holds and when it last changed (None when empty).
Stamp = tuple[int, datetime | date | None]
StampReader = Callable[[Sessions, InstanceConfig], Awaitable[Stamp]]
CsvReader = Callable[[Sessions, InstanceConfig], Awaitable[str]]
#: A dataset as GeoJSON text (the spatial datasets: places, actors, flows).
GeoJsonReader = Callable[[Sessions, InstanceConfig], Awaitable[str]]
ItemsReader = Callable[[Sessions, InstanceConfig], Awaitable[list[dict[str, Any]]]]
EntriesReader = Callable[[AsyncSession, InstanceConfig], Awaitable[list[Entry]]]


@dataclass(frozen=True, slots=True)
class Dataset:
    """One public dataset of the node."""

    #: the stable name in its URLs: /open-data/<slug>, .csv, .jsonld
    slug: str
    #: French title and description (the pages translate them)
    title: str
    description: str
    columns: tuple[Column, ...]
    stamp: StampReader
    csv: CsvReader
    items: ItemsReader
    #: how to read it as GeoJSON, for the datasets that are on the map
    geojson: GeoJsonReader | None = None


def stamp_of(statement: Select[Any, Any]) -> StampReader:
    """A stamp reader from a `SELECT count, max(moment)` statement."""

    async def read(sessions: Sessions, config: InstanceConfig) -> Stamp:
        async with sessions() as session:
            count, last = (await session.execute(statement)).one()
        return int(count or 0), last

    return read


def table_stamp(model: Any, moment: Any) -> StampReader:
    """The stamp of a table: its rows, and the latest of one of its moments."""
    return stamp_of(select(func.count(), func.max(moment)).select_from(model))


def from_entries(
    slug: str,
    title: str,
    description: str,
    columns: Sequence[Column],
    read: EntriesReader,
    stamp: StampReader,
) -> Dataset:
    """A dataset whose records are read once as entries, then written in either format."""

    async def entries(sessions: Sessions, config: InstanceConfig) -> list[Entry]:
        async with sessions() as session:  # one transaction: a consistent snapshot
            return await read(session, config)

    async def as_csv(sessions: Sessions, config: InstanceConfig) -> str:
        rows = [entry.row for entry in await entries(sessions, config)]
        return csv_text(columns, rows, config.territory.zone)

    async def as_items(sessions: Sessions, config: InstanceConfig) -> list[dict[str, Any]]:
        return [entry.item for entry in await entries(sessions, config)]

    return Dataset(slug, title, description, tuple(columns), stamp, as_csv, as_items)


PARTICIPATION: tuple[Dataset, ...] = (
    from_entries(
        "needs",
        "Besoins",
        "Besoins exprimés par les habitant·es : thème, état, soutiens, cercle, réponse.",
        participation.NEED_COLUMNS,
        participation.need_entries,
        table_stamp(Need, Need.updated_at),
    ),
    from_entries(
        "proposals",
        "Propositions",
        "Propositions rédigées par les cercles, leur état et les besoins qu'elles reprennent.",
        participation.PROPOSAL_COLUMNS,
        participation.proposal_entries,
        table_stamp(Proposal, Proposal.updated_at),
    ),
    from_entries(
        "amendments",
        "Amendements",
        "Amendements proposés aux propositions, acceptés ou rejetés par les cercles.",
        participation.AMENDMENT_COLUMNS,
        participation.amendment_entries,
        table_stamp(Amendment, func.coalesce(Amendment.decided_at, Amendment.created_at)),
    ),
    from_entries(
        "decisions",
        "Décisions et résultats",
        "Décisions : méthode, calendrier, quorum ; à la clôture, participation, voix, issue.",
        participation.DECISION_COLUMNS,
        participation.decision_entries,
        table_stamp(Decision, func.coalesce(Decision.closed_at, Decision.created_at)),
    ),
    from_entries(
        "experiments",
        "Expérimentations",
        "Expérimentations locales : hypothèse, calendrier, état, indicateurs, évaluation.",
        experiments.EXPERIMENT_COLUMNS,
        experiments.experiment_entries,
        table_stamp(Experiment, Experiment.updated_at),
    ),
    from_entries(
        "experiment-indicators",
        "Indicateurs des expérimentations",
        "Ce que mesure chaque expérimentation : départ, cible, sens souhaité, dernière valeur.",
        experiments.EXPERIMENT_INDICATOR_COLUMNS,
        experiments.experiment_indicator_entries,
        stamp_of(
            select(func.count(ExperimentIndicator.id), func.max(Experiment.updated_at)).join(
                Experiment, Experiment.id == ExperimentIndicator.experiment_id
            )
        ),
    ),
    from_entries(
        "measurements",
        "Mesures des expérimentations",
        "Chaque valeur mesurée des indicateurs des expérimentations, avec sa date.",
        experiments.MEASUREMENT_COLUMNS,
        experiments.measurement_entries,
        table_stamp(Measurement, Measurement.measured_on),
    ),
    from_entries(
        "evaluations",
        "Évaluations",
        "Évaluations des expérimentations : issue, recommandation et enseignements.",
        experiments.EVALUATION_COLUMNS,
        experiments.evaluation_entries,
        table_stamp(Evaluation, Evaluation.published_at),
    ),
    from_entries(
        "offers",
        "Offres et demandes",
        "Offres et demandes de ressources, ouvertes, pourvues ou fermées.",
        experiments.OFFER_COLUMNS,
        experiments.offer_entries,
        table_stamp(Offer, Offer.updated_at),
    ),
)
