"""The map's frame, and the enlarged view of its densest spot.

A commune's places crowd in its village centre: fitted to the whole territory, a dozen
symbols fall within a few pixels and their names cannot be written. `dense_area` finds the
largest such crowd, and the page draws it again, enlarged, in a second map (the main map
outlines the enlarged area).
"""

from __future__ import annotations

import math

from node.web.mapsvg.data import MapData, MapFlow
from node.web.mapsvg.geometry import Box, Equirectangular, Frame, Projection, WebMercator, fit

#: The drawing's width, margin around the data, and limits of the map's height (SVG units).
WIDTH = 960
MARGIN = 36
MIN_HEIGHT = 320
MAX_HEIGHT = 720
#: The enlarged view is lower.
ZOOM_MAX_HEIGHT = 480
#: Symbols closer than this (SVG units) crowd each other.
CROWDED = 22.0
#: An enlargement is drawn for at least this many crowded places, enlarged between these
#: factors so that the crowded places stand about SPREAD apart.
MIN_CROWD = 4
MIN_ENLARGEMENT = 2.0
MAX_ENLARGEMENT = 16.0
SPREAD = 34.0
#: Beyond this many places, no crowd is searched (the search compares every pair).
MAX_PLACES = 1500


def map_frame(box: Box | None, tile_url: str, *, max_height: float = MAX_HEIGHT) -> Frame:
    """The frame of a map of `box`: Web Mercator when tiles are drawn under it (so that
    they align), else equirectangular scaled by the cosine of the box's middle latitude."""
    projection: Projection
    if tile_url:
        projection = WebMercator()
    else:
        projection = Equirectangular((box.south + box.north) / 2 if box else 0.0)
    if box is None:
        return Frame(projection, 1.0, 0.0, 0.0, WIDTH, MIN_HEIGHT)
    return fit(
        box, projection, width=WIDTH, margin=MARGIN, min_height=MIN_HEIGHT, max_height=max_height
    )


def dense_area(data: MapData, tile_url: str = "") -> Box | None:
    """The box of an enlarged view of the largest crowd of places on the whole map, if there
    is one (at least MIN_CROWD places closer than CROWDED to another), else None.

    The enlargement spreads the crowd until most of its places stand SPREAD apart (the
    quarter of closest neighbours may stay closer), within [MIN_ENLARGEMENT, MAX_ENLARGEMENT];
    the view is centred on the crowd and keeps the main map's width.
    """
    placed = [p.position for p in data.places if p.position is not None]
    if len(placed) < MIN_CROWD or len(placed) > MAX_PLACES:
        return None
    frame = map_frame(Box.around(data.positions()), tile_url)
    points = [frame.point(*position) for position in placed]
    crowd = _largest_crowd(points)
    if len(crowd) < MIN_CROWD:
        return None
    nearest = sorted(min(math.dist(points[i], points[j]) for j in crowd if j != i) for i in crowd)
    closest = max(nearest[len(nearest) // 4], 1.0)
    enlargement = max(MIN_ENLARGEMENT, min(MAX_ENLARGEMENT, SPREAD / closest))
    xs, ys = [points[i][0] for i in crowd], [points[i][1] for i in crowd]
    centre = frame.to_world((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
    scale = frame.scale * enlargement
    half_x, half_y = (WIDTH / 2 - MARGIN) / scale, (ZOOM_MAX_HEIGHT / 2 - MARGIN) / scale
    west, north = frame.projection.unproject(centre[0] - half_x, centre[1] - half_y)
    east, south = frame.projection.unproject(centre[0] + half_x, centre[1] + half_y)
    return Box(west, south, east, north)


def _largest_crowd(points: list[tuple[float, float]]) -> list[int]:
    """The indexes of the largest group of points linked by distances under CROWDED."""
    parent = list(range(len(points)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, first in enumerate(points):
        for j in range(i + 1, len(points)):
            if math.dist(first, points[j]) < CROWDED:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(points)):
        groups.setdefault(root(i), []).append(i)
    return max(groups.values(), key=len)


def within(data: MapData, box: Box) -> MapData:
    """What the enlarged view of `box` draws: the places inside it, and the flows with at
    least one end inside (the other end may lie beyond the edge)."""

    def inside(position: tuple[float, float] | None) -> bool:
        return position is not None and (
            box.west <= position[0] <= box.east and box.south <= position[1] <= box.north
        )

    def keep(flow: MapFlow) -> bool:
        return flow.drawable and (inside(flow.source) or inside(flow.target))

    return MapData(
        tuple(p for p in data.places if inside(p.position)),
        tuple(f for f in data.flows if keep(f)),
        data.boundary,
    )
