"""Open data of experiments (with their indicators and measurements), their evaluations, and
resource offers and requests: read in a few queries each, given as CSV rows and as the
documents the node federates.

As for the participation chain, nothing names a resident: no authors, no evaluator, no
account that recorded a measurement; an offer is published by the territory, as on the wire.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from instance_config import InstanceConfig
from node.convert.experiments import evaluation_to_as, experiment_to_as, indicator_target
from node.convert.offers import addressed_territories, offer_to_as
from node.services.open_data.formats import Cell, Column, Entry, joined
from node.services.open_data.participation import (
    CIRCLE,
    CREATED,
    ID,
    UPDATED,
    URL,
    circle_index,
    uris_by_id,
)
from node.storage.models import (
    Evaluation,
    Experiment,
    ExperimentIndicator,
    Measurement,
    Offer,
    Proposal,
    RemoteObject,
)

EXPERIMENT_URL = Column("experiment_url", "Adresse de l'expérimentation.")

EXPERIMENT_COLUMNS = (
    ID,
    URL,
    Column("title", "Titre de l'expérimentation."),
    Column("summary", "Résumé."),
    Column("hypothesis", "Hypothèse testée."),
    Column("theme", "Thème, en code."),
    Column(
        "state",
        "État : proposed, running (en cours), paused, evaluating ou concluded (terminée).",
    ),
    Column("progress", "Avancement annoncé, en pour cent."),
    Column("starts_on", "Date de début (AAAA-MM-JJ)."),
    Column("ends_on", "Date de fin prévue (AAAA-MM-JJ)."),
    CIRCLE,
    Column("proposal_url", "Adresse de la proposition adoptée dont elle vient."),
    Column("derived_from", "Adresse de l'expérimentation d'un autre territoire reproduite."),
    Column("adaptations", "Ce qui a été adapté par rapport à l'expérimentation reproduite."),
    Column("indicators", "Nombre d'indicateurs suivis (voir « experiment-indicators »)."),
    Column("evaluation_url", "Adresse de son évaluation, une fois publiée."),
    Column("outcome", "Issue de l'évaluation : success, partial, failure, inconclusive."),
    CREATED,
    UPDATED,
)

EXPERIMENT_INDICATOR_COLUMNS = (
    ID,
    Column("experiment_id", "Identifiant de l'expérimentation."),
    EXPERIMENT_URL,
    Column("name", "Nom de l'indicateur."),
    Column("unit", "Unité de mesure."),
    Column("baseline", "Valeur de départ."),
    Column("target", "Valeur cible."),
    Column("direction", "Sens souhaité : increase (hausse) ou decrease (baisse)."),
    Column("measurements", "Nombre de mesures enregistrées."),
    Column("latest_value", "Dernière valeur mesurée."),
    Column("latest_on", "Date de la dernière mesure (AAAA-MM-JJ)."),
)

MEASUREMENT_COLUMNS = (
    ID,
    Column("indicator_id", "Identifiant de l'indicateur (voir « experiment-indicators »)."),
    Column("indicator", "Nom de l'indicateur."),
    EXPERIMENT_URL,
    Column("measured_on", "Date de la mesure (AAAA-MM-JJ)."),
    Column("value", "Valeur mesurée."),
    Column("unit", "Unité de mesure."),
    Column("note", "Remarque publiée avec la mesure."),
)

EVALUATION_COLUMNS = (
    ID,
    URL,
    EXPERIMENT_URL,
    Column("experiment_title", "Titre de l'expérimentation évaluée."),
    Column("outcome", "Issue : success, partial, failure ou inconclusive."),
    Column("recommendation", "Recommandation : generalise, adapt ou stop."),
    Column("lessons", "Enseignements, un par ligne."),
    Column("published_at", "Date et heure de publication (ISO 8601, heure du territoire)."),
)

OFFER_COLUMNS = (
    ID,
    URL,
    Column("purpose", "offer (offre) ou request (demande)."),
    Column("kind", "Type : lend (prêt), give (don), group_purchase ou time_bank."),
    Column("title", "Titre."),
    Column("text", "Description."),
    Column("quantity", "Quantité (heures pour la banque de temps)."),
    Column("minimum_quantity", "Quantité minimale d'un achat groupé."),
    Column("unit", "Unité des quantités."),
    Column("available_from", "Disponible à partir du (AAAA-MM-JJ)."),
    Column("available_until", "Disponible jusqu'au (AAAA-MM-JJ)."),
    Column("place", "Lieu, tel qu'écrit dans l'offre."),
    Column("state", "État : open (ouverte), taken (pourvue), closed (fermée)."),
    Column(
        "addressed_to",
        "Territoires voisins aussi destinataires (adresses séparées par des espaces).",
    ),
    CREATED,
    UPDATED,
)


@dataclass(frozen=True, slots=True)
class IndicatorState:
    """An experiment's indicator with its measurements, oldest first."""

    indicator: ExperimentIndicator
    measurements: list[Measurement]

    @property
    def latest(self) -> Measurement | None:
        """The most recent measurement, if any."""
        return self.measurements[-1] if self.measurements else None


