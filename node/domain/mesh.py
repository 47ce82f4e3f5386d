"""The territorial mesh (issue "territorial knowledge", item 1): the kinds of places, actors
and flows with their French names, and the rules a place, an actor or a flow must follow.

Pure functions, no I/O: the forms, the CSV and GeoJSON imports and the exports all use them,
so a value accepted in one is accepted in the others. Every problem is a French sentence the
pages show as it is (and translate).
"""

from __future__ import annotations

import itertools
import json
import math
from datetime import date
from typing import Any

from node.domain.forms import WEB_ADDRESS_EXPECTED
from protocols.json_input import JsonRefused, parse_json
from protocols.links import is_web_url

#: Places (vocabulary.md 5.9, `placeKind`), in the legend's order.
PLACE_KINDS: dict[str, str] = {
    "service_equipment": "Service ou équipement",
    "production_site": "Site de production",
    "living_meeting_place": "Lieu de vie ou de rencontre",
    "natural_space_resource": "Espace ou ressource naturelle",
}
#: Map actors (vocabulary.md 5.10, `actorKind`): never an individual inhabitant.
ACTOR_KINDS: dict[str, str] = {
    "inhabitant_collective": "Collectif d'habitants",
    "company": "Entreprise",
    "association": "Association",
    "local_authority": "Collectivité locale",
    "agricultural_environmental": "Acteur agricole ou environnemental",
}
#: Flows (vocabulary.md 5.11, `flowKind`).
FLOW_KINDS: dict[str, str] = {
    "resources_goods_energy": "Ressources, biens et énergie",
    "information_services": "Informations et services",
    "people_mobility": "Personnes et mobilité",
}
#: What a flow starts or ends at: a place or a map actor.
ENDPOINT_TYPES: dict[str, str] = {"place": "Lieu", "actor": "Acteur"}

#: Other spellings accepted on import: the vocabulary's finer actor kinds, French words.
_ALIASES: dict[str, str] = {
    "agricultural": "agricultural_environmental",
    "environmental": "agricultural_environmental",
    "ecological_agent": "agricultural_environmental",
    "lieu": "place",
    "acteur": "actor",
}

#: Limits of the stored columns (node/storage/models/knowledge.py) and of free texts.
NAME_MAX = 200
ADDRESS_MAX = 300
WEBSITE_MAX = 500
UNIT_MAX = 32
PERIOD_MAX = 64
DESCRIPTION_MAX = 5000
#: An area's GeoJSON: large enough for a detailed commune, small enough to draw quickly.
GEOMETRY_MAX_CHARS = 1_000_000
GEOMETRY_MAX_POSITIONS = 50_000
#: Point places; areas are polygons (their centre is computed for the point columns).
POINT_TYPES = ("Point",)
AREA_TYPES = ("Polygon", "MultiPolygon")


class GeometryInvalid(ValueError):
    """A GeoJSON geometry that cannot be a place; the message says why, in French."""


def kind_of(value: str, kinds: dict[str, str]) -> str | None:
    """The token of a kind written as its token, its French name or an accepted alias
    (case and surrounding spaces ignored), or None when it is none of them.

    >>> kind_of(" Site de production ", PLACE_KINDS), kind_of("environmental", ACTOR_KINDS)
    ('production_site', 'agricultural_environmental')
    >>> kind_of("castle", PLACE_KINDS) is None
    True
    """
    wanted = " ".join(value.split()).casefold()
    if not wanted:
        return None
    for token, label in kinds.items():
        if wanted in (token.casefold(), label.casefold()):
            return token
    alias = _ALIASES.get(wanted)
    return alias if alias in kinds else None


def unknown_kind(value: str, kinds: dict[str, str]) -> str:
    """The problem of a kind that is not one of `kinds`, listing the accepted tokens."""
    return f"Type inconnu « {value} » : attendu {', '.join(kinds)}."


def name_key(name: str) -> str:
    """How names are compared (duplicates, references): spaces collapsed, case ignored."""
    return " ".join(name.split()).casefold()


def coordinates_problem(latitude: float | None, longitude: float | None) -> tuple[str, str] | None:
    """(field, problem) when a latitude/longitude pair is incomplete or off the globe.

    >>> coordinates_problem(47.28, 0.12) is None, coordinates_problem(None, None) is None
    (True, True)
    >>> coordinates_problem(95, 0.1)
    ('latitude', 'La latitude doit être comprise entre -90 et 90 (reçu : 95).')
    """
    if (latitude is None) != (longitude is None):
        field = "longitude" if longitude is None else "latitude"
        return field, "Indiquez la latitude et la longitude, ou aucune des deux."
    if latitude is not None and not -90 <= latitude <= 90:
        return "latitude", f"La latitude doit être comprise entre -90 et 90 (reçu : {latitude:g})."
    if longitude is not None and not -180 <= longitude <= 180:
        return (
            "longitude",
            f"La longitude doit être comprise entre -180 et 180 (reçu : {longitude:g}).",
        )
    return None


