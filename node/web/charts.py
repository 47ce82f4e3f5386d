"""Small server-side SVG line charts: values over time, with horizontal reference lines.

No script and no external asset: the SVG is inline in the page, has a `<title>` and a
`<desc>` for screen readers (role="img"), and draws its own axes and labels. Experiments use
it for an indicator's measurements with its baseline and target; territory dashboards can
use it for any dated series.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

#: Space around the plot for the axes' labels, in SVG units: left, right, top, bottom.
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 20, 28, 44
_SERIES_COLOUR = "#2f6b4f"
_AXIS_COLOUR = "#52625a"
#: colour and dash pattern of reference lines, by their kind
_REFERENCE_STYLES = {
    "baseline": ("#52625a", "6 4"),
    "target": ("#c2410c", "2 3"),
}


@dataclass(frozen=True, slots=True)
class ReferenceLine:
    """A horizontal line across the chart (a baseline, a target, a threshold) and its label."""

    label: str
    value: float
    #: baseline or target: how it is drawn
    kind: str = "baseline"


def format_number(value: float) -> str:
    """A value as people read it: no useless decimals, at most six significant digits.

    >>> format_number(12.0), format_number(0.25), format_number(1234567.0), format_number(-0.0)
    ('12', '0.25', '1234570', '0')
    """
    text = f"{Decimal(f'{value:.6g}'):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2 or 5 times a power of ten).

    >>> nice_ticks(0, 10)
    [0.0, 2.5, 5.0, 7.5, 10.0]
    >>> nice_ticks(3, 3)
    [2.0, 2.5, 3.0, 3.5, 4.0]
    """
    if high < low:
        low, high = high, low
    if high == low:
        low, high = low - 1, high + 1
    raw_step = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw_step))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw_step)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


class _Frame:
    """Maps dates and values to SVG coordinates inside the plot area."""

    def __init__(
        self, width: int, height: int, days: tuple[date, date], values: tuple[float, float]
    ) -> None:
        self.x0, self.x1 = _LEFT, width - _RIGHT
        self.y0, self.y1 = height - _BOTTOM, _TOP
        self.first, self.last = days
        self.low, self.high = values

    def x(self, day: date) -> float:
        """Horizontal position of a day (the middle when all points share one day)."""
        span = (self.last - self.first).days
        if span <= 0:
            return (self.x0 + self.x1) / 2
        return self.x0 + (self.x1 - self.x0) * (day - self.first).days / span

    def y(self, value: float) -> float:
        """Vertical position of a value (SVG's y grows downwards)."""
        return self.y0 - (self.y0 - self.y1) * (value - self.low) / (self.high - self.low)


