"""What the map draws, as plain values: places, flows, the territory's boundary, the shape
of each place kind, and the width of each flow (the kinds and their
labels are the mesh's own, node/domain/mesh.py).

The renderer knows nothing of the database: the map page turns the mesh snapshot into
these values, and tests build them by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from node.web.mapsvg.geometry import LonLat, Polygon

#: A text in French -> the same text in the reader's language.
Translate = Callable[[str], str]

#: The shape of each place kind's symbol: kinds differ by shape, not by colour alone.
PLACE_SHAPES = {
    "service_equipment": "square",
    "production_site": "triangle",
    "living_meeting_place": "circle",
    "natural_space_resource": "diamond",
}
#: Thinnest and thickest flow strokes, in SVG units (about CSS pixels).
MIN_WIDTH = 2.0
MAX_WIDTH = 7.0


@dataclass(frozen=True, slots=True)
class MapPlace:
    """A place: its symbol stands at `position` (a point, or an area's centre); an area
    also has its polygons."""

    id: str
    name: str
    kind: str
    position: LonLat | None
    area: tuple[Polygon, ...] = ()


@dataclass(frozen=True, slots=True)
class MapFlow:
    """A flow from one end to the other; an end with no known position is not drawn.

    `source_id` and `target_id` name the place or actor at each end: flows between the same
    two ends are drawn apart, and the most connected places are labelled first.
    """

    id: str
    kind: str
    label: str
    quantity: float
    unit: str
    source: LonLat | None
    target: LonLat | None
    source_name: str = ""
    target_name: str = ""
    source_id: str = ""
    target_id: str = ""
    period: str = ""

    @property
    def drawable(self) -> bool:
        """Whether both ends have a position."""
        return self.source is not None and self.target is not None


@dataclass(frozen=True, slots=True)
class MapData:
    """Everything drawn on one map."""

    places: tuple[MapPlace, ...] = ()
    flows: tuple[MapFlow, ...] = ()
    #: the territory's boundary (none: the map is fitted to the data)
    boundary: tuple[Polygon, ...] = ()

    def positions(self) -> Iterable[LonLat]:
        """Every position the map must show: boundary, places, areas, ends of flows."""
        for polygon in self.boundary:
            yield from polygon[0]
        for place in self.places:
            if place.position is not None:
                yield place.position
            for area in place.area:
                yield from area[0]
        for flow in self.flows:
            if flow.source is not None and flow.target is not None:
                yield flow.source
                yield flow.target


def unit_key(unit: str) -> str:
    """Units compared without case or surrounding spaces ("kWh" and "kwh " are one unit)."""
    return unit.strip().casefold()


def unit_maxima(flows: Iterable[MapFlow]) -> dict[str, float]:
    """The largest quantity of each unit."""
    maxima: dict[str, float] = {}
    for flow in flows:
        key = unit_key(flow.unit)
        maxima[key] = max(maxima.get(key, 0.0), abs(flow.quantity))
    return maxima


def stroke_width(quantity: float, largest: float) -> float:
    """The stroke width of a quantity, given the largest quantity of the same unit.

    Widths are scaled per unit: kilograms, kilowatt-hours, trips and hours cannot be
    compared, and one kind (resources, goods and energy) mixes several units, so a scale
    per kind would put tonnes of wood and kilowatt-hours on one axis. Within a unit the
    width grows with the square root of the quantity, between MIN_WIDTH and MAX_WIDTH: the
    ordering is kept, and a flow a hundred times smaller than the largest stays visible.
    """
    if largest <= 0 or not math.isfinite(quantity):
        return MIN_WIDTH
    share = max(0.0, min(1.0, abs(quantity) / largest))
    return MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * math.sqrt(share)


def flow_widths(flows: Iterable[MapFlow]) -> dict[str, float]:
    """The stroke width of each flow (by id), scaled within its unit."""
    flows = list(flows)
    maxima = unit_maxima(flows)
    return {f.id: stroke_width(f.quantity, maxima[unit_key(f.unit)]) for f in flows}
