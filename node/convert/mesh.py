"""The map's data on the wire (vocabulary.md 5.9-5.11): a place is a `Place`, a map actor a
`Profile`, a flow a `Relationship`, each with its domain class in `additionalType` and the
territory as publisher and audience. Data for peers, coordinators and map UIs: Mastodon drops
these types, and nothing of them is pushed to timelines (peers read the territory's
collections)."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from instance_config import InstanceConfig
from node.convert.notes import iso
from node.convert.objects import territory_uri
from node.domain.mesh import FLOW_KINDS
from node.storage.models import Flow, MapActor, Place
from protocols.html import text_to_html
from protocols.jsonld.project_context import document_context

#: the paths of each object's own URL (its id), under the node's base URL
PLACES_PATH = "/places"
MAP_ACTORS_PATH = "/map-actors"
FLOWS_PATH = "/flows"


def place_uri(config: InstanceConfig, place_id: str) -> str:
    """A place's id: its page and its ActivityPub document."""
    return f"{config.node.base_url}{PLACES_PATH}/{place_id}"


def map_actor_uri(config: InstanceConfig, actor_id: str) -> str:
    """A map actor's id (its `Profile`)."""
    return f"{config.node.base_url}{MAP_ACTORS_PATH}/{actor_id}"


def flow_uri(config: InstanceConfig, flow_id: str) -> str:
    """A flow's id (its `Relationship`)."""
    return f"{config.node.base_url}{FLOWS_PATH}/{flow_id}"


def number_text(value: float) -> str:
    """A number as written in exports and in `hasNumericalValue`: exact (it reads back to
    the same float), without a trailing `.0` for whole numbers."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _data_object(
    config: InstanceConfig, *, uri: str, as_type: str, additional_type: str, name: str
) -> dict[str, Any]:
    """What every data object carries: context, id, types, name, publisher and audience."""
    language = config.territory.default_language
    territory = territory_uri(config)
    return {
        "@context": document_context(),
        "id": uri,
        "type": as_type,
        "additionalType": additional_type,
        "name": name,
        "nameMap": {language: name},
        "url": uri,
        "attributedTo": territory,
        "audience": territory,
    }


def _describe(config: InstanceConfig, document: dict[str, Any], description: str) -> None:
    """A description as sanitised HTML `summary` (with its language form), when there is one."""
    if description:
        html = text_to_html(description)
        document["summary"] = html
        document["summaryMap"] = {config.territory.default_language: html}


def place_to_as(config: InstanceConfig, place: Place) -> dict[str, Any]:
    """A place: `Place` + `placeKind`, its point (an area's centre) and its area's GeoJSON."""
    document = _data_object(
        config, uri=place.uri, as_type="Place", additional_type="tc:Place", name=place.name
    )
    document["placeKind"] = place.kind
    if place.latitude is not None and place.longitude is not None:
        document["latitude"] = place.latitude
        document["longitude"] = place.longitude
    if place.geometry:
        document["geometry"] = {"asGeoJSON": place.geometry}
    if place.address:
        document["address"] = {"type": "PostalAddress", "streetAddress": place.address}
    _describe(config, document, place.description)
    document["published"] = iso(place.created_at)
    document["updated"] = iso(place.updated_at)
    return document


def map_actor_to_as(
    config: InstanceConfig, actor: MapActor, place: str | None = None
) -> dict[str, Any]:
    """A map actor that does not federate itself: `Profile` + `vf:Organization`, its
    `actorKind`, its place as `primaryLocation` (the place's id) and its website as `sameAs`."""
    document = _data_object(
        config,
        uri=actor.uri,
        as_type="Profile",
        additional_type="vf:Organization",
        name=actor.name,
    )
    document["actorKind"] = actor.kind
    if place:
        document["primaryLocation"] = place
    if actor.website:
        document["sameAs"] = actor.website
    _describe(config, document, actor.description)
    document["published"] = iso(actor.created_at)
    document["updated"] = iso(actor.updated_at)
    return document


def _day_start(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _day_end(day: date) -> str:
    return f"{day.isoformat()}T23:59:59Z"


def flow_to_as(config: InstanceConfig, flow: Flow, subject: str, obj: str) -> dict[str, Any]:
    """A flow: `Relationship` from `subject` to `obj` (the ids of its source and target),
    its `flowKind`, its `quantity` {hasUnit, hasNumericalValue} and its period."""
    document = _data_object(
        config, uri=flow.uri, as_type="Relationship", additional_type="tc:Flow", name=flow.label
    )
    quantity = number_text(flow.quantity)
    status = (FLOW_KINDS.get(flow.kind, flow.kind), f"{quantity} {flow.unit}", flow.period)
    document |= {
        "subject": subject,
        "relationship": f"tc:{flow.kind}",
        "object": obj,
        "flowKind": flow.kind,
        "quantity": {"hasUnit": flow.unit, "hasNumericalValue": quantity},
        "summary": html.escape(" · ".join(part for part in status if part)),
        "published": iso(flow.created_at),
    }
    if flow.period_start is not None:
        document["startTime"] = _day_start(flow.period_start)
    if flow.period_end is not None:
        document["endTime"] = _day_end(flow.period_end)
    return document
