"""The territory's indicators and observations on the wire (vocabulary.md 5.7).

An indicator's definition is a `Document` with `additionalType: sc:StatisticalVariable`
(name, theme, polarity and direction, unit, method, source, baseline and target); a measured
value is a schema.org `Observation` about the territory (`observationAbout`), of the
indicator (`variableMeasured`), with `value`, `observationDate` and `unitText`. Both are data
for peers and dashboards: published by the territory actor in its `indicators` and
`observations` collections, never pushed to timelines (Mastodon would drop them anyway).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from instance_config import InstanceConfig
from node.convert.notes import iso
from node.convert.objects import territory_uri
from node.storage.models import Indicator, Observation
from protocols.html import text_to_html
from protocols.jsonld.project_context import document_context

#: direction token -> the vocabulary's polarity token (5.7)
POLARITIES = {"increase": "higher_is_better", "decrease": "lower_is_better"}


def indicator_url(config: InstanceConfig, slug: str) -> str:
    """The id (and page) of one of the territory's indicators."""
    return f"{config.node.base_url}/indicators/{slug}"


def observation_url(config: InstanceConfig, slug: str, day: date) -> str:
    """The id of an observation: one value per indicator and day, so the day names it."""
    return f"{indicator_url(config, slug)}/observations/{day.isoformat()}"


def _number(value: float) -> int | float:
    """A JSON number without a useless `.0` (12 rather than 12.0)."""
    return int(value) if math.isfinite(value) and value.is_integer() else value


def indicator_to_as(
    config: InstanceConfig, indicator: Indicator, *, context: bool = True
) -> dict[str, Any]:
    """The definition as a Document; `context=False` for an item embedded in a collection
    (the collection page carries the @context)."""
    language = config.territory.default_language
    document: dict[str, Any] = {
        "id": indicator.uri,
        "type": "Document",
        "additionalType": "sc:StatisticalVariable",
        "attributedTo": territory_uri(config),
        "name": indicator.name,
        "nameMap": {language: indicator.name},
        "url": indicator.uri,
        "unitText": indicator.unit,
        "polarity": POLARITIES.get(indicator.direction, indicator.direction),
        "direction": indicator.direction,
        "published": iso(indicator.created_at),
    }
    if indicator.theme:
        document["theme"] = indicator.theme
    if indicator.method:
        document["measurementMethod"] = indicator.method
    if indicator.source:
        document["sc:isBasedOn"] = indicator.source
    if indicator.baseline is not None:
        document["baseline"] = _number(indicator.baseline)
    if indicator.target is not None:
        document["targetValue"] = _number(indicator.target)
    return {"@context": document_context(), **document} if context else document


def observation_to_as(
    config: InstanceConfig,
    indicator: Indicator,
    observation: Observation,
    *,
    context: bool = True,
) -> dict[str, Any]:
    """One measured value as a schema.org Observation about the territory; its note, if
    any, is the `summary` (escaped HTML)."""
    document: dict[str, Any] = {
        "id": observation.uri,
        "type": "Observation",
        "attributedTo": territory_uri(config),
        "observationAbout": territory_uri(config),
        "variableMeasured": indicator.uri,
        "value": _number(observation.value),
        "observationDate": observation.observed_on.isoformat(),
        "unitText": indicator.unit,
        "published": iso(observation.created_at),
    }
    if observation.note:
        document["summary"] = text_to_html(observation.note, linkify=False)
    return {"@context": document_context(), **document} if context else document
