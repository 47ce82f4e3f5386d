"""The map's geometry: GeoJSON polygons, the two projections, fitting them to the drawing,
and background tiles in the Web Mercator grid.

Everything here is plain arithmetic on (longitude, latitude) pairs: no I/O, no database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

#: A position as GeoJSON writes it: (longitude, latitude) in degrees.
LonLat = tuple[float, float]
#: A closed ring of positions.
Ring = tuple[LonLat, ...]
#: A polygon: its outer ring, then its holes.
Polygon = tuple[Ring, ...]

#: Web Mercator's latitude limit (the square world of tile servers).
MERCATOR_LIMIT = 85.05112878
#: Smallest span drawn, in degrees (about 1 km): a single place is not a point-sized map.
MIN_SPAN = 0.01
#: Tile servers serve 256-pixel tiles; zoom levels beyond 19 are rare.
TILE_PIXELS = 256
MAX_ZOOM = 19


def polygons_from_geojson(document: Any) -> tuple[Polygon, ...]:
    """The polygons of a GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection.

    Other geometries and malformed rings are skipped rather than refused: the boundary was
    validated when the configuration was loaded, and a place's area when it was imported, so
    what remains here is only defence against a file edited since.
    """
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "FeatureCollection":
        features = document.get("features")
        found: list[Polygon] = []
        for feature in features if isinstance(features, list) else []:
            found.extend(polygons_from_geojson(feature))
        return tuple(found)
    if kind == "Feature":
        return polygons_from_geojson(document.get("geometry"))
    coordinates = document.get("coordinates") if isinstance(document, dict) else None
    if kind == "Polygon":
        raw_polygons = [coordinates]
    elif kind == "MultiPolygon" and isinstance(coordinates, list):
        raw_polygons = coordinates
    else:
        return ()
    polygons = (_polygon(raw) for raw in raw_polygons)
    return tuple(polygon for polygon in polygons if polygon)


def _polygon(raw: Any) -> Polygon:
    """One polygon's valid rings (at least four positions in range); empty if none."""
    if not isinstance(raw, list):
        return ()
    rings = []
    for raw_ring in raw:
        ring = tuple(p for p in (_position(q) for q in raw_ring or ()) if p is not None)
        if len(ring) >= 4:
            rings.append(ring)
    return tuple(rings)


def _position(raw: Any) -> LonLat | None:
    """A [longitude, latitude] pair within the globe's range, or None."""
    if not isinstance(raw, list | tuple) or len(raw) < 2:
        return None
    lon, lat = raw[0], raw[1]
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in (lon, lat)):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return float(lon), float(lat)


@dataclass(frozen=True, slots=True)
class Box:
    """A bounding box in degrees."""

    west: float
    south: float
    east: float
    north: float

    @classmethod
    def around(cls, positions: Iterable[LonLat]) -> Box | None:
        """The smallest box holding the positions, at least MIN_SPAN wide and high."""
        points = list(positions)
        if not points:
            return None
        west, east = min(p[0] for p in points), max(p[0] for p in points)
        south, north = min(p[1] for p in points), max(p[1] for p in points)
        if east - west < MIN_SPAN:
            middle = (east + west) / 2
            west, east = middle - MIN_SPAN / 2, middle + MIN_SPAN / 2
        if north - south < MIN_SPAN:
            middle = (north + south) / 2
            south, north = middle - MIN_SPAN / 2, middle + MIN_SPAN / 2
        return cls(west, max(south, -MERCATOR_LIMIT), east, min(north, MERCATOR_LIMIT))


class Projection(Protocol):
    """Degrees to plane coordinates ("world" units, y growing southwards)."""

    def project(self, lon: float, lat: float) -> tuple[float, float]:
        """The plane position of a (longitude, latitude)."""
        ...

    def unproject(self, x: float, y: float) -> LonLat:
        """The (longitude, latitude) of a plane position."""
        ...


@dataclass(frozen=True, slots=True)
class Equirectangular:
    """Longitude scaled by the cosine of the map's middle latitude, latitude as is.

    At a territory's scale (a few tens of kilometres) this keeps distances and angles true
    within a fraction of a percent, with no library.
    """

    middle_latitude: float

    def project(self, lon: float, lat: float) -> tuple[float, float]:
        """x = longitude x cos(middle latitude), y = -latitude (degrees)."""
        return lon * math.cos(math.radians(self.middle_latitude)), -lat

    def unproject(self, x: float, y: float) -> LonLat:
        """The inverse of project."""
        return x / math.cos(math.radians(self.middle_latitude)), -y


