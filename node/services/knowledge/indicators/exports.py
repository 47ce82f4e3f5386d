"""The indicators out of the node: CSV files people open in a spreadsheet (and import back
unchanged), and the pages of the territory actor's `indicators` and `observations` collections
that peers and coordinators read.

CSV cells are protected against formula injection as OWASP advises: a text cell starting with
= + - @, a tab or a carriage return gets a leading quote (the import removes it). Numbers and
dates are written by the node itself and left as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select

from instance_config import InstanceConfig
from node.convert.indicators import indicator_to_as, observation_to_as
from node.services.knowledge.indicators.catalogue import Sessions, seed_default_catalogue
from node.services.knowledge.indicators.imports import (
    FORMULA_STARTS,
    INDICATOR_COLUMNS,
    OBSERVATION_COLUMNS,
)
from node.services.pages.timeline import PAGE_SIZE
from node.storage.models import Indicator, Observation


def safe_cell(text: str) -> str:
    """A text cell that no spreadsheet will run as a formula.

    >>> safe_cell("=1+1"), safe_cell("-3 par rapport à mai"), safe_cell("Bien")
    ("'=1+1", "'-3 par rapport à mai", 'Bien')
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def number_cell(value: float | None) -> str:
    """A number as the import reads it back exactly (empty for none).

    >>> number_cell(12.0), number_cell(0.1), number_cell(-2.5), number_cell(None)
    ('12', '0.1', '-2.5', '')
    """
    if value is None:
        return ""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """RFC 4180 text: comma-separated, quoted where needed, CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


async def indicators_csv(sessions: Sessions, config: InstanceConfig) -> str:
    """The catalogue, one indicator a row, with the columns the import expects."""
    await seed_default_catalogue(sessions, config)
    async with sessions() as session:
        indicators = list(await session.scalars(select(Indicator).order_by(Indicator.slug)))
    header = INDICATOR_COLUMNS[0] + INDICATOR_COLUMNS[1]
    rows = (
        (
            i.slug,
            safe_cell(i.name),
            safe_cell(i.unit),
            i.direction,
            i.theme,
            safe_cell(i.source),
            safe_cell(i.method),
            number_cell(i.baseline),
            number_cell(i.target),
        )
        for i in indicators
    )
    return _csv(header, rows)


async def observations_csv(sessions: Sessions) -> str:
    """Every observation, by indicator then date, with the columns the import expects."""
    async with sessions() as session:
        rows = list(
            await session.execute(
                select(Indicator.slug, Observation.observed_on, Observation.value, Observation.note)
                .join(Observation, Observation.indicator_id == Indicator.id)
                .order_by(Indicator.slug, Observation.observed_on)
            )
        )
    header = OBSERVATION_COLUMNS[0] + OBSERVATION_COLUMNS[1]
    return _csv(
        header,
        (
            (slug, day.isoformat(), number_cell(value), safe_cell(note))
            for slug, day, value, note in rows
        ),
    )


async def indicator_collection(
    sessions: Sessions, config: InstanceConfig, page: int | None
) -> tuple[int, list[dict[str, Any]]]:
    """The `indicators` collection: its size, and a page of definitions embedded whole (a
    peer reads the catalogue without fetching each one), oldest first so pages stay stable."""
    await seed_default_catalogue(sessions, config)
    async with sessions() as session:
        total = int(await session.scalar(select(func.count()).select_from(Indicator)) or 0)
        if page is None:
            return total, []
        indicators = await session.scalars(
            select(Indicator)
            .order_by(Indicator.created_at, Indicator.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
        return total, [indicator_to_as(config, i, context=False) for i in indicators]


async def observation_collection(
    sessions: Sessions, config: InstanceConfig, page: int | None
) -> tuple[int, list[dict[str, Any]]]:
    """The `observations` collection: its size, and a page of observations in the order
    they were recorded, so that pages stay stable and a peer resumes where it stopped."""
    async with sessions() as session:
        total = int(await session.scalar(select(func.count()).select_from(Observation)) or 0)
        if page is None:
            return total, []
        rows = await session.execute(
            select(Indicator, Observation)
            .join(Observation, Observation.indicator_id == Indicator.id)
            .order_by(Observation.created_at, Observation.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
        return total, [observation_to_as(config, i, o, context=False) for i, o in rows]
