"""The map's forms as pages show them: an object's values in its edit form, and the posted
fields as the services read them (a flow's endpoints are one select each, `type:id`)."""

from __future__ import annotations

import json
import math
from typing import Any

from multidict import MultiDictProxy

from node.convert.mesh import number_text
from node.domain.mesh import ENDPOINT_TYPES, centre
from node.services.knowledge.map.records import ActorView, FlowView, PlaceView


def place_values(place: PlaceView) -> dict[str, str]:
    """A place's form fields, as the edit form shows them. An area whose point is its
    computed centre shows no point, so that editing its outline moves the centre too."""
    latitude, longitude = place.latitude, place.longitude
    if place.geometry and latitude is not None and longitude is not None:
        centre_latitude, centre_longitude = centre(place.geometry)
        if math.isclose(latitude, centre_latitude) and math.isclose(longitude, centre_longitude):
            latitude = longitude = None
    return {
        "name": place.name,
        "kind": place.kind,
        "latitude": "" if latitude is None else number_text(latitude),
        "longitude": "" if longitude is None else number_text(longitude),
        "address": place.address,
        "description": place.description,
        "geometry": json.dumps(place.geometry) if place.geometry else "",
    }


def actor_values(actor: ActorView) -> dict[str, str]:
    """A map actor's form fields (its place by id)."""
    return {
        "name": actor.name,
        "kind": actor.kind,
        "place": actor.place_id or "",
        "website": actor.website,
        "description": actor.description,
    }


def flow_values(flow: FlowView) -> dict[str, str]:
    """A flow's form fields; its endpoints as the select's `type:id` values."""
    return {
        "kind": flow.kind,
        "label": flow.label,
        "source": f"{flow.source.type}:{flow.source.id}",
        "target": f"{flow.target.type}:{flow.target.id}",
        "quantity": number_text(flow.quantity),
        "unit": flow.unit,
        "period": flow.period,
        "period_start": flow.period_start.isoformat() if flow.period_start else "",
        "period_end": flow.period_end.isoformat() if flow.period_end else "",
    }


def posted_fields(kind: str, data: MultiDictProxy[Any]) -> dict[str, str]:
    """The posted fields as the service reads them: a flow's `type:id` endpoints split."""
    fields = {key: str(value) for key, value in data.items() if key != "csrf"}
    if kind == "flow":
        for end in ("source", "target"):
            endpoint_type, _, reference = fields.get(end, "").partition(":")
            if endpoint_type in ENDPOINT_TYPES and reference:
                fields[f"{end}_type"], fields[end] = endpoint_type, reference
    return fields


def form_errors(errors: dict[str, str]) -> dict[str, str]:
    """Problems by form field (an endpoint's type is part of its select)."""
    shown: dict[str, str] = {}
    for name, reason in errors.items():
        shown.setdefault(name.removesuffix("_type"), reason)
    return shown
