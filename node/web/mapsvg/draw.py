"""The map's layers as SVG fragments: boundary, areas, flow arrows, place symbols and names.

Every element carries a class and data attributes naming its kind and id (`data-kind`,
`data-id`), so that tests and the stylesheet find them; colours come from the stylesheet
(classes `k-<kind>`), shapes and dash patterns from here, so kinds differ without colour.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

from markupsafe import escape

from node.domain.mesh import FLOW_KINDS, PLACE_KINDS
from node.web.charts import format_number
from node.web.mapsvg.data import PLACE_SHAPES, MapFlow, MapPlace, Translate
from node.web.mapsvg.geometry import Frame, Polygon
from node.web.mapsvg.labels import SYMBOL_RADIUS, Label

Point = tuple[float, float]

#: Where a flow's path ends inside its arrowhead, as a share of the head's length (the rest
#: of the head, beyond the path's end, points at the target).
HEAD_REF = 0.35
#: Air between an arrow's ends and the symbols they join.
END_GAP = SYMBOL_RADIUS + 3


def _xy(point: Point) -> str:
    """A point as SVG path text."""
    return f"{point[0]:.1f},{point[1]:.1f}"


def polygon_path(frame: Frame, polygons: tuple[Polygon, ...]) -> str:
    """The `d` of a path drawing polygons with their holes (use fill-rule evenodd).

    Positions closer than one unit (about a pixel) to the previous one drawn are left out: a
    boundary traced to the metre would otherwise weigh hundreds of kilobytes for nothing seen.
    """
    parts = []
    for polygon in polygons:
        for ring in polygon:
            points = [frame.point(lon, lat) for lon, lat in ring]
            kept = points[:1]
            for point in points[1:]:
                if math.dist(point, kept[-1]) >= 1.0:
                    kept.append(point)
            if len(kept) >= 3:
                parts.append("M" + " L".join(_xy(p) for p in kept) + " Z")
    return " ".join(parts)


def symbol_path(shape: str, x: float, y: float, r: float = SYMBOL_RADIUS) -> str:
    """The `d` of a place symbol centred on (x, y): square, triangle, circle or diamond."""
    if shape == "square":
        s = r * 0.85
        return f"M{x - s:.1f},{y - s:.1f} h{2 * s:.1f} v{2 * s:.1f} h{-2 * s:.1f} Z"
    if shape == "triangle":
        return (
            f"M{x:.1f},{y - r * 1.1:.1f} L{x + r * 1.05:.1f},{y + r * 0.75:.1f}"
            f" L{x - r * 1.05:.1f},{y + r * 0.75:.1f} Z"
        )
    if shape == "diamond":
        d = r * 1.15
        return (
            f"M{x:.1f},{y - d:.1f} L{x + d:.1f},{y:.1f} L{x:.1f},{y + d:.1f} L{x - d:.1f},{y:.1f} Z"
        )
    arc = f"a{r:.1f},{r:.1f} 0 1,0"
    return f"M{x - r:.1f},{y:.1f} {arc} {2 * r:.1f},0 {arc} {-2 * r:.1f},0 Z"


def dash_pattern(kind: str, width: float) -> str:
    """The dash pattern of a flow kind at a stroke width: goods solid, information dashed,
    people dotted (round caps turn the short dashes into dots)."""
    if kind == "information_services":
        return f"{width * 2 + 8:.1f} {width + 4:.1f}"
    if kind == "people_mobility":
        return f"0.1 {width * 1.6 + 4:.1f}"
    return ""


def head_size(width: float) -> tuple[float, float]:
    """The arrowhead's length and breadth for a stroke width: wider strokes get larger
    heads, but less than in proportion, so that thin arrows stay readable and thick ones
    do not end in huge triangles."""
    return 6 + 2.2 * width, 5 + 2 * width


def marker_id(prefix: str, kind: str, width: float) -> str:
    """The id of the arrowhead for a flow kind and width (widths rounded to half a unit);
    `prefix` is the map's own, ids being shared by every SVG of a page."""
    return f"{prefix}-arrow-{kind if kind in FLOW_KINDS else 'other'}-{round(width * 2)}"


def markers(prefix: str, used: Iterable[tuple[str, float]]) -> str:
    """One arrowhead marker per flow kind and rounded width in use."""
    out = {}
    for kind, width in used:
        ident = marker_id(prefix, kind, width)
        if ident in out:
            continue
        length, breadth = head_size(round(width * 2) / 2)
        out[ident] = (
            f'<marker id="{ident}" class="k-{escape(kind)}"'
            f' viewBox="0 0 {length:.1f} {breadth:.1f}"'
            f' refX="{length * HEAD_REF:.1f}" refY="{breadth / 2:.1f}" markerWidth="{length:.1f}"'
            f' markerHeight="{breadth:.1f}" markerUnits="userSpaceOnUse" orient="auto">'
            f'<path class="arrowhead" d="M0,0 L{length:.1f},{breadth / 2:.1f} L0,{breadth:.1f} Z"/>'
            "</marker>"
        )
    return "".join(out.values())


