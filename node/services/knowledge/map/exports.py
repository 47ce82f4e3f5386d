"""Exporting the map's data (issue item 1): places, actors and flows as CSV, and the map as a
GeoJSON FeatureCollection (places as points or areas, flows as lines between their
endpoints); the open data also has places, actors (points at their places) and flows each
as GeoJSON of their own.

The exports round-trip: their columns and properties are exactly what the import reads
(node/services/knowledge/map/imports.py), references are names (unique among places, and
among actors), numbers are written exactly, and importing them into an empty node gives the
same data.
Cells are made inert for spreadsheets (a text starting with = + - @ gets a quote, which the
import removes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from node.services.knowledge.map.imports import COLUMNS, URI_COLUMN
from node.services.knowledge.map.records import (
    ActorView,
    Endpoint,
    FlowView,
    MeshSnapshot,
    PlaceView,
    Sessions,
    mesh_snapshot,
)
from node.services.open_data.formats import Cell, Column, csv_text

_DESCRIPTIONS = {
    "places": {
        "name": "Nom du lieu (unique parmi les lieux)",
        "kind": "Type du lieu (un des jetons de la liste des types)",
        "latitude": "Latitude WGS 84 (le centre, pour une zone)",
        "longitude": "Longitude WGS 84 (le centre, pour une zone)",
        "address": "Adresse",
        "description": "Description",
        "geometry": "Contour d'une zone : géométrie GeoJSON (Polygon, MultiPolygon)",
    },
    "actors": {
        "name": "Nom de l'acteur (unique parmi les acteurs)",
        "kind": "Type de l'acteur (un des jetons de la liste des types)",
        "place": "Nom du lieu où il se trouve",
        "website": "Site web",
        "description": "Description",
    },
    "flows": {
        "kind": "Type du flux (un des jetons de la liste des types)",
        "label": "Ce qui circule",
        "source_type": "La source est un lieu (place) ou un acteur (actor)",
        "source": "Nom de la source",
        "target_type": "La destination est un lieu (place) ou un acteur (actor)",
        "target": "Nom de la destination",
        "quantity": "Quantité sur la période",
        "unit": "Unité de la quantité",
        "period": "Période, telle qu'écrite",
        "period_start": "Début de la période (AAAA-MM-JJ)",
        "period_end": "Fin de la période (AAAA-MM-JJ)",
    },
}
URI_DESCRIPTION = "Identifiant sur le nœud (l'adresse de son document ActivityPub)"


def _columns(role: str) -> tuple[Column, ...]:
    """The documented columns of an export: what its import reads, then the object's URI."""
    names = COLUMNS[role]
    return (
        *(Column(n, _DESCRIPTIONS[role][n]) for n in names),
        Column(URI_COLUMN, URI_DESCRIPTION),
    )


#: The columns of places.csv, actors.csv and flows.csv, with what each holds (French).
PLACE_COLUMNS = _columns("places")
ACTOR_COLUMNS = _columns("actors")
FLOW_COLUMNS = _columns("flows")


def place_row(place: PlaceView) -> dict[str, Cell]:
    """A place as a CSV row (an area's geometry as compact GeoJSON text)."""
    return {
        "name": place.name,
        "kind": place.kind,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "address": place.address,
        "description": place.description,
        "geometry": json.dumps(place.geometry, separators=(",", ":")) if place.geometry else "",
        URI_COLUMN: place.uri,
    }


def actor_row(actor: ActorView) -> dict[str, Cell]:
    """A map actor as a CSV row, its place by name."""
    return {
        "name": actor.name,
        "kind": actor.kind,
        "place": actor.place_name,
        "website": actor.website,
        "description": actor.description,
        URI_COLUMN: actor.uri,
    }


def _day(day: date | None) -> str:
    return day.isoformat() if day else ""


def flow_row(flow: FlowView) -> dict[str, Cell]:
    """A flow as a CSV row, its endpoints by type and name."""
    return {
        "kind": flow.kind,
        "label": flow.label,
        "source_type": flow.source.type,
        "source": flow.source.name,
        "target_type": flow.target.type,
        "target": flow.target.name,
        "quantity": flow.quantity,
        "unit": flow.unit,
        "period": flow.period,
        "period_start": _day(flow.period_start),
        "period_end": _day(flow.period_end),
        URI_COLUMN: flow.uri,
    }


