"""Statistics across the followed territories, by theme: experiments, replications, outcome
shares of their evaluations, and where their indicators went from baseline to latest.

A pure function of the indexed entries, with a fixed order: two coordinators that index the
same territories give the same figures."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import median

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.convert.experiments import OUTCOMES
from node.storage.models import CoordinationEntry

NO_THEME = ""


@dataclass(frozen=True, slots=True)
class ThemeStatistics:
    """The figures of one theme."""

    theme: str
    experiments: int
    replications: int
    territories: int
    evaluated: int
    #: evaluations by outcome, in OUTCOMES order (an experiment's latest evaluation counts)
    outcomes: tuple[tuple[str, int], ...]
    indicators_measured: int
    indicators_on_target: int
    #: median change from baseline to latest, in percent of the baseline (None: no baseline)
    median_change_percent: float | None
    examples: tuple[str, ...] = field(default=())

    def share(self, outcome: str) -> float:
        """The share of evaluated experiments with this outcome (0 when none is evaluated)."""
        counts = dict(self.outcomes)
        return counts.get(outcome, 0) / self.evaluated if self.evaluated else 0.0


@dataclass(frozen=True, slots=True)
class Totals:
    """The figures across every theme."""

    territories: int
    experiments: int
    replications: int
    evaluations: int
    proposals: int
    offers: int


def _reached(indicator: dict[str, object]) -> bool:
    latest, target = indicator.get("latest"), indicator.get("target")
    if not isinstance(latest, int | float) or not isinstance(target, int | float):
        return False
    return latest <= target if indicator.get("direction") == "decrease" else latest >= target


def _change(indicator: dict[str, object]) -> float | None:
    latest, baseline = indicator.get("latest"), indicator.get("baseline")
    if (
        not isinstance(latest, int | float)
        or not isinstance(baseline, int | float)
        or baseline == 0
    ):
        return None
    return round((latest - baseline) / abs(baseline) * 100, 6)


def theme_statistics(entries: list[CoordinationEntry]) -> list[ThemeStatistics]:
    """Figures per theme, themes in alphabetical order (the theme-less last)."""
    experiments = sorted((e for e in entries if e.kind == "experiment"), key=lambda e: e.uri)
    known = {e.uri for e in experiments}
    latest_outcome: dict[str, tuple[str, str]] = {}
    for evaluation in sorted(
        (e for e in entries if e.kind == "evaluation" and e.evaluates in known and e.outcome),
        key=lambda e: (e.published, e.uri),
    ):
        latest_outcome[evaluation.evaluates or ""] = (evaluation.outcome, evaluation.uri)
    by_theme: dict[str, list[CoordinationEntry]] = defaultdict(list)
    for experiment in experiments:
        by_theme[experiment.theme or NO_THEME].append(experiment)
    figures = []
    for theme in sorted(by_theme, key=lambda t: (t == NO_THEME, t)):
        group = by_theme[theme]
        outcomes = Counter(latest_outcome[e.uri][0] for e in group if e.uri in latest_outcome)
        indicators = [i for e in group for i in json.loads(e.indicators) if isinstance(i, dict)]
        measured = [i for i in indicators if isinstance(i.get("latest"), int | float)]
        changes = [c for i in measured if (c := _change(i)) is not None]
        figures.append(
            ThemeStatistics(
                theme=theme,
                experiments=len(group),
                replications=sum(1 for e in group if json.loads(e.derived_from)),
                territories=len({e.territory_uri for e in group}),
                evaluated=sum(outcomes.values()),
                outcomes=tuple((o, outcomes.get(o, 0)) for o in OUTCOMES),
                indicators_measured=len(measured),
                indicators_on_target=sum(1 for i in measured if _reached(i)),
                median_change_percent=round(median(changes), 1) if changes else None,
                examples=tuple(e.uri for e in group[:3]),
            )
        )
    return figures


def totals(entries: list[CoordinationEntry]) -> Totals:
    """How many of each kind the index holds, and from how many territories."""
    kinds = Counter(e.kind for e in entries)
    return Totals(
        territories=len({e.territory_uri for e in entries}),
        experiments=kinds["experiment"],
        replications=sum(
            1 for e in entries if e.kind == "experiment" and json.loads(e.derived_from)
        ),
        evaluations=kinds["evaluation"],
        proposals=kinds["proposal"],
        offers=kinds["offer"],
    )


async def all_entries(session: AsyncSession) -> list[CoordinationEntry]:
    """Every indexed entry, in a fixed order."""
    return list(await session.scalars(select(CoordinationEntry).order_by(CoordinationEntry.uri)))