async def indicator_states(session: AsyncSession) -> dict[str, list[IndicatorState]]:
    """Every experiment's indicators (in their page order) with their measurements."""
    indicators = await session.scalars(
        select(ExperimentIndicator).order_by(
            ExperimentIndicator.experiment_id, ExperimentIndicator.position, ExperimentIndicator.id
        )
    )
    measurements: dict[str, list[Measurement]] = defaultdict(list)
    for measurement in await session.scalars(
        select(Measurement).order_by(Measurement.measured_on, Measurement.id)
    ):
        measurements[measurement.indicator_id].append(measurement)
    states: dict[str, list[IndicatorState]] = defaultdict(list)
    for indicator in indicators:
        states[indicator.experiment_id].append(
            IndicatorState(indicator, measurements[indicator.id])
        )
    return states


async def origin_publishers(session: AsyncSession) -> dict[str, str]:
    """Received experiment URL -> its publisher's actor, for replicas' addressing."""
    rows = await session.execute(
        select(RemoteObject.uri, RemoteObject.actor_uri).where(
            RemoteObject.uri.in_(
                select(Experiment.derived_from).where(Experiment.derived_from.is_not(None))
            )
        )
    )
    return {uri: actor for uri, actor in rows}


def _addressed(experiment: Experiment, publishers: dict[str, str]) -> list[str]:
    origin = publishers.get(experiment.derived_from or "")
    return [origin] if origin else []


async def _experiments(session: AsyncSession) -> list[Experiment]:
    return list(
        await session.scalars(select(Experiment).order_by(Experiment.created_at, Experiment.id))
    )


async def experiment_entries(session: AsyncSession, config: InstanceConfig) -> list[Entry]:
    """Every experiment of the node, oldest first, with its indicators and evaluation."""
    experiments = await _experiments(session)
    states = await indicator_states(session)
    proposals = await uris_by_id(session, Proposal)
    evaluations = {
        evaluation.experiment_id: evaluation
        for evaluation in await session.scalars(select(Evaluation))
    }
    circles = await circle_index(session, config)
    publishers = await origin_publishers(session)
    entries = []
    for experiment in experiments:
        indicators = states.get(experiment.id, [])
        evaluation = evaluations.get(experiment.id)
        circle = circles.get(experiment.circle_id) if experiment.circle_id else None
        proposal_uri = proposals.get(experiment.proposal_id) if experiment.proposal_id else None
        row: dict[str, Cell] = {
            "id": experiment.id,
            "url": experiment.uri,
            "title": experiment.title,
            "summary": experiment.summary,
            "hypothesis": experiment.hypothesis,
            "theme": experiment.theme,
            "state": experiment.state,
            "progress": experiment.progress,
            "starts_on": experiment.starts_on,
            "ends_on": experiment.ends_on,
            "circle": circle.name if circle else "",
            "proposal_url": proposal_uri or "",
            "derived_from": experiment.derived_from or "",
            "adaptations": experiment.adaptations,
            "indicators": len(indicators),
            "evaluation_url": evaluation.uri if evaluation else "",
            "outcome": evaluation.outcome if evaluation else "",
            "created_at": experiment.created_at,
            "updated_at": experiment.updated_at,
        }
        item = experiment_to_as(
            config,
            experiment,
            [(state.indicator, state.latest) for state in indicators],
            proposal_uri=proposal_uri,
            evaluation_uri=evaluation.uri if evaluation else None,
            addressed_to=_addressed(experiment, publishers),
        )
        entries.append(Entry(row, item))
    return entries


def indicator_uri(experiment: Experiment, indicator: ExperimentIndicator) -> str:
    """A stable id for an experiment's indicator: a fragment of the experiment's URL."""
    return f"{experiment.uri}#indicator-{indicator.id}"