@dataclass(frozen=True, slots=True)
class WebMercator:
    """The projection of tile servers (EPSG:3857), as a unit square: (0, 0) is the
    north-west corner of the world, (1, 1) its south-east corner. Used with background
    tiles, so that tiles and the node's data align."""

    def project(self, lon: float, lat: float) -> tuple[float, float]:
        """The position in the unit square (latitude clamped to the Mercator limit)."""
        lat = max(-MERCATOR_LIMIT, min(MERCATOR_LIMIT, lat))
        x = (lon + 180.0) / 360.0
        y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0
        return x, y

    def unproject(self, x: float, y: float) -> LonLat:
        """The inverse of project."""
        return x * 360.0 - 180.0, math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y))))


@dataclass(frozen=True, slots=True)
class Frame:
    """A projection fitted into a drawing of `width` x `height` SVG units."""

    projection: Projection
    scale: float
    offset_x: float
    offset_y: float
    width: float
    height: float

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        """The SVG position of a (longitude, latitude)."""
        x, y = self.projection.project(lon, lat)
        return self.offset_x + x * self.scale, self.offset_y + y * self.scale

    def from_world(self, x: float, y: float) -> tuple[float, float]:
        """The SVG position of a plane position."""
        return self.offset_x + x * self.scale, self.offset_y + y * self.scale

    def to_world(self, x: float, y: float) -> tuple[float, float]:
        """The plane position of an SVG position (the inverse of from_world)."""
        return (x - self.offset_x) / self.scale, (y - self.offset_y) / self.scale


def fit(
    box: Box,
    projection: Projection,
    *,
    width: float,
    margin: float,
    min_height: float,
    max_height: float,
) -> Frame:
    """Fit a box into a drawing `width` wide, keeping `margin` free on every side.

    The height follows the box's shape, within [min_height, max_height]; the box is centred
    in the drawing, at the largest scale at which it fits.
    """
    corners = [
        projection.project(lon, lat)
        for lon in (box.west, box.east)
        for lat in (box.south, box.north)
    ]
    left, right = min(c[0] for c in corners), max(c[0] for c in corners)
    top, bottom = min(c[1] for c in corners), max(c[1] for c in corners)
    span_x, span_y = max(right - left, 1e-12), max(bottom - top, 1e-12)
    inner_width = width - 2 * margin
    height = max(min_height, min(max_height, inner_width * span_y / span_x + 2 * margin))
    scale = min(inner_width / span_x, (height - 2 * margin) / span_y)
    offset_x = width / 2 - (left + right) / 2 * scale
    offset_y = height / 2 - (top + bottom) / 2 * scale
    return Frame(projection, scale, offset_x, offset_y, width, height)


@dataclass(frozen=True, slots=True)
class Tile:
    """One background tile: its URL and its square in SVG units."""

    url: str
    x: float
    y: float
    size: float


def tiles_for(frame: Frame, template: str, *, max_tiles: int = 64) -> tuple[int, list[Tile]]:
    """The zoom level and the tiles covering a Web Mercator frame.

    The zoom is the one whose tiles are drawn closest to their natural 256 pixels (a drawing
    unit is about a CSS pixel), lowered while more than `max_tiles` would be needed. The
    template's {z}, {x} and {y} are replaced (and {s}, a common sub-domain placeholder, by
    "a"); nothing else of it is interpreted.
    """
    west, north = frame.to_world(0, 0)
    east, south = frame.to_world(frame.width, frame.height)
    zoom = max(0, min(MAX_ZOOM, round(math.log2(max(frame.scale / TILE_PIXELS, 1e-9)))))
    while True:
        count = 2**zoom
        columns = range(
            max(0, math.floor(west * count)), min(count - 1, math.floor(east * count)) + 1
        )
        rows = range(
            max(0, math.floor(north * count)), min(count - 1, math.floor(south * count)) + 1
        )
        if len(columns) * len(rows) <= max_tiles or zoom == 0:
            break
        zoom -= 1
    size = frame.scale / count
    tiles = []
    for row in rows:
        for column in columns:
            x, y = frame.from_world(column / count, row / count)
            url = (
                template.replace("{z}", str(zoom))
                .replace("{x}", str(column))
                .replace("{y}", str(row))
                .replace("{s}", "a")
            )
            tiles.append(Tile(url, x, y, size))
    return zoom, tiles
