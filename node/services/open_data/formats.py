"""The two formats of the node's open data: CSV (UTF-8, a header row, ISO 8601 dates with
times on the territory's clock and their offset, cells that a spreadsheet cannot run as
formulas) and JSON-LD (a `Collection` of the same documents the node federates, in UTC,
described as a DCAT dataset with its licence).

Why a `Collection` rather than a bare DCAT `Dataset`: peers, coordinators and ActivityPub
libraries already read AS2 collections, and the items are exactly the federated documents;
`additionalType: dcat:Dataset` and `dcterms:license` let catalogue harvesters (data.gouv.fr,
CKAN) recognise it as a dataset without a second shape to maintain.
"""

from __future__ import annotations

import copy
import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from instance_config import InstanceConfig
from node.convert.notes import iso
from node.convert.objects import territory_uri
from node.domain.local_time import local_iso
from protocols.jsonld.project_context import document_context

#: What a CSV cell holds before formatting.
Cell = str | int | float | bool | date | datetime | None

#: First characters a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Terms the dataset documents use beyond the project's context: DCAT and Dublin Core.
DATASET_TERMS: dict[str, Any] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "license": {"@id": "dcterms:license", "@type": "@id"},
    "isPartOf": {"@id": "dcterms:isPartOf", "@type": "@id"},
}


def dataset_context() -> list[Any]:
    """The `@context` of a dataset document: the project's, then DCAT and Dublin Core terms
    (a fresh copy each time, as `document_context`)."""
    return [*document_context(), copy.deepcopy(DATASET_TERMS)]


@dataclass(frozen=True, slots=True)
class Column:
    """One documented column of a CSV dataset: its stable name and what it holds (French)."""

    name: str
    description: str


def neutralise(text: str) -> str:
    """A text cell made inert for spreadsheets: a leading = + - @ tab or CR gets a quote.

    >>> neutralise("=HYPERLINK(\\"x\\")"), neutralise("-2"), neutralise("Navette")
    ('\\'=HYPERLINK("x")', "'-2", 'Navette')
    """
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def cell_text(value: Cell, zone: tzinfo = UTC) -> str:
    """How a value is written in a CSV cell: ISO 8601 dates (a moment on `zone`'s clock, with
    its offset), "true"/"false", numbers without a useless ".0", text neutralised (numbers are
    ours, never formulas, and stay numbers).

    >>> cell_text(3.0), cell_text(0.25), cell_text(True), cell_text(None)
    ('3', '0.25', 'true', '')
    >>> from zoneinfo import ZoneInfo
    >>> cell_text(date(2026, 4, 1)), cell_text(datetime(2026, 4, 1, 8, 30, tzinfo=UTC))
    ('2026-04-01', '2026-04-01T08:30:00+00:00')
    >>> cell_text(datetime(2026, 4, 1, 8, 30, tzinfo=UTC), ZoneInfo("Europe/Paris"))
    '2026-04-01T10:30:00+02:00'
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return local_iso(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return neutralise(value)


def csv_text(
    columns: Sequence[Column], rows: Iterable[Mapping[str, Cell]], zone: tzinfo = UTC
) -> str:
    """A CSV document: the header row, then one row per record, in the columns' order (a
    missing key is an empty cell), moments on `zone`'s clock (the territory's, for people who
    open it in a spreadsheet). RFC 4180: commas, double quotes, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.name for column in columns])
    for row in rows:
        writer.writerow([cell_text(row.get(column.name), zone) for column in columns])
    return buffer.getvalue()


def joined(values: Iterable[str]) -> str:
    """Several URLs in one cell, separated by spaces (URLs never contain one)."""
    return " ".join(values)


@dataclass(frozen=True, slots=True)
class DatasetHeader:
    """What describes a dataset in its JSON-LD document."""

    slug: str
    title: str
    title_en: str
    description: str
    description_en: str
    updated: datetime | date | None


def dataset_url(config: InstanceConfig, slug: str, suffix: str = "") -> str:
    """The stable URL of a dataset: its page, or a download with suffix ".csv"/".jsonld"."""
    return f"{config.node.base_url}/open-data/{slug}{suffix}"


def licence_node(config: InstanceConfig) -> dict[str, str]:
    """The licence as a linked node: its page, named by its SPDX identifier."""
    return {"id": config.open_data.licence_url, "name": config.open_data.licence}


def language_map(config: InstanceConfig, text: str, english: str) -> dict[str, str]:
    """A `*Map` value: the text in the territory's language, and in English when a
    translation exists."""
    language = config.territory.default_language
    texts = {language: text}
    if english and english != text and language != "en":
        texts["en"] = english
    return texts


def _moment(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return iso(value)
    return f"{value.isoformat()}T00:00:00Z"


def dataset_document(
    config: InstanceConfig, header: DatasetHeader, items: list[dict[str, Any]]
) -> dict[str, Any]:
    """The JSON-LD document of a dataset: a `Collection` of its items (federated shapes,
    without their own `@context`), published by the territory, under the node's licence."""
    document: dict[str, Any] = {
        "@context": dataset_context(),
        "id": dataset_url(config, header.slug, ".jsonld"),
        "type": "Collection",
        "additionalType": "dcat:Dataset",
        "name": header.title,
        "nameMap": language_map(config, header.title, header.title_en),
        "summary": header.description,
        "summaryMap": language_map(config, header.description, header.description_en),
        "attributedTo": territory_uri(config),
        "url": dataset_url(config, header.slug),
        "license": licence_node(config),
        "totalItems": len(items),
        "items": [_without_context(item) for item in items],
    }
    if header.updated is not None:
        document["updated"] = _moment(header.updated)
    return document


def _without_context(item: dict[str, Any]) -> dict[str, Any]:
    """An item embedded in the collection: the collection carries the `@context`."""
    return {key: value for key, value in item.items() if key != "@context"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One record of a dataset in both formats: its CSV row and its JSON-LD item."""

    row: dict[str, Cell]
    item: dict[str, Any]