async def experiment_indicator_entries(
    session: AsyncSession, config: InstanceConfig
) -> list[Entry]:
    """Every indicator of every experiment: baseline, target, direction, latest value; as
    JSON-LD the `IndicatorTarget` the experiment's document carries, given an id."""
    states = await indicator_states(session)
    entries = []
    for experiment in await _experiments(session):
        for state in states.get(experiment.id, []):
            indicator, latest = state.indicator, state.latest
            row: dict[str, Cell] = {
                "id": indicator.id,
                "experiment_id": experiment.id,
                "experiment_url": experiment.uri,
                "name": indicator.name,
                "unit": indicator.unit,
                "baseline": indicator.baseline,
                "target": indicator.target,
                "direction": indicator.direction,
                "measurements": len(state.measurements),
                "latest_value": latest.value if latest else None,
                "latest_on": latest.measured_on if latest else None,
            }
            item = {
                "id": indicator_uri(experiment, indicator),
                **indicator_target(indicator, latest, experiment.starts_on),
                "isPartOf": experiment.uri,
            }
            entries.append(Entry(row, item))
    return entries


def measurement_item(
    experiment: Experiment, indicator: ExperimentIndicator, measurement: Measurement
) -> dict[str, Any]:
    """A measurement as a schema.org `Observation` (vocabulary.md 5.7) of the experiment."""
    item: dict[str, Any] = {
        "id": f"{experiment.uri}#measurement-{measurement.id}",
        "type": "Observation",
        "observationAbout": experiment.uri,
        "variableMeasured": indicator_uri(experiment, indicator),
        "value": measurement.value,
        "observationDate": measurement.measured_on.isoformat(),
        "unitText": indicator.unit,
    }
    if measurement.note:
        item["summary"] = measurement.note
    return item


async def measurement_entries(session: AsyncSession, config: InstanceConfig) -> list[Entry]:
    """Every measurement of every experiment's indicators, by experiment then date."""
    states = await indicator_states(session)
    entries = []
    for experiment in await _experiments(session):
        for state in states.get(experiment.id, []):
            indicator = state.indicator
            for measurement in state.measurements:
                row: dict[str, Cell] = {
                    "id": measurement.id,
                    "indicator_id": indicator.id,
                    "indicator": indicator.name,
                    "experiment_url": experiment.uri,
                    "measured_on": measurement.measured_on,
                    "value": measurement.value,
                    "unit": indicator.unit,
                    "note": measurement.note,
                }
                entries.append(Entry(row, measurement_item(experiment, indicator, measurement)))
    return entries


async def evaluation_entries(session: AsyncSession, config: InstanceConfig) -> list[Entry]:
    """Every published evaluation, oldest first."""
    rows = await session.execute(
        select(Evaluation, Experiment)
        .join(Experiment, Experiment.id == Evaluation.experiment_id)
        .order_by(Evaluation.published_at, Evaluation.id)
    )
    publishers = await origin_publishers(session)
    entries = []
    for evaluation, experiment in rows:
        row: dict[str, Cell] = {
            "id": evaluation.id,
            "url": evaluation.uri,
            "experiment_url": experiment.uri,
            "experiment_title": experiment.title,
            "outcome": evaluation.outcome,
            "recommendation": evaluation.recommendation,
            "lessons": evaluation.lessons,
            "published_at": evaluation.published_at,
        }
        item = evaluation_to_as(
            config, evaluation, experiment, addressed_to=_addressed(experiment, publishers)
        )
        entries.append(Entry(row, item))
    return entries


async def offer_entries(session: AsyncSession, config: InstanceConfig) -> list[Entry]:
    """Every offer and request of the node, open, taken or closed, oldest first."""
    offers = await session.scalars(select(Offer).order_by(Offer.created_at, Offer.id))
    entries = []
    for offer in offers:
        row: dict[str, Cell] = {
            "id": offer.id,
            "url": offer.uri,
            "purpose": offer.purpose,
            "kind": offer.kind,
            "title": offer.title,
            "text": offer.text,
            "quantity": offer.quantity,
            "minimum_quantity": offer.minimum_quantity,
            "unit": offer.unit,
            "available_from": offer.available_from,
            "available_until": offer.available_until,
            "place": offer.place,
            "state": offer.state,
            "addressed_to": joined(addressed_territories(offer)),
            "created_at": offer.created_at,
            "updated_at": offer.updated_at,
        }
        entries.append(Entry(row, offer_to_as(config, offer)))
    return entries
