"""The map's legend, drawn in the SVG under the map: every kind of place with its symbol,
every kind of flow with its line, the territory's boundary, and the width scale of flows
for each unit."""

from __future__ import annotations

import math

from markupsafe import escape

from node.domain.mesh import FLOW_KINDS, PLACE_KINDS
from node.web.charts import format_number
from node.web.mapsvg.data import (
    MAX_WIDTH,
    PLACE_SHAPES,
    MapData,
    Translate,
    stroke_width,
    unit_key,
    unit_maxima,
)
from node.web.mapsvg.draw import dash_pattern, marker_id, symbol_path

#: Height of one legend row and of a column's heading, in SVG units.
ROW = 24
HEADING = 30
#: The last line of the width scale when some units are left out.
OTHER_UNITS = "… et %(count)s autres unités, chacune à sa propre échelle"
#: The stroke width of the flow kinds' samples.
SAMPLE_WIDTH = 4.0
#: At most this many units in the width scale (the others are counted on a last line).
MAX_UNITS = 5


def legend_height(data: MapData) -> float:
    """The height the legend needs for this data."""
    places = len(PLACE_KINDS) + (1 if data.boundary else 0)
    units = len(unit_maxima(f for f in data.flows if f.drawable))
    scale = min(units, MAX_UNITS) + (1 if units > MAX_UNITS else 0) or 1
    return HEADING + ROW * max(places, len(FLOW_KINDS), scale) + 16


def nice_below(value: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above a positive value.

    >>> nice_below(1234.0), nice_below(0.3), nice_below(50.0)
    (1000.0, 0.2, 50.0)
    """
    if value <= 0 or not math.isfinite(value):
        return 0.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (5, 2, 1) if m * power <= value * (1 + 1e-9))


def legend(data: MapData, top: float, width: float, translate: Translate, prefix: str) -> str:
    """The legend's group, starting at `top`, in three columns across `width` (the last
    one wider, for the units)."""
    column = width * 0.31
    counts = {kind: 0 for kind in (*PLACE_KINDS, *FLOW_KINDS)}
    for place in data.places:
        if place.position is not None and place.kind in counts:
            counts[place.kind] += 1
    for flow in data.flows:
        if flow.drawable and flow.kind in counts:
            counts[flow.kind] += 1
    parts = [
        f'<g class="legend"><rect class="legend-frame" x="0" y="{top:.1f}" width="{width:.1f}"'
        f' height="{legend_height(data):.1f}"/>',
        *_heading(16, top, translate("Lieux")),
        *_heading(column + 8, top, translate("Flux")),
        *_heading(2 * column + 8, top, translate("Épaisseur des flux, par unité")),
    ]
    y = top + HEADING + ROW / 2
    for row, (kind, label) in enumerate(PLACE_KINDS.items()):
        text = f"{translate(label)} ({counts[kind]})"
        symbol = symbol_path(PLACE_SHAPES[kind], 26, y + row * ROW)
        parts.append(
            f'<g class="legend-entry k-{kind}" data-group="place" data-kind="{kind}">'
            f'<path class="symbol" d="{symbol}"/>{_text(42, y + row * ROW, text)}</g>'
        )
    if data.boundary:
        row_y = y + len(PLACE_KINDS) * ROW
        parts.append(
            '<g class="legend-entry" data-group="boundary">'
            f'<rect class="boundary-area" x="17" y="{row_y - 7:.1f}" width="18" height="14"/>'
            f"{_text(42, row_y, translate('Limite du territoire'))}</g>"
        )
    for row, (kind, label) in enumerate(FLOW_KINDS.items()):
        row_y, x = y + row * ROW, column + 8
        dash = dash_pattern(kind, SAMPLE_WIDTH)
        parts.append(
            f'<g class="legend-entry k-{kind}" data-group="flow" data-kind="{kind}">'
            f'<path class="flow-sample" d="M{x + 2:.1f},{row_y:.1f} h30"'
            f' stroke-width="{SAMPLE_WIDTH}"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + f' marker-end="url(#{marker_id(prefix, kind, SAMPLE_WIDTH)})"/>'
            f"{_text(x + 54, row_y, f'{translate(label)} ({counts[kind]})')}</g>"
        )
    parts.extend(_scale(data, 2 * column + 8, y, translate))
    parts.append("</g>")
    return "".join(parts)


def _heading(x: float, top: float, text: str) -> list[str]:
    """A column's heading."""
    return [f'<text class="legend-heading" x="{x:.1f}" y="{top + 20:.1f}">{escape(text)}</text>']


def _text(x: float, y: float, text: str) -> str:
    """A legend label, vertically centred on y."""
    return f'<text class="legend-label" x="{x:.1f}" y="{y + 4:.1f}">{escape(text)}</text>'


def _scale(data: MapData, x: float, y: float, translate: Translate) -> list[str]:
    """Per unit, the most used first: a thin line for a round tenth of the unit's largest
    flow, a thick one for the largest."""
    maxima = unit_maxima(f for f in data.flows if f.drawable)
    if not maxima:
        return [_text(x, y, translate("Aucun flux dessiné."))]
    names: dict[str, str] = {}
    uses: dict[str, int] = {}
    for flow in data.flows:
        if flow.drawable:
            key = unit_key(flow.unit)
            names.setdefault(key, flow.unit.strip())
            uses[key] = uses.get(key, 0) + 1
    shown = sorted(maxima, key=lambda k: (-uses[k], k))[:MAX_UNITS]
    out = []
    for row, key in enumerate(shown):
        largest, row_y = maxima[key], y + row * ROW
        small = nice_below(largest / 10)
        thin = stroke_width(small, largest)
        out.append(
            f'<g class="legend-scale" data-unit="{escape(names[key])}">'
            f'<line class="scale-sample" x1="{x:.1f}" y1="{row_y:.1f}" x2="{x + 22:.1f}"'
            f' y2="{row_y:.1f}" stroke-width="{thin:.2f}"/>'
            f"{_text(x + 28, row_y, format_number(small))}"
            f'<line class="scale-sample" x1="{x + 92:.1f}" y1="{row_y:.1f}" x2="{x + 114:.1f}"'
            f' y2="{row_y:.1f}" stroke-width="{MAX_WIDTH:.2f}"/>'
            f"{_text(x + 120, row_y, f'{format_number(largest)} {names[key]}')}</g>"
        )
    if len(maxima) > MAX_UNITS:
        more = translate(OTHER_UNITS) % {"count": len(maxima) - MAX_UNITS}
        out.append(_text(x, y + MAX_UNITS * ROW, more))
    return out
