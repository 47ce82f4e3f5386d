"""One place, actor or flow as written by a person: a form, a CSV row, a GeoJSON feature's
properties. The same readers check all three, field by field, so that what a form accepts an
import accepts too; the form fields are named like the CSV columns.

The index of names and references refuses duplicates (names are unique among places, and
among actors, spaces and case ignored; a flow is unique by its endpoints, kind, label and
period) and resolves references written as a name, an id or a URI.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.domain.forms import Form
from node.domain.mesh import (
    ACTOR_KINDS,
    ADDRESS_MAX,
    AREA_TYPES,
    DESCRIPTION_MAX,
    ENDPOINT_TYPES,
    FLOW_KINDS,
    GEOMETRY_MAX_CHARS,
    NAME_MAX,
    PERIOD_MAX,
    PLACE_KINDS,
    SAME_ENDPOINTS,
    UNIT_MAX,
    WEBSITE_MAX,
    GeometryInvalid,
    centre,
    coordinates_problem,
    geometry_text,
    kind_of,
    name_key,
    parse_geometry,
    period_problem,
    quantity_problem,
    unknown_kind,
    website_problem,
)
from node.storage.models import Flow, MapActor, Place

#: the stored model of each kind of object, as routes and services name them
MESH_MODELS: dict[str, type[Place] | type[MapActor] | type[Flow]] = {
    "place": Place,
    "actor": MapActor,
    "flow": Flow,
}

#: Columns of each CSV file (and fields of each form), in the order the exports write them.
PLACE_COLUMNS = ("name", "kind", "latitude", "longitude", "address", "description", "geometry")
ACTOR_COLUMNS = ("name", "kind", "place", "website", "description")
FLOW_COLUMNS = (
    "kind",
    "label",
    "source_type",
    "source",
    "target_type",
    "target",
    "quantity",
    "unit",
    "period",
    "period_start",
    "period_end",
)
#: Columns a file must have (the others may be left out).
PLACE_REQUIRED = ("name", "kind")
ACTOR_REQUIRED = ("name", "kind")
FLOW_REQUIRED = FLOW_COLUMNS[:8]

DUPLICATE_PLACE = "Un autre lieu porte déjà ce nom."
DUPLICATE_ACTOR = "Un autre acteur porte déjà ce nom."
DUPLICATE_FLOW = "Ce flux existe déjà (mêmes source, destination, type, objet et période)."
NO_LOCATION = "Indiquez la latitude et la longitude du lieu, ou son contour (GeoJSON)."
UNKNOWN_PLACE = "Aucun lieu ne porte ce nom (ni cet identifiant)."
UNKNOWN_ACTOR = "Aucun acteur ne porte ce nom (ni cet identifiant)."


@dataclass(frozen=True, slots=True)
class PlaceDraft:
    """A checked place: a point, or an area (GeoJSON) with its centre as the point."""

    name: str
    kind: str
    latitude: float | None
    longitude: float | None
    geometry: str | None
    address: str
    description: str


@dataclass(frozen=True, slots=True)
class ActorDraft:
    """A checked map actor; `place` is the reference as written (resolved by the index)."""

    name: str
    kind: str
    place: str
    website: str
    description: str


@dataclass(frozen=True, slots=True)
class FlowDraft:
    """A checked flow; its endpoints are references as written (resolved by the index)."""

    kind: str
    label: str
    source_type: str
    source: str
    target_type: str
    target: str
    quantity: float
    unit: str
    period: str
    period_start: date | None
    period_end: date | None


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_CHARACTERS = "Ce texte contient des caractères de contrôle : retapez-le."


def _form(data: Mapping[str, Any]) -> Form:
    """A Form over the data, with control characters (NUL...) already refused: no stored
    text ever holds one (PostgreSQL refuses NUL, pages and CSV cells would carry them)."""
    form = Form(data)
    for name, value in data.items():
        if isinstance(value, str) and _CONTROL.search(value):
            form.errors[name] = CONTROL_CHARACTERS
    return form


def _kind(form: Form, name: str, kinds: dict[str, str]) -> str:
    """A kind field: its token, its French name or an alias; the problem lists the tokens."""
    raw = form.text(name, max_length=100)
    if name in form.errors:
        return ""
    token = kind_of(raw, kinds)
    if token is None:
        form.errors[name] = unknown_kind(raw, kinds)
        return ""
    return token


def read_place(data: Mapping[str, Any]) -> PlaceDraft:
    """A place from a form or a row; FormInvalid names each field with its problem."""
    form = _form(data)
    name = form.text("name", max_length=NAME_MAX)
    kind = _kind(form, "kind", PLACE_KINDS)
    address = form.text("address", required=False, max_length=ADDRESS_MAX)
    description = form.text("description", required=False, max_length=DESCRIPTION_MAX)
    latitude = form.number("latitude", required=False)
    longitude = form.number("longitude", required=False)
    problem = coordinates_problem(latitude, longitude)
    if problem and problem[0] not in form.errors:
        form.errors[problem[0]] = problem[1]
    raw_geometry = form.text("geometry", required=False, max_length=GEOMETRY_MAX_CHARS)
    geometry = None
    if raw_geometry and "geometry" not in form.errors:
        try:
            parsed = parse_geometry(raw_geometry, AREA_TYPES)
        except GeometryInvalid as exc:
            form.errors["geometry"] = str(exc)
        else:
            geometry = geometry_text(parsed)
            if latitude is None and longitude is None and not problem:
                latitude, longitude = centre(parsed)
    if (
        geometry is None
        and latitude is None
        and not form.errors.keys()
        & {
            "latitude",
            "longitude",
            "geometry",
        }
    ):
        form.errors["latitude"] = NO_LOCATION
    form.raise_if_invalid()
    return PlaceDraft(name, kind, latitude, longitude, geometry, address, description)


def read_actor(data: Mapping[str, Any]) -> ActorDraft:
    """A map actor from a form or a row; FormInvalid names each field with its problem."""
    form = _form(data)
    name = form.text("name", max_length=NAME_MAX)
    kind = _kind(form, "kind", ACTOR_KINDS)
    place = form.text("place", required=False, max_length=2048)
    website = form.text("website", required=False, max_length=WEBSITE_MAX)
    problem = website_problem(website)
    if problem and "website" not in form.errors:
        form.errors["website"] = problem
    description = form.text("description", required=False, max_length=DESCRIPTION_MAX)
    form.raise_if_invalid()
    return ActorDraft(name, kind, place, website, description)


def read_flow(data: Mapping[str, Any]) -> FlowDraft:
    """A flow from a form or a row; FormInvalid names each field with its problem."""
    form = _form(data)
    kind = _kind(form, "kind", FLOW_KINDS)
    label = form.text("label", max_length=NAME_MAX)
    source_type = _kind(form, "source_type", ENDPOINT_TYPES)
    source = form.text("source", max_length=2048)
    target_type = _kind(form, "target_type", ENDPOINT_TYPES)
    target = form.text("target", max_length=2048)
    quantity = form.number("quantity")
    if quantity is not None and "quantity" not in form.errors:
        form.check(quantity_problem(quantity) is None, "quantity", str(quantity_problem(quantity)))
    unit = form.text("unit", max_length=UNIT_MAX)
    period = form.text("period", required=False, max_length=PERIOD_MAX)
    start = form.day("period_start", required=False)
    end = form.day("period_end", required=False)
    problem = period_problem(start, end)
    if problem:
        form.check(False, "period_end", problem)
    form.raise_if_invalid()
    return FlowDraft(
        kind,
        label,
        source_type,
        source,
        target_type,
        target,
        quantity or 0.0,
        unit,
        period,
        start,
        end,
    )


def flow_key(
    source: tuple[str, str], target: tuple[str, str], draft: FlowDraft | Flow
) -> tuple[Any, ...]:
    """What makes two flows the same: endpoints, kind, what flows and the period."""
    label = draft.label
    return (
        source,
        target,
        draft.kind,
        name_key(label),
        name_key(draft.period),
        draft.period_start,
        draft.period_end,
    )


def endpoints_of(flow: Flow) -> tuple[tuple[str, str], tuple[str, str]]:
    """A stored flow's source and target as (type, id)."""
    source = (
        ("place", flow.source_place_id)
        if flow.source_place_id
        else ("actor", flow.source_actor_id or "")
    )
    target = (
        ("place", flow.target_place_id)
        if flow.target_place_id
        else ("actor", flow.target_actor_id or "")
    )
    return source, target