def parse_geometry(value: Any, allowed: tuple[str, ...] = AREA_TYPES) -> dict[str, Any]:
    """A checked GeoJSON geometry (a dict, or its JSON text) reduced to `type` and
    `coordinates`; GeometryInvalid says what is wrong (type, rings, positions, range)."""
    if isinstance(value, str):
        if len(value) > GEOMETRY_MAX_CHARS:
            raise GeometryInvalid("La géométrie est trop grande (1 Mo au plus).")
        try:
            value = parse_json(value)
        except JsonRefused:
            raise GeometryInvalid("La géométrie n'est pas du GeoJSON lisible.") from None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in allowed:
        raise GeometryInvalid(
            f"Géométrie de type {kind or 'inconnu'} : attendu {' ou '.join(allowed)}."
        )
    coordinates = value.get("coordinates")
    counter = [0]
    if kind == "Point":
        _check_position(coordinates, counter)
    elif kind == "LineString":
        _check_line(coordinates, counter)
    elif kind == "Polygon":
        _check_polygon(coordinates, counter)
    else:  # MultiPolygon
        if not isinstance(coordinates, list) or not coordinates:
            raise GeometryInvalid("Le MultiPolygon ne contient aucun polygone.")
        for polygon in coordinates:
            _check_polygon(polygon, counter)
    return {"type": kind, "coordinates": coordinates}


def _check_line(line: Any, counter: list[int]) -> None:
    if not isinstance(line, list) or len(line) < 2:
        raise GeometryInvalid("Une ligne doit avoir au moins 2 positions.")
    for position in line:
        _check_position(position, counter)


def _check_polygon(polygon: Any, counter: list[int]) -> None:
    """Rings of at least 4 positions, each closed (its last position repeats its first)."""
    if not isinstance(polygon, list) or not polygon:
        raise GeometryInvalid("Un polygone doit avoir au moins un contour.")
    for ring in polygon:
        if not isinstance(ring, list) or len(ring) < 4:
            raise GeometryInvalid("Un contour de polygone doit avoir au moins 4 positions.")
        for position in ring:
            _check_position(position, counter)
        if ring[0][:2] != ring[-1][:2]:
            raise GeometryInvalid(
                "Un contour de polygone doit être fermé (dernier point = premier)."
            )


def _check_position(position: Any, counter: list[int]) -> None:
    """A [longitude, latitude] pair of finite numbers within the globe."""
    counter[0] += 1
    if counter[0] > GEOMETRY_MAX_POSITIONS:
        raise GeometryInvalid(
            f"La géométrie a trop de positions ({GEOMETRY_MAX_POSITIONS} au plus)."
        )
    if (
        not isinstance(position, list)
        or len(position) < 2
        or not all(_is_number(n) for n in position[:2])
    ):
        raise GeometryInvalid("Chaque position doit être [longitude, latitude] en nombres.")
    longitude, latitude = position[0], position[1]
    if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
        raise GeometryInvalid(
            f"La position [{longitude:g}, {latitude:g}] est hors limites "
            "(longitude entre -180 et 180, latitude entre -90 et 90) : les coordonnées "
            "doivent être en WGS 84 (EPSG:4326), pas en Lambert 93."
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def centre(geometry: dict[str, Any]) -> tuple[float, float]:
    """(latitude, longitude) of a checked Point, or the area-weighted centroid of a
    Polygon's or MultiPolygon's outer rings (the mean of their vertices if flat).

    >>> centre({"type": "Polygon", "coordinates": [[[0, 40], [2, 40], [2, 42], [0, 42], [0, 40]]]})
    (41.0, 1.0)
    """
    if geometry["type"] == "Point":
        longitude, latitude = geometry["coordinates"][:2]
        return float(latitude), float(longitude)
    polygons = (
        [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    )
    total = x_sum = y_sum = 0.0
    vertices: list[tuple[float, float]] = []
    for polygon in polygons:
        ring = [(float(p[0]), float(p[1])) for p in polygon[0]]
        vertices.extend(ring[:-1])
        for (x0, y0), (x1, y1) in itertools.pairwise(ring):
            cross = x0 * y1 - x1 * y0
            total += cross
            x_sum += (x0 + x1) * cross
            y_sum += (y0 + y1) * cross
    if abs(total) < 1e-12:
        return (
            sum(y for _, y in vertices) / len(vertices),
            sum(x for x, _ in vertices) / len(vertices),
        )
    return y_sum / (3 * total), x_sum / (3 * total)


def geometry_text(geometry: dict[str, Any]) -> str:
    """The compact JSON stored for an area (and published as `geometry.asGeoJSON`)."""
    return json.dumps(geometry, separators=(",", ":"))


def website_problem(url: str) -> str | None:
    """A website must be an http(s) address (it becomes a link on the pages)."""
    if url and not is_web_url(url):
        return WEB_ADDRESS_EXPECTED
    return None


def quantity_problem(quantity: float) -> str | None:
    """A flow's quantity is a finite number, zero or more."""
    if not math.isfinite(quantity) or quantity < 0:
        return "La quantité doit être un nombre positif ou nul."
    return None


def period_problem(start: date | None, end: date | None) -> str | None:
    """A period's end may not precede its start."""
    if start is not None and end is not None and end < start:
        return "La fin de la période précède son début."
    return None


SAME_ENDPOINTS = "La source et la destination d'un flux doivent être différentes."
