"""The map page (issue "territorial knowledge", item 2): the territory's boundary, its places
by kind and its flows as arrows, drawn on the server as SVG (node/web/mapsvg), with filters by
kind (a plain GET form: no script), the same data in tables for screen readers and everyone,
and links to the exports and, for facilitators, to the data entry pages.

No tile and no network reference unless the configuration names a tile server.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from aiohttp import web
from multidict import MultiMapping

from node.domain.mesh import ACTOR_KINDS, FLOW_KINDS, PLACE_KINDS
from node.services.knowledge.map.records import Endpoint, MeshSnapshot, may_edit_mesh, mesh_snapshot
from node.web.auth import current_account
from node.web.charts import format_number
from node.web.i18n import choose_language, translator
from node.web.keys import config_key, sessions_key
from node.web.mapsvg import (
    MapData,
    MapFlow,
    MapPlace,
    dense_area,
    polygons_from_geojson,
    render_map,
)
from node.web.mapsvg.geometry import Polygon
from node.web.render import render

routes = web.RouteTableDef()
log = logging.getLogger(__name__)

#: The downloads of the map's data (served by node/web/routes/map_data.py): (path, label).
EXPORTS = (
    ("/map/export/map.geojson", "Lieux et flux (GeoJSON)"),
    ("/map/export/places.csv", "Lieux (CSV)"),
    ("/map/export/actors.csv", "Acteurs (CSV)"),
    ("/map/export/flows.csv", "Flux (CSV)"),
)
#: Each object's own page (node/web/routes/map_data.py), by the type of a flow's end.
OBJECT_PAGES = {"place": "/places/", "actor": "/map-actors/"}
#: The groups of filters: query parameter -> the kinds it chooses among.
FILTER_GROUPS = {"place": PLACE_KINDS, "actor": ACTOR_KINDS, "flow": FLOW_KINDS}


@dataclass(frozen=True, slots=True)
class Filters:
    """The kinds shown, per group (all of them unless the filter form was sent)."""

    place: frozenset[str]
    actor: frozenset[str]
    flow: frozenset[str]

    @property
    def complete(self) -> bool:
        """Whether every kind is shown."""
        return all(set(getattr(self, g)) >= set(k) for g, k in FILTER_GROUPS.items())


def read_filters(query: MultiMapping[str]) -> Filters:
    """The filters of a query string: ?filtered=1&place=…&flow=…&actor=… (unknown kinds are
    ignored); without `filtered`, every kind is shown. `filtered` lets a visitor uncheck a
    whole group, which a form of checkboxes otherwise cannot tell from no filter at all."""
    if "filtered" not in query:
        return Filters(*(frozenset(kinds) for kinds in FILTER_GROUPS.values()))
    chosen = {
        group: frozenset(v for v in query.getall(group, []) if v in kinds)
        for group, kinds in FILTER_GROUPS.items()
    }
    return Filters(**chosen)


def _visible(endpoint: Endpoint, filters: Filters) -> bool:
    """Whether a flow's end is a place or an actor of a kind shown."""
    return endpoint.kind in (filters.place if endpoint.type == "place" else filters.actor)


def filter_snapshot(snapshot: MeshSnapshot, filters: Filters) -> MeshSnapshot:
    """The places, actors and flows of the kinds shown; a flow also needs both its ends
    shown, so that no arrow points at a hidden place."""
    return replace(
        snapshot,
        places=tuple(p for p in snapshot.places if p.kind in filters.place),
        actors=tuple(a for a in snapshot.actors if a.kind in filters.actor),
        flows=tuple(
            f
            for f in snapshot.flows
            if f.kind in filters.flow
            and _visible(f.source, filters)
            and _visible(f.target, filters)
        ),
    )


