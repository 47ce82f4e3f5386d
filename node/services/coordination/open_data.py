"""Open data of the aggregate, with its sources: every indexed object (naming the territory
that published it and its URL there), and the statistics by theme (naming the experiments
they count), in CSV and JSON-LD."""

from __future__ import annotations

from typing import Any

from instance_config import InstanceConfig
from node.convert.notes import iso
from node.services.coordination.statistics import ThemeStatistics, theme_statistics
from node.services.open_data.formats import Column, DatasetHeader, csv_text, dataset_document
from node.storage.models import CoordinationEntry

ENTRY_COLUMNS = (
    Column("kind", "experiment, evaluation, proposal ou offer"),
    Column("title", "titre, tel que publié par le territoire"),
    Column("theme", "thème"),
    Column("state", "état (en cours, terminée...)"),
    Column("outcome", "résultat d'une évaluation"),
    Column("territory", "nom du territoire source"),
    Column("territory_uri", "acteur ActivityPub du territoire source"),
    Column("uri", "identifiant de l'objet chez sa source"),
    Column("url", "page de l'objet chez sa source"),
    Column("published", "date de publication"),
)
STATISTICS_COLUMNS = (
    Column("theme", "thème"),
    Column("experiments", "expérimentations"),
    Column("replications", "réplications d'une autre expérimentation"),
    Column("territories", "territoires qui expérimentent sur ce thème"),
    Column("evaluated", "expérimentations évaluées"),
    Column("success", "évaluées avec succès"),
    Column("partial", "succès partiels"),
    Column("failure", "échecs"),
    Column("inconclusive", "non concluantes"),
    Column("indicators_measured", "indicateurs mesurés"),
    Column("indicators_on_target", "indicateurs à leur cible"),
    Column("median_change_percent", "variation médiane depuis la valeur de départ, en %"),
    Column("sources", "identifiants des expérimentations comptées, chez leurs sources"),
)


def _entry_row(entry: CoordinationEntry) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "title": entry.title,
        "theme": entry.theme,
        "state": entry.state,
        "outcome": entry.outcome,
        "territory": entry.territory_name,
        "territory_uri": entry.territory_uri,
        "uri": entry.uri,
        "url": entry.url,
        "published": entry.published,
    }


def entries_csv(config: InstanceConfig, entries: list[CoordinationEntry]) -> str:
    """Every indexed object, one row each, with its source."""
    return csv_text(ENTRY_COLUMNS, [_entry_row(e) for e in entries], config.territory.zone)


def entries_jsonld(config: InstanceConfig, entries: list[CoordinationEntry]) -> dict[str, Any]:
    """Every indexed object as a JSON-LD item pointing at its source."""
    items = [
        {
            "id": e.uri,
            "type": "Object",
            "additionalType": e.kind,
            "name": e.title,
            "attributedTo": {"id": e.territory_uri, "name": e.territory_name},
            "url": e.url,
            "theme": e.theme,
            "lifecycleState": e.state,
            **({"outcome": e.outcome} if e.outcome else {}),
            "published": iso(e.published),
        }
        for e in entries
    ]
    header = DatasetHeader(
        slug="coordination-entries",
        title="Objets des territoires suivis",
        title_en="Objects of the territories followed",
        description="Expérimentations, évaluations, propositions et offres indexées, "
        "avec leur source.",
        description_en="Indexed experiments, evaluations, proposals and offers, with their source.",
        updated=max((e.published for e in entries), default=None),
    )
    return dataset_document(config, header, items)


def _statistics_row(figures: ThemeStatistics, sources: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "theme": figures.theme,
        "experiments": figures.experiments,
        "replications": figures.replications,
        "territories": figures.territories,
        "evaluated": figures.evaluated,
        "indicators_measured": figures.indicators_measured,
        "indicators_on_target": figures.indicators_on_target,
        "median_change_percent": figures.median_change_percent,
        "sources": " ".join(sources),
    }
    row.update(dict(figures.outcomes))
    return row


def _sources(entries: list[CoordinationEntry], theme: str) -> list[str]:
    return sorted(e.uri for e in entries if e.kind == "experiment" and (e.theme or "") == theme)


def statistics_csv(config: InstanceConfig, entries: list[CoordinationEntry]) -> str:
    """The statistics by theme, each row naming the experiments it counts."""
    rows = [_statistics_row(f, _sources(entries, f.theme)) for f in theme_statistics(entries)]
    return csv_text(STATISTICS_COLUMNS, rows, config.territory.zone)


def statistics_jsonld(config: InstanceConfig, entries: list[CoordinationEntry]) -> dict[str, Any]:
    """The statistics by theme as JSON-LD, each item listing its sources (`isBasedOn`)."""
    items = []
    base = config.node.base_url
    for figures in theme_statistics(entries):
        row = _statistics_row(figures, [])
        row.pop("sources")
        items.append(
            {
                "id": f"{base}/coordination/statistics#{figures.theme or 'sans-theme'}",
                "type": "Object",
                "additionalType": "tc:ThemeStatistics",
                **row,
                "isBasedOn": _sources(entries, figures.theme),
            }
        )
    header = DatasetHeader(
        slug="coordination-statistics",
        title="Statistiques par thème",
        title_en="Statistics by theme",
        description="Expérimentations, réplications, résultats et indicateurs "
        "des territoires suivis.",
        description_en="Experiments, replications, outcomes and indicators "
        "of the territories followed.",
        updated=max((e.published for e in entries), default=None),
    )
    return dataset_document(config, header, items)
