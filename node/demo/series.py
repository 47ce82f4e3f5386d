"""Believable monthly measurements: a trend, a seasonal swing and some noise, the same every
time (a fixed seed)."""

from __future__ import annotations

import calendar
import math
from datetime import date
from random import Random

from node.demo.model import Trend


def monthly_days(start: date, count: int) -> list[date]:
    """`count` days a month apart, from `start` (day of month kept, or the month's last).

    >>> monthly_days(date(2024, 1, 31), 3)
    [datetime.date(2024, 1, 31), datetime.date(2024, 2, 29), datetime.date(2024, 3, 31)]
    """
    days = []
    for offset in range(count):
        month_index = start.month - 1 + offset
        year, month = start.year + month_index // 12, month_index % 12 + 1
        last = calendar.monthrange(year, month)[1]
        days.append(date(year, month, min(start.day, last)))
    return days


def _progress(shape: str, t: float) -> float:
    """How far along the trend is at t (0 to 1): straight, or an S curve."""
    if shape == "linear":
        return t
    low, high = (1 / (1 + math.exp(-8 * (x - 0.4))) for x in (0.0, 1.0))
    return (1 / (1 + math.exp(-8 * (t - 0.4))) - low) / (high - low)


def series(trend: Trend, days: list[date], rng: Random) -> list[float]:
    """One value per day of `days`, following the trend.

    >>> flat = Trend(10, 20, shape="linear", noise=0)
    >>> series(flat, [date(2024, 1, 1), date(2024, 2, 1)], Random(1))
    [10.0, 20.0]
    """
    values = []
    last = max(len(days) - 1, 1)
    for index, day in enumerate(days):
        base = trend.start + (trend.end - trend.start) * _progress(trend.shape, index / last)
        season = 1 + trend.seasonal * math.cos(2 * math.pi * (day.month - trend.peak_month) / 12)
        value = base * season * (1 + rng.gauss(0, trend.noise)) if trend.noise else base * season
        values.append(float(round(max(value, 0.0), trend.digits)))
    return values