@dataclass
class _Names:
    """The references of one kind of object: by id, by URI, by name key."""

    by_id: dict[str, str] = field(default_factory=dict)
    by_uri: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)

    def add(self, object_id: str, uri: str, name: str) -> None:
        self.by_id[object_id] = object_id
        self.by_uri[uri] = object_id
        self.by_name[name_key(name)] = object_id

    def resolve(self, reference: str) -> str | None:
        reference = reference.strip()
        return (
            self.by_id.get(reference)
            or self.by_uri.get(reference)
            or self.by_name.get(name_key(reference))
        )

    def named(self, name: str) -> str | None:
        return self.by_name.get(name_key(name))


@dataclass
class MeshIndex:
    """What the node holds (and what an import adds to it), to refuse duplicates and to
    resolve the references of actors to places and of flows to their endpoints."""

    places: _Names = field(default_factory=_Names)
    actors: _Names = field(default_factory=_Names)
    flows: set[tuple[Any, ...]] = field(default_factory=set)

    def endpoint(self, endpoint_type: str, reference: str) -> tuple[str, str] | None:
        """(type, id) of a flow's endpoint written as a name, an id or a URI."""
        names = self.places if endpoint_type == "place" else self.actors
        found = names.resolve(reference)
        return (endpoint_type, found) if found else None

    def check_place(self, draft: PlaceDraft, own_id: str | None = None) -> dict[str, str]:
        """Problems of a place's name against the others."""
        other = self.places.named(draft.name)
        return {"name": DUPLICATE_PLACE} if other not in (None, own_id) else {}

    def check_actor(
        self, draft: ActorDraft, own_id: str | None = None
    ) -> tuple[str | None, dict[str, str]]:
        """The actor's place id and the problems of its name and place reference."""
        errors: dict[str, str] = {}
        if self.actors.named(draft.name) not in (None, own_id):
            errors["name"] = DUPLICATE_ACTOR
        place_id = self.places.resolve(draft.place) if draft.place else None
        if draft.place and place_id is None:
            errors["place"] = UNKNOWN_PLACE
        return place_id, errors

    def check_flow(
        self, draft: FlowDraft, own_key: tuple[Any, ...] | None = None
    ) -> tuple[tuple[str, str] | None, tuple[str, str] | None, dict[str, str]]:
        """The flow's resolved source and target, and the problems of its references."""
        errors: dict[str, str] = {}
        source = self.endpoint(draft.source_type, draft.source)
        target = self.endpoint(draft.target_type, draft.target)
        for name, found, kind in (
            ("source", source, draft.source_type),
            ("target", target, draft.target_type),
        ):
            if found is None:
                errors[name] = UNKNOWN_PLACE if kind == "place" else UNKNOWN_ACTOR
        if source and target:
            key = flow_key(source, target, draft)
            if source == target:
                errors["target"] = SAME_ENDPOINTS
            elif key in self.flows and key != own_key:
                errors["label"] = DUPLICATE_FLOW
        return source, target, errors


async def load_index(session: AsyncSession) -> MeshIndex:
    """The index of every place, actor and flow of the node."""
    index = MeshIndex()
    for place_id, uri, name in await session.execute(select(Place.id, Place.uri, Place.name)):
        index.places.add(place_id, uri, name)
    for actor_id, uri, name in await session.execute(
        select(MapActor.id, MapActor.uri, MapActor.name)
    ):
        index.actors.add(actor_id, uri, name)
    for flow in await session.scalars(select(Flow)):
        source, target = endpoints_of(flow)
        index.flows.add(flow_key(source, target, flow))
    return index