def boundary_layer(frame: Frame, polygons: tuple[Polygon, ...]) -> str:
    """The territory's boundary, drawn under everything else."""
    if not polygons:
        return ""
    return (
        f'<g class="boundary"><path class="boundary-area" d="{polygon_path(frame, polygons)}"'
        ' fill-rule="evenodd"/></g>'
    )


def area_layer(frame: Frame, places: tuple[MapPlace, ...]) -> str:
    """The areas of places that have one, under the flows."""
    parts = ['<g class="areas">']
    for place in places:
        if place.area:
            parts.append(
                f'<path class="area k-{escape(place.kind)}" data-kind="{escape(place.kind)}"'
                f' data-id="{escape(place.id)}" d="{polygon_path(frame, place.area)}"'
                f' fill-rule="evenodd"><title>{escape(place.name)}</title></path>'
            )
    parts.append("</g>")
    return "".join(parts)


def place_layer(
    frame: Frame, places: tuple[MapPlace, ...], labels: dict[str, Label], translate: Translate
) -> str:
    """One group per placed place: its symbol with a tooltip, and its name when it fits."""
    parts = ['<g class="places">']
    for place in places:
        if place.position is None:
            continue
        x, y = frame.point(*place.position)
        kind = escape(place.kind)
        kind_label = translate(PLACE_KINDS.get(place.kind, place.kind))
        symbol = symbol_path(PLACE_SHAPES.get(place.kind, "circle"), x, y)
        parts.append(
            f'<g class="place k-{kind}" data-kind="{kind}" data-id="{escape(place.id)}">'
            f"<title>{escape(place.name)} ({escape(kind_label)})</title>"
            f'<path class="symbol" d="{symbol}"/>'
        )
        label = labels.get(place.id)
        if label is not None:
            parts.append(
                f'<text class="place-label" x="{label.x:.1f}" y="{label.y:.1f}"'
                f' text-anchor="{label.anchor}">{escape(place.name)}</text>'
            )
        parts.append("</g>")
    parts.append("</g>")
    return "".join(parts)


def flow_layer(
    frame: Frame,
    flows: tuple[MapFlow, ...],
    widths: dict[str, float],
    translate: Translate,
    prefix: str,
) -> str:
    """One arrow per drawable flow, the widest first so that thin ones stay visible on top.

    Arrows bend to their right: two opposite flows between the same ends do not overlap, and
    several flows in one direction bend further each.
    """
    drawable = [f for f in flows if f.source is not None and f.target is not None]
    seen: defaultdict[tuple[str, str], int] = defaultdict(int)
    order: dict[str, int] = {}
    for flow in drawable:
        pair = (flow.source_id or str(flow.source), flow.target_id or str(flow.target))
        order[flow.id] = seen[pair]
        seen[pair] += 1
    parts = ['<g class="flows">']
    for flow in sorted(drawable, key=lambda f: -widths[f.id]):
        assert flow.source is not None and flow.target is not None
        width = widths[flow.id]
        tip = (1 - HEAD_REF) * head_size(width)[0]
        d = arrow_path(
            frame.point(*flow.source), frame.point(*flow.target), order[flow.id], END_GAP + tip
        )
        kind = escape(flow.kind)
        dash = dash_pattern(flow.kind, width)
        kind_label = translate(FLOW_KINDS.get(flow.kind, flow.kind))
        ends = f"{flow.source_name} → {flow.target_name}"
        tooltip = (
            f"{flow.label} : {format_number(flow.quantity)} {flow.unit} ({ends}) · {kind_label}"
        )
        parts.append(
            f'<path class="flow k-{kind}" data-kind="{kind}" data-id="{escape(flow.id)}"'
            f' data-quantity="{format_number(flow.quantity)}" data-unit="{escape(flow.unit)}"'
            f' d="{d}" stroke-width="{width:.2f}"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + f' marker-end="url(#{marker_id(prefix, flow.kind, width)})">'
            f"<title>{escape(tooltip)}</title></path>"
        )
    parts.append("</g>")
    return "".join(parts)


def arrow_path(start: Point, end: Point, rank: int, end_gap: float) -> str:
    """The `d` of a curved arrow from start to end, kept clear of the symbols at both ends.

    `rank` counts the earlier flows between the same ends in the same direction (each bends
    further). Ends at the same spot give a small loop above it.
    """
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    if length < END_GAP + end_gap + 6:
        lift = 34 + 10 * rank
        return (
            f"M{x0 + 5:.1f},{y0 - 7:.1f} C{x0 + 30:.1f},{y0 - lift:.1f}"
            f" {x0 - 30:.1f},{y0 - lift:.1f} {x0 - 5:.1f},{y0 - 9:.1f}"
        )
    bend = 0.12 + 0.1 * rank
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length
    cx, cy = (x0 + x1) / 2 + nx * bend * length, (y0 + y1) / 2 + ny * bend * length
    sx, sy = _towards((x0, y0), (cx, cy), END_GAP)
    ex, ey = _towards((x1, y1), (cx, cy), end_gap)
    return f"M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}"


def _towards(point: Point, other: Point, distance: float) -> Point:
    """The point `distance` away from `point` in the direction of `other`."""
    dx, dy = other[0] - point[0], other[1] - point[1]
    length = math.hypot(dx, dy) or 1.0
    return point[0] + dx / length * distance, point[1] + dy / length * distance