async def places_csv(sessions: Sessions) -> str:
    """places.csv: every place, by name."""
    snapshot = await mesh_snapshot(sessions)
    return csv_text(PLACE_COLUMNS, map(place_row, snapshot.places))


async def actors_csv(sessions: Sessions) -> str:
    """actors.csv: every map actor, by name."""
    snapshot = await mesh_snapshot(sessions)
    return csv_text(ACTOR_COLUMNS, map(actor_row, snapshot.actors))


async def flows_csv(sessions: Sessions) -> str:
    """flows.csv: every flow, by kind and label."""
    snapshot = await mesh_snapshot(sessions)
    return csv_text(FLOW_COLUMNS, map(flow_row, snapshot.flows))


def _point(endpoint: Endpoint) -> list[float] | None:
    if endpoint.latitude is None or endpoint.longitude is None:
        return None
    return [endpoint.longitude, endpoint.latitude]


def place_feature(place: PlaceView) -> dict[str, Any]:
    """A place as a GeoJSON Feature: its area, or its point."""
    geometry = place.geometry
    if geometry is None and place.latitude is not None and place.longitude is not None:
        geometry = {"type": "Point", "coordinates": [place.longitude, place.latitude]}
    properties = {k: v for k, v in place_row(place).items() if k != "geometry"}
    return {
        "type": "Feature",
        "id": place.uri,
        "geometry": geometry,
        "properties": {"feature_type": "place", **properties},
    }


def actor_feature(actor: ActorView) -> dict[str, Any]:
    """A map actor as a GeoJSON Feature: a point at its place (no geometry without one)."""
    located = actor.latitude is not None and actor.longitude is not None
    geometry = {"type": "Point", "coordinates": [actor.longitude, actor.latitude]}
    return {
        "type": "Feature",
        "id": actor.uri,
        "geometry": geometry if located else None,
        "properties": {"feature_type": "actor", **actor_row(actor)},
    }


def flow_feature(flow: FlowView) -> dict[str, Any]:
    """A flow as a GeoJSON Feature: a line from its source to its target (no geometry when
    one of them has no location: an actor without a place)."""
    start, end = _point(flow.source), _point(flow.target)
    geometry = {"type": "LineString", "coordinates": [start, end]} if start and end else None
    return {
        "type": "Feature",
        "id": flow.uri,
        "geometry": geometry,
        "properties": {"feature_type": "flow", **flow_row(flow)},
    }


def map_feature_collection(snapshot: MeshSnapshot) -> dict[str, Any]:
    """The map as GeoJSON (RFC 7946, WGS 84): places first, then flows."""
    return {
        "type": "FeatureCollection",
        "features": [
            *map(place_feature, snapshot.places),
            *map(flow_feature, snapshot.flows),
        ],
    }


async def map_geojson(sessions: Sessions) -> str:
    """map.geojson: the map's places and flows."""
    snapshot = await mesh_snapshot(sessions)
    return json.dumps(map_feature_collection(snapshot), ensure_ascii=False, indent=1)


def _feature_collection(features: Iterable[dict[str, Any]]) -> str:
    collection = {"type": "FeatureCollection", "features": list(features)}
    return json.dumps(collection, ensure_ascii=False, indent=1)


async def places_geojson(sessions: Sessions) -> str:
    """The places alone as GeoJSON, by name (the open data's "places" dataset)."""
    return _feature_collection(map(place_feature, (await mesh_snapshot(sessions)).places))


async def actors_geojson(sessions: Sessions) -> str:
    """The map actors as GeoJSON points at their places, by name."""
    return _feature_collection(map(actor_feature, (await mesh_snapshot(sessions)).actors))


async def flows_geojson(sessions: Sessions) -> str:
    """The flows alone as GeoJSON lines, by kind and label."""
    return _feature_collection(map(flow_feature, (await mesh_snapshot(sessions)).flows))
