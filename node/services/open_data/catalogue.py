"""The open data page's use cases: the list of the node's public datasets with their figures,
and each dataset as CSV, JSON-LD or (when on the map) GeoJSON under the node's licence, plus
a DCAT catalogue of them all for data portals that harvest catalogues (data.gouv.fr, CKAN).

Public data only. Reading it changes nothing, except that the first read of the indicators
gives the territory its default catalogue, as the dashboard does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from instance_config import InstanceConfig
from node.convert.objects import territory_uri
from node.domain.local_time import local_day
from node.services.open_data.datasets import PARTICIPATION, Dataset, Sessions
from node.services.open_data.formats import (
    DatasetHeader,
    dataset_context,
    dataset_document,
    dataset_url,
    language_map,
    licence_node,
)
from node.services.open_data.knowledge import KNOWLEDGE

#: Every public dataset, in the order the page lists them.
DATASETS: tuple[Dataset, ...] = PARTICIPATION + KNOWLEDGE
_BY_SLUG = {dataset.slug: dataset for dataset in DATASETS}

#: The media types of the formats.
CSV_TYPE = "text/csv"
JSONLD_TYPE = "application/ld+json"
GEOJSON_TYPE = "application/geo+json"

Translate = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Format:
    """One format a dataset is downloaded in: its name, its URL suffix, its media type."""

    label: str
    suffix: str
    media_type: str


CSV = Format("CSV", ".csv", CSV_TYPE)
JSONLD = Format("JSON-LD", ".jsonld", JSONLD_TYPE)
GEOJSON = Format("GeoJSON", ".geojson", GEOJSON_TYPE)


def formats_of(dataset: Dataset) -> tuple[Format, ...]:
    """Every format the dataset exists in: CSV and JSON-LD, and GeoJSON when it is on the map.

    >>> [f.label for f in formats_of(find_dataset("places"))]
    ['CSV', 'JSON-LD', 'GeoJSON']
    >>> [f.label for f in formats_of(find_dataset("needs"))]
    ['CSV', 'JSON-LD']
    """
    return (CSV, JSONLD, GEOJSON) if dataset.geojson is not None else (CSV, JSONLD)


def find_dataset(slug: str) -> Dataset | None:
    """The dataset published under `slug`, or None."""
    return _BY_SLUG.get(slug)


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """A dataset as the open data page lists it: what it is, its size, its last change."""

    dataset: Dataset
    records: int
    updated: datetime | date | None
    #: the day of the last change on the territory's clock (the page shows days)
    updated_day: date | None

    @property
    def formats(self) -> tuple[Format, ...]:
        """The formats it can be downloaded in."""
        return formats_of(self.dataset)



async def summary_of(
    sessions: Sessions, config: InstanceConfig, dataset: Dataset
) -> DatasetSummary:
    """One dataset's figures, for the list and its description page."""
    records, updated = await dataset.stamp(sessions, config)
    day = local_day(updated, config.territory.zone) if isinstance(updated, datetime) else updated
    return DatasetSummary(dataset, records, updated, day)


async def open_data_catalogue(sessions: Sessions, config: InstanceConfig) -> list[DatasetSummary]:
    """Every public dataset with its number of records and last change."""
    return [await summary_of(sessions, config, dataset) for dataset in DATASETS]


async def dataset_csv(sessions: Sessions, config: InstanceConfig, dataset: Dataset) -> str:
    """The dataset as CSV text."""
    return await dataset.csv(sessions, config)


async def dataset_geojson(
    sessions: Sessions, config: InstanceConfig, dataset: Dataset
) -> str | None:
    """The dataset as GeoJSON text, or None for a dataset that is not on the map."""
    return None if dataset.geojson is None else await dataset.geojson(sessions, config)


async def dataset_jsonld(
    sessions: Sessions, config: InstanceConfig, dataset: Dataset, translate: Translate
) -> dict[str, Any]:
    """The dataset as a JSON-LD `Collection` of its federated documents, with its licence;
    `translate` gives the English title and description."""
    items = await dataset.items(sessions, config)
    _, updated = await dataset.stamp(sessions, config)
    header = DatasetHeader(
        slug=dataset.slug,
        title=dataset.title,
        title_en=translate(dataset.title),
        description=dataset.description,
        description_en=translate(dataset.description),
        updated=updated,
    )
    return dataset_document(config, header, items)


def _distribution(config: InstanceConfig, slug: str, form: Format) -> dict[str, Any]:
    url = dataset_url(config, slug, form.suffix)
    return {
        "id": url,
        "type": "dcat:Distribution",
        "dcat:downloadURL": {"id": url},
        "dcat:mediaType": form.media_type,
        "license": licence_node(config),
    }


def catalogue_document(
    config: InstanceConfig, summaries: list[DatasetSummary], translate: Translate
) -> dict[str, Any]:
    """A DCAT catalogue of every dataset (JSON-LD): title, description, licence, figures and
    the download URL of each of its formats, for portals that harvest catalogues."""
    datasets = []
    for summary in summaries:
        dataset = summary.dataset
        entry: dict[str, Any] = {
            "id": dataset_url(config, dataset.slug),
            "type": "dcat:Dataset",
            "name": dataset.title,
            "nameMap": language_map(config, dataset.title, translate(dataset.title)),
            "summary": dataset.description,
            "summaryMap": language_map(config, dataset.description, translate(dataset.description)),
            "totalItems": summary.records,
            "license": licence_node(config),
            "dcat:distribution": [
                _distribution(config, dataset.slug, form) for form in summary.formats
            ],
        }
        if summary.updated_day is not None:
            entry["dcterms:modified"] = summary.updated_day.isoformat()
        datasets.append(entry)
    base = config.node.base_url
    return {
        "@context": dataset_context(),
        "id": f"{base}/open-data.jsonld",
        "type": "Collection",
        "additionalType": "dcat:Catalog",
        "name": f"Données ouvertes : {config.territory.name}",
        "url": f"{base}/open-data",
        "attributedTo": territory_uri(config),
        "license": licence_node(config),
        "totalItems": len(datasets),
        "items": datasets,
    }
