"""Placing place names on the map without overlaps: a greedy search, most connected places
first, trying eight positions around each symbol.

A name that fits nowhere is left out of the drawing; it is still in the symbol's tooltip
(`<title>`) and in the tables under the map.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Label size in SVG units, and the average width of a character relative to it.
FONT_SIZE = 12
CHAR_WIDTH = 0.58
#: Half the size of a place's symbol.
SYMBOL_RADIUS = 7.0
#: At most this many names are tried (each try compares with every name placed before).
MAX_LABELS = 400

Rect = tuple[float, float, float, float]  # left, top, right, bottom


@dataclass(frozen=True, slots=True)
class Label:
    """A placed name: its anchor point and text-anchor."""

    x: float
    y: float
    anchor: str


def text_width(text: str) -> float:
    """An estimate of a text's width at FONT_SIZE (no font metrics are available)."""
    return len(text) * FONT_SIZE * CHAR_WIDTH


def _candidates(x: float, y: float) -> list[Label]:
    """Positions around a symbol at (x, y), the most readable first."""
    r = SYMBOL_RADIUS
    return [
        Label(x + r + 4, y + 4, "start"),
        Label(x - r - 4, y + 4, "end"),
        Label(x, y - r - 5, "middle"),
        Label(x, y + r + 13, "middle"),
        Label(x + r, y - r - 2, "start"),
        Label(x + r, y + r + 11, "start"),
        Label(x - r, y - r - 2, "end"),
        Label(x - r, y + r + 11, "end"),
    ]


def _box(label: Label, width: float) -> Rect:
    """The rectangle a label covers (with a pixel of air)."""
    left = {"start": label.x, "end": label.x - width, "middle": label.x - width / 2}[label.anchor]
    return left - 1, label.y - FONT_SIZE * 0.8 - 1, left + width + 1, label.y + FONT_SIZE * 0.25 + 1


def _overlaps(a: Rect, b: Rect) -> bool:
    """Whether two rectangles intersect."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(
    symbols: list[tuple[str, str, float, float]], width: float, height: float
) -> dict[str, Label]:
    """Labels for symbols given as (id, name, x, y), in priority order, within the drawing.

    Returns the label of each symbol that could be named without covering another label,
    another symbol or the drawing's edge (only the first MAX_LABELS symbols are tried).
    """
    r = SYMBOL_RADIUS + 1
    obstacles: list[Rect] = [(x - r, y - r, x + r, y + r) for _, _, x, y in symbols]
    placed: dict[str, Label] = {}
    for ident, name, x, y in symbols[:MAX_LABELS]:
        size = text_width(name)
        own = (x - r, y - r, x + r, y + r)
        for candidate in _candidates(x, y):
            box = _box(candidate, size)
            inside = box[0] >= 2 and box[1] >= 2 and box[2] <= width - 2 and box[3] <= height - 2
            if inside and not any(_overlaps(box, o) for o in obstacles if o != own):
                placed[ident] = candidate
                obstacles.append(box)
                break
    return placed