def map_data(snapshot: MeshSnapshot, boundary: tuple[Polygon, ...]) -> MapData:
    """The renderer's plain values for a snapshot: places at their point or area's centre,
    flows between their ends' positions (an actor's is its place's)."""
    place_of_actor = {a.id: a.place_id for a in snapshot.actors}

    def anchor(end: Endpoint) -> str:
        """The place an end stands at (an actor's own id if it has no place)."""
        return end.id if end.type == "place" else place_of_actor.get(end.id) or end.id

    def position(latitude: float | None, longitude: float | None) -> tuple[float, float] | None:
        """(longitude, latitude) as GeoJSON orders them, or None."""
        return None if latitude is None or longitude is None else (longitude, latitude)

    places = tuple(
        MapPlace(
            p.id,
            p.name,
            p.kind,
            position(p.latitude, p.longitude),
            polygons_from_geojson(p.geometry) if p.geometry else (),
        )
        for p in snapshot.places
    )
    flows = tuple(
        MapFlow(
            f.id,
            f.kind,
            f.label,
            f.quantity,
            f.unit,
            position(f.source.latitude, f.source.longitude),
            position(f.target.latitude, f.target.longitude),
            f.source.name,
            f.target.name,
            anchor(f.source),
            anchor(f.target),
            f.period,
        )
        for f in snapshot.flows
    )
    return MapData(places, flows, boundary)


def load_boundary(path: Path | None) -> tuple[Polygon, ...]:
    """The territory's boundary polygons from its GeoJSON file (none if there is no file,
    or if it became unreadable since the configuration was checked: the map then fits
    the data, and the problem is logged)."""
    if path is None:
        return ()
    try:
        stat = path.stat()
    except OSError as exc:
        log.warning("territory boundary %s unreadable: %s", path, exc)
        return ()
    return _boundary_of(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _boundary_of(path: Path, _mtime: int, _size: int) -> tuple[Polygon, ...]:
    """The boundary of one version of the file (cached until it changes)."""
    try:
        return polygons_from_geojson(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        log.warning("territory boundary %s unreadable: %s", path, exc)
        return ()


def coordinates_text(latitude: float | None, longitude: float | None) -> str:
    """A position as the tables write it (latitude, longitude), or empty."""
    if latitude is None or longitude is None:
        return ""
    return f"{latitude:.5f}, {longitude:.5f}"


@routes.get("/map")
async def map_page(request: web.Request) -> web.Response:
    """The map, its filters, its tables and its downloads."""
    config = request.app[config_key]
    sessions = request.app[sessions_key]
    language = choose_language(request, config.territory.default_language)
    translate = translator(language)
    filters = read_filters(request.query)
    snapshot = await mesh_snapshot(sessions)
    shown = filter_snapshot(snapshot, filters)
    data = map_data(shown, load_boundary(config.territory.boundary))
    tiles = config.map.tile_url
    zoom = dense_area(data, tiles)
    title = translate("Carte de %(territory)s") % {"territory": config.territory.name}
    svg = render_map(data, title=title, translate=translate, tile_url=tiles, outline=zoom)
    zoom_svg = None
    if zoom is not None:  # the crowded village centre, enlarged so that its names fit
        zoom_svg = render_map(
            data,
            title=translate("Agrandissement du secteur où les lieux sont les plus serrés"),
            translate=translate,
            tile_url=tiles,
            focus=zoom,
            ident="map-zoom",
        )
    me = current_account(request)
    return render(
        request,
        "map/map.html",
        {
            "svg": svg,
            "zoom_svg": zoom_svg,
            "unplaced_flows": sum(1 for f in data.flows if not f.drawable),
            "snapshot": shown,
            "filters": filters,
            "kinds": {"place": PLACE_KINDS, "actor": ACTOR_KINDS, "flow": FLOW_KINDS},
            "exports": EXPORTS,
            "pages": OBJECT_PAGES,
            "can_edit": await may_edit_mesh(sessions, me.account if me else None),
            "tiles": bool(config.map.tile_url),
            "attribution": config.map.tile_attribution,
            "coordinates": coordinates_text,
            "number": format_number,
        },
    )
