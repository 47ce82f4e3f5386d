"""Small server-side SVG bar charts: one horizontal bar per row, in stacked segments (the
coordinator's statistics by theme). No script, no external asset; a `<title>` and `<desc>`
for screen readers, and every value also written as text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

_LABEL_WIDTH, _BAR_WIDTH, _VALUE_WIDTH, _ROW_HEIGHT, _GAP = 150, 260, 60, 22, 8
PALETTE = ("#2f6b4f", "#7fb069", "#e0a458", "#b5485d", "#6c7a89")


@dataclass(frozen=True, slots=True)
class Bar:
    """One row: its label and its segments' values, in the legend's order."""

    label: str
    values: tuple[float, ...]


def bar_chart(
    title: str, legend: Sequence[str], bars: Sequence[Bar], description: str = ""
) -> Markup:
    """Horizontal stacked bars, scaled to the largest total; rows in the given order."""
    largest = max((sum(bar.values) for bar in bars), default=0) or 1
    width = _LABEL_WIDTH + _BAR_WIDTH + _VALUE_WIDTH
    legend_height = _ROW_HEIGHT if len(legend) > 1 else 0
    height = legend_height + len(bars) * (_ROW_HEIGHT + _GAP) + _GAP
    parts = [
        f'<svg class="bars" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f"<desc>{escape(description or title)}</desc>"
    ]
    if len(legend) > 1:
        x = 0
        for index, name in enumerate(legend):
            colour = PALETTE[index % len(PALETTE)]
            parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>')
            parts.append(f'<text x="{x + 16}" y="15" font-size="12">{escape(name)}</text>')
            x += 16 + 8 * len(name) + 12
    for row, bar in enumerate(bars):
        y = legend_height + _GAP + row * (_ROW_HEIGHT + _GAP)
        parts.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + 15}" font-size="12" text-anchor="end">'
            f"{escape(bar.label[:24])}</text>"
        )
        x = float(_LABEL_WIDTH)
        for index, value in enumerate(bar.values):
            length = _BAR_WIDTH * value / largest
            if length > 0:
                colour = PALETTE[index % len(PALETTE)]
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="{_ROW_HEIGHT}" '
                    f'fill="{colour}"><title>{escape(_name(legend, index))} : {value:g}</title>'
                    "</rect>"
                )
            x += length
        total = sum(bar.values)
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}" font-size="12">{total:g}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def _name(legend: Sequence[str], index: int) -> str:
    return legend[index] if index < len(legend) else ""
