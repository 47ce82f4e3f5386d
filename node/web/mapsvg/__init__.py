"""The territory's map drawn on the server as SVG: no script, no external reference, no
tile unless the configuration names a tile server.

`render_map(MapData(...), title=..., translate=...)` draws the boundary, the areas and
symbols of places by kind (each kind its own shape and colour), the flows as arrows whose
width follows quantity within each unit, the places' names where they fit, and a legend.
The SVG is accessible (role="img", `<title>`, and a `<desc>` giving the counts); the page
that shows it also lists the same data in tables.

Projection: equirectangular scaled by the cosine of the middle latitude, fitted to the box
holding the boundary and the data, with a margin. With background tiles the whole map is
drawn in Web Mercator instead, so that tiles and data align. Where places crowd (a village
centre), `dense_area` gives the box that a second, enlarged map shows.
"""

from __future__ import annotations

from dataclasses import replace

from markupsafe import Markup, escape

from node.domain.mesh import FLOW_KINDS
from node.web.mapsvg.data import (
    MapData,
    MapFlow,
    MapPlace,
    Translate,
    flow_widths,
    stroke_width,
)
from node.web.mapsvg.draw import area_layer, boundary_layer, flow_layer, markers, place_layer
from node.web.mapsvg.geometry import Box, Frame, polygons_from_geojson, tiles_for
from node.web.mapsvg.labels import Label, place_labels
from node.web.mapsvg.legend import SAMPLE_WIDTH, legend, legend_height
from node.web.mapsvg.zoom import WIDTH, ZOOM_MAX_HEIGHT, dense_area, map_frame, within

__all__ = [
    "Box",
    "MapData",
    "MapFlow",
    "MapPlace",
    "dense_area",
    "polygons_from_geojson",
    "render_map",
    "stroke_width",
]

#: What the map's `<desc>` says (the tables under it give the details).
DESCRIPTION = (
    "%(places)s lieux et %(flows)s flux dessinés ; le détail est en tableaux sous la carte."
)
#: ... and an overview's (on another page than the map's).
OVERVIEW_DESCRIPTION = (
    "%(places)s lieux dessinés ; la page de la carte les nomme et montre les flux qui les relient."
)


def _same(text: str) -> str:
    """The identity translation (French)."""
    return text


def render_map(
    data: MapData,
    *,
    title: str,
    translate: Translate = _same,
    tile_url: str = "",
    focus: Box | None = None,
    outline: Box | None = None,
    ident: str = "map",
    empty_text: str = "Aucun lieu ni flux à afficher pour le moment.",
    overview: bool = False,
) -> Markup:
    """The map as inline SVG markup; `tile_url` (a {z}/{x}/{y} template) adds tiles under it.

    `title` names the map for screen readers; `empty_text` is written on a map with no place
    and no flow to draw (it is translated here, as are the kinds and legend texts).
    With `focus`, the map is the enlarged view of that box (no legend: it shares the main
    map's); `outline` draws the box of an enlarged view on the main map. `ident` prefixes
    the SVG's ids, which must be unique in the page. An `overview` is a light glance at the
    map for another page (the home page): the boundary and the places only, with no names,
    flows or legend, which the map page has.
    """
    if overview:
        data = replace(data, flows=())
    drawable = tuple(f for f in data.flows if f.drawable)
    widths = flow_widths(drawable)  # the same widths on the main map and the enlarged view
    if focus is None:
        frame = map_frame(Box.around(data.positions()), tile_url)
    else:
        frame = map_frame(focus, tile_url, max_height=ZOOM_MAX_HEIGHT)
        data = within(data, focus)
    places = tuple(p for p in data.places if p.position is not None)
    flows = tuple(f for f in data.flows if f.drawable)
    with_legend = focus is None and not overview
    heads = [(f.kind, widths[f.id]) for f in flows]
    if with_legend:
        heads += [(kind, SAMPLE_WIDTH) for kind in FLOW_KINDS]
    height = frame.height + (legend_height(data) if with_legend else 0)
    classes = "map" if focus is None else "map map-zoom"
    if overview:
        classes += " map-overview"
    told = OVERVIEW_DESCRIPTION if overview else DESCRIPTION
    description = translate(told) % {"places": len(places), "flows": len(flows)}
    parts = [
        f'<svg class="{classes}" id="{ident}"'
        f' viewBox="0 0 {WIDTH} {height:.0f}" role="img"'
        f' aria-labelledby="{ident}-title {ident}-desc" font-family="system-ui, sans-serif"'
        ' font-size="12">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
        f'<defs><clipPath id="{ident}-clip">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{frame.height:.1f}"/></clipPath>',
        markers(ident, heads),
        "</defs>",
        f'<rect class="map-background" x="0" y="0" width="{WIDTH}" height="{frame.height:.1f}"/>',
    ]
    if tile_url and (places or flows or data.boundary):
        parts.append(_tiles(frame, tile_url, ident))
    parts.append(f'<g clip-path="url(#{ident}-clip)">')
    parts.append(boundary_layer(frame, data.boundary))
    parts.append(area_layer(frame, places))
    parts.append(flow_layer(frame, flows, widths, translate, ident))
    if outline is not None:
        parts.append(_outline(frame, outline))
    names = {} if overview else _labels(frame, places, flows)
    parts.append(place_layer(frame, places, names, translate))
    parts.append("</g>")
    if not places and not flows:
        parts.append(
            f'<text class="map-empty" x="{WIDTH / 2}" y="{frame.height / 2:.1f}"'
            f' text-anchor="middle">{escape(translate(empty_text))}</text>'
        )
    if with_legend:
        parts.append(legend(data, frame.height, WIDTH, translate, ident))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text and attribute above is escaped


def _outline(frame: Frame, box: Box) -> str:
    """The frame of the enlarged view on the main map (a dotted rectangle)."""
    x0, y0 = frame.point(box.west, box.north)
    x1, y1 = frame.point(box.east, box.south)
    return (
        f'<rect class="zoom-outline" x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}"'
        f' height="{y1 - y0:.1f}"/>'
    )


def _tiles(frame: Frame, template: str, ident: str) -> str:
    """The background tiles, clipped to the map, under a veil that keeps the data readable."""
    zoom, tiles = tiles_for(frame, template)
    images = "".join(
        f'<image class="tile" href="{escape(t.url)}" x="{t.x:.1f}" y="{t.y:.1f}"'
        f' width="{t.size + 0.5:.1f}" height="{t.size + 0.5:.1f}" preserveAspectRatio="none"/>'
        for t in tiles
    )
    return (
        f'<g class="tiles" data-zoom="{zoom}" clip-path="url(#{ident}-clip)">{images}'
        f'<rect class="tile-veil" x="0" y="0" width="{frame.width}" height="{frame.height:.1f}"/>'
        "</g>"
    )


def _labels(
    frame: Frame, places: tuple[MapPlace, ...], flows: tuple[MapFlow, ...]
) -> dict[str, Label]:
    """Names placed where they fit, the places with the most flows first, then areas."""
    degree: dict[str, int] = {}
    for flow in flows:
        for end in (flow.source_id, flow.target_id):
            degree[end] = degree.get(end, 0) + 1
    ranked = sorted(places, key=lambda p: (-degree.get(p.id, 0), not p.area, p.name))
    symbols = []
    for place in ranked:
        assert place.position is not None
        x, y = frame.point(*place.position)
        symbols.append((place.id, place.name, x, y))
    return place_labels(symbols, frame.width, frame.height)