def line_chart(
    points: Sequence[tuple[date, float]],
    *,
    title: str,
    description: str,
    unit: str = "",
    references: Sequence[ReferenceLine] = (),
    chart_id: str = "chart",
    empty_text: str = "",
    width: int = 560,
    height: int = 260,
) -> Markup:
    """An accessible SVG line chart of dated values, as markup to insert in a page.

    `title` and `description` are read by screen readers (give the latest value and the
    reference values in the description); `unit` labels the vertical axis; `references`
    draws horizontal lines; `empty_text` is written in the plot when there is no point yet;
    `chart_id` must be unique in the page (it prefixes the ids of the title and description).
    """
    series = sorted(points)
    values = [v for _, v in series] + [line.value for line in references]
    ticks = nice_ticks(min(values), max(values)) if values else nice_ticks(0, 1)
    days = (series[0][0], series[-1][0]) if series else (date.today(), date.today())
    frame = _Frame(width, height, days, (ticks[0], ticks[-1]))
    ident = escape(chart_id)
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
        f' width="100%" role="img" aria-labelledby="{ident}-title {ident}-desc"'
        ' font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
        *_axes(frame, ticks, unit),
        *(_reference(frame, line) for line in references),
        *_series(frame, series, unit),
    ]
    if not series and empty_text:
        parts.append(
            f'<text x="{(frame.x0 + frame.x1) / 2:.1f}" y="{(frame.y0 + frame.y1) / 2:.1f}"'
            f' text-anchor="middle" fill="{_AXIS_COLOUR}">{escape(empty_text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text and attribute above is escaped


def _axes(frame: _Frame, ticks: list[float], unit: str) -> list[str]:
    """The two axes, the value ticks with their grid lines, the first and last dates."""
    out = [
        f'<g class="axes" stroke="{_AXIS_COLOUR}" stroke-width="1">'
        f'<line x1="{frame.x0}" y1="{frame.y0}" x2="{frame.x1}" y2="{frame.y0}"/>'
        f'<line x1="{frame.x0}" y1="{frame.y0}" x2="{frame.x0}" y2="{frame.y1}"/></g>'
    ]
    for tick in ticks:
        y = frame.y(tick)
        out.append(
            f'<line x1="{frame.x0}" y1="{y:.1f}" x2="{frame.x1}" y2="{y:.1f}" stroke="#d9ddd5"'
            ' stroke-width="0.5"/>'
            f'<text x="{frame.x0 - 6}" y="{y + 4:.1f}" text-anchor="end"'
            f' fill="{_AXIS_COLOUR}">{format_number(tick)}</text>'
        )
    if unit:
        out.append(
            f'<text x="{frame.x0}" y="{_TOP - 12}" text-anchor="start"'
            f' fill="{_AXIS_COLOUR}">{escape(unit)}</text>'
        )
    labels = {frame.first, frame.last}
    for day in sorted(labels):
        anchor = "middle" if len(labels) == 1 else ("start" if day == frame.first else "end")
        out.append(
            f'<text x="{frame.x(day):.1f}" y="{frame.y0 + 20}" text-anchor="{anchor}"'
            f' fill="{_AXIS_COLOUR}">{day.isoformat()}</text>'
        )
    return out


def _reference(frame: _Frame, line: ReferenceLine) -> str:
    """A dashed horizontal line with its label above its right end."""
    colour, dash = _REFERENCE_STYLES.get(line.kind, _REFERENCE_STYLES["baseline"])
    y = frame.y(line.value)
    label = f"{line.label} : {format_number(line.value)}"
    return (
        f'<g class="reference {escape(line.kind)}">'
        f'<line x1="{frame.x0}" y1="{y:.1f}" x2="{frame.x1}" y2="{y:.1f}" stroke="{colour}"'
        f' stroke-width="1.5" stroke-dasharray="{dash}"/>'
        f'<text x="{frame.x1}" y="{y - 4:.1f}" text-anchor="end" fill="{colour}">'
        f"{escape(label)}</text></g>"
    )


def _series(frame: _Frame, series: list[tuple[date, float]], unit: str) -> list[str]:
    """The measured values: a line through them and a dot (with a tooltip title) on each."""
    if not series:
        return []
    coordinates = " ".join(f"{frame.x(d):.1f},{frame.y(v):.1f}" for d, v in series)
    out = [
        f'<polyline class="series" points="{coordinates}" fill="none"'
        f' stroke="{_SERIES_COLOUR}" stroke-width="2"/>'
    ]
    for day, value in series:
        tip = f"{day.isoformat()} : {format_number(value)} {unit}".strip()
        out.append(
            f'<circle cx="{frame.x(day):.1f}" cy="{frame.y(value):.1f}" r="3.5"'
            f' fill="{_SERIES_COLOUR}"><title>{escape(tip)}</title></circle>'
        )
    return out


def sparkline(
    points: Sequence[tuple[date, float]],
    *,
    title: str,
    description: str,
    chart_id: str,
    width: int = 160,
    height: int = 40,
) -> Markup:
    """A word-sized line of dated values, with no axis: a glance at a series (dashboards),
    its latest value marked by a dot. Accessible as `line_chart` (role="img", `title` and
    `description`, which should say the latest value); the series' own page has the chart."""
    series = sorted(points)
    ident = escape(chart_id)
    parts = [
        f'<svg class="sparkline" xmlns="http://www.w3.org/2000/svg"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"'
        f' aria-labelledby="{ident}-title {ident}-desc">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
    ]
    if series:
        pad = 4
        low, high = min(v for _, v in series), max(v for _, v in series)
        first, last = series[0][0], series[-1][0]
        days, spread = (last - first).days or 1, (high - low) or 1.0

        def xy(day: date, value: float) -> tuple[float, float]:
            x = pad + (width - 2 * pad) * (day - first).days / days
            y = height - pad - (height - 2 * pad) * (value - low) / spread
            return (x, y) if high > low else (x, height / 2)

        coordinates = " ".join("{:.1f},{:.1f}".format(*xy(d, v)) for d, v in series)
        end_x, end_y = xy(*series[-1])
        parts.append(
            f'<polyline class="series" points="{coordinates}" fill="none"'
            f' stroke="{_SERIES_COLOUR}" stroke-width="1.5" stroke-linejoin="round"/>'
            f'<circle cx="{end_x:.1f}" cy="{end_y:.1f}" r="2.5" fill="{_SERIES_COLOUR}"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text and attribute above is escaped
