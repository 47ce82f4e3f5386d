"""The territory's indicators: the catalogue (seeded once with the defaults beyond GDP),
facilitators' definitions and observations, the values the node can compute from its own data,
and what the dashboard, the indicator pages and the federation collections read.

Every public write is one transaction; facilitators and admins only (NotAllowed otherwise).
Problems a person can fix raise FormInvalid (field -> French reason); an unknown slug raises
NoSuchIndicator. Nothing here is pushed to followers: peers pull the collections.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.convert.indicators import (
    indicator_to_as,
    indicator_url,
    observation_to_as,
    observation_url,
)
from node.domain.forms import Form, FormInvalid
from node.domain.indicators import (
    ACTIVE_CIRCLES,
    DEFAULT_CATALOGUE,
    DIRECTIONS,
    PARTICIPATION,
    THEMES,
    Trend,
    slug_problem,
    target_reached,
    trend,
)
from node.domain.local_time import today
from node.services.participation.circles import can_facilitate
from node.services.participation.decision_views import eligible_residents
from node.services.participation.needs import NotAllowed
from node.storage.models import (
    Account,
    Decision,
    Experiment,
    Indicator,
    Need,
    Observation,
    Proposal,
    Vote,
)

Sessions = async_sessionmaker[AsyncSession]
FACILITATORS_ONLY = "Réservé aux facilitateurs, facilitatrices et à l'administration du nœud."
SLUG_TAKEN = "Un indicateur porte déjà ce nom court."
FUTURE_DAY = "La date ne peut pas être dans le futur."
NOTE_MAX_LENGTH = 500


class NoSuchIndicator(LookupError):
    """No indicator with this slug in the territory's catalogue."""


@dataclass(frozen=True, slots=True)
class IndicatorInput:
    """An indicator as a facilitator describes it (the slug only counts at creation)."""

    slug: str
    name: str
    unit: str
    direction: str
    theme: str
    source: str
    method: str
    baseline: float | None
    target: float | None


def read_indicator(data: Mapping[str, Any]) -> IndicatorInput:
    """Check an indicator's fields (a form, or a CSV row); FormInvalid names each problem."""
    form = Form(data)
    slug = form.text("slug", max_length=64)
    if slug and "slug" not in form.errors:
        form.check(slug_problem(slug) is None, "slug", slug_problem(slug) or "")
    name = form.text("name")
    unit = form.text("unit", max_length=64)
    direction = form.choice("direction", DIRECTIONS)
    theme = form.choice("theme", tuple(THEMES), required=False)
    source = form.text("source", required=False, max_length=300)
    method = form.text("method", required=False, max_length=5000)
    baseline = form.number("baseline", required=False)
    target = form.number("target", required=False)
    form.raise_if_invalid()
    return IndicatorInput(slug, name, unit, direction, theme, source, method, baseline, target)


def read_observation(data: Mapping[str, Any], today: date) -> tuple[date, float, str]:
    """Check an observation's day (not in the future), value and note; FormInvalid else."""
    form = Form(data)
    day = form.day("observed_on")
    if day is not None:
        form.check(day <= today, "observed_on", FUTURE_DAY)
    value = form.number("value")
    note = form.text("note", required=False, max_length=NOTE_MAX_LENGTH)
    form.raise_if_invalid()
    assert day is not None and value is not None
    return day, value, note


async def ensure_facilitator(session: AsyncSession, account: Account) -> None:
    """Refuse (NotAllowed) anyone who is not a facilitator or an admin of the node."""
    if not await can_facilitate(session, account, None):
        raise NotAllowed(FACILITATORS_ONLY)


async def may_keep_indicators(sessions: Sessions, account: Account | None) -> bool:
    """Whether the pages offer the facilitators' forms to this visitor."""
    if account is None:
        return False
    async with sessions() as session:
        return await can_facilitate(session, account, None)


async def seed_default_catalogue(sessions: Sessions, config: InstanceConfig) -> int:
    """Give the territory the default catalogue when it has no indicator at all; returns how
    many were added (0 every later time: idempotent, and never re-adds a removed one while
    others remain). Called on first use of the pages; safe to call at start-up too, and from
    concurrent requests (the one that loses the race adds nothing)."""
    try:
        async with sessions.begin() as session:
            if await session.scalar(select(func.count()).select_from(Indicator)):
                return 0
            session.add_all(
                Indicator(
                    uri=indicator_url(config, definition.slug),
                    slug=definition.slug,
                    name=definition.name,
                    unit=definition.unit,
                    direction=definition.direction,
                    theme=definition.theme,
                    source=definition.source,
                    method=definition.method,
                )
                for definition in DEFAULT_CATALOGUE
            )
    except IntegrityError:
        return 0
    return len(DEFAULT_CATALOGUE)


def apply_definition(indicator: Indicator, data: IndicatorInput) -> None:
    """Copy a checked definition onto an indicator (everything but its slug and URI)."""
    indicator.name, indicator.unit = data.name, data.unit
    indicator.direction, indicator.theme = data.direction, data.theme
    indicator.source, indicator.method = data.source, data.method
    indicator.baseline, indicator.target = data.baseline, data.target


async def create_indicator(
    sessions: Sessions, config: InstanceConfig, account: Account, data: IndicatorInput
) -> Indicator:
    """Add an indicator to the catalogue; its slug must be free (FormInvalid else)."""
    await seed_default_catalogue(sessions, config)  # the defaults come first, always
    async with sessions.begin() as session:
        await ensure_facilitator(session, account)
        if await session.scalar(select(Indicator.id).where(Indicator.slug == data.slug)):
            raise FormInvalid({"slug": SLUG_TAKEN})
        indicator = Indicator(uri=indicator_url(config, data.slug), slug=data.slug)
        apply_definition(indicator, data)
        session.add(indicator)
        return indicator


async def update_indicator(
    sessions: Sessions, account: Account, slug: str, data: IndicatorInput
) -> None:
    """Correct a definition; the slug, hence every URL, stays."""
    async with sessions.begin() as session:
        await ensure_facilitator(session, account)
        indicator = await _indicator(session, slug)
        apply_definition(indicator, data)


async def _indicator(session: AsyncSession, slug: str) -> Indicator:
    indicator = await session.scalar(select(Indicator).where(Indicator.slug == slug))
    if indicator is None:
        raise NoSuchIndicator(slug)
    return indicator


async def record_observation(
    sessions: Sessions,
    config: InstanceConfig,
    account: Account,
    slug: str,
    observed: tuple[date, float, str],
) -> bool:
    """Record the indicator's value on a day; a second value for the same day corrects the
    first (one value per day). Returns True for a new observation, False for a correction."""
    day, value, note = observed
    async with sessions.begin() as session:
        await ensure_facilitator(session, account)
        indicator = await _indicator(session, slug)
        existing = await session.scalar(
            select(Observation).where(
                Observation.indicator_id == indicator.id, Observation.observed_on == day
            )
        )
        if existing is not None:
            existing.value, existing.note, existing.recorded_by = value, note, account.id
            return False
        session.add(
            Observation(
                uri=observation_url(config, slug, day),
                indicator_id=indicator.id,
                value=value,
                observed_on=day,
                note=note,
                recorded_by=account.id,
            )
        )
        return True


# --- values the node computes from its own data -------------------------------------------


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def participation_rate(session: AsyncSession, today: date) -> float:
    """Share (%) of the node's residents who voted in a decision opened in the last 12 months."""
    eligible = await eligible_residents(session)
    voters = await session.scalar(
        select(func.count(func.distinct(Vote.account_id)))
        .join(Decision, Decision.id == Vote.decision_id)
        .where(
            Decision.opens_at >= _start_of(today - timedelta(days=365)),
            Decision.opens_at < _start_of(today + timedelta(days=1)),
        )
    )
    return round(100 * (voters or 0) / eligible, 1) if eligible else 0.0


async def active_circles(session: AsyncSession, today: date) -> float:
    """How many circles saw a need, a proposal or an experiment move in the last 6 months."""
    since = _start_of(today - timedelta(days=182))
    moved = union(
        *(
            select(model.circle_id.label("circle")).where(
                model.circle_id.is_not(None), model.updated_at >= since
            )
            for model in (Need, Proposal, Experiment)
        )
    ).subquery()
    return float(await session.scalar(select(func.count()).select_from(moved)) or 0)


Compute = Callable[[AsyncSession, date], Awaitable[float]]
#: Indicators the node measures itself (slug -> how), offered as "compute now".
COMPUTED: dict[str, Compute] = {PARTICIPATION: participation_rate, ACTIVE_CIRCLES: active_circles}
COMPUTED_NOTE = "Calculé par le nœud"


async def compute_now(
    sessions: Sessions, config: InstanceConfig, account: Account, slug: str, today: date
) -> float:
    """Compute a computable indicator from the node's data and record it for today."""
    if slug not in COMPUTED:
        raise NoSuchIndicator(slug)
    async with sessions() as session:
        await ensure_facilitator(session, account)
        value = await COMPUTED[slug](session, today)
    await record_observation(sessions, config, account, slug, (today, value, COMPUTED_NOTE))
    return value


# --- what the pages read ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndicatorView:
    """An indicator with its observations (oldest first), its trend and its target's state."""

    indicator: Indicator
    observations: list[Observation]
    trend: Trend | None
    reached: bool | None
    computable: bool

    @property
    def latest(self) -> Observation | None:
        """The most recent observation, if any."""
        return self.observations[-1] if self.observations else None

    @property
    def points(self) -> list[tuple[date, float]]:
        """The series as the chart draws it."""
        return [(o.observed_on, o.value) for o in self.observations]


def _view(indicator: Indicator, observations: list[Observation]) -> IndicatorView:
    points = [(o.observed_on, o.value) for o in observations]
    latest = observations[-1].value if observations else None
    reached = (
        target_reached(latest, indicator.target, indicator.direction)
        if latest is not None
        else None
    )
    return IndicatorView(
        indicator,
        observations,
        trend(points, indicator.direction),
        reached,
        indicator.slug in COMPUTED,
    )


def _dashboard_order(indicators: list[Indicator]) -> list[Indicator]:
    """By theme in the order of THEMES, the defaults in their catalogue order, then the
    others by name."""
    themes = list(THEMES)
    defaults = [d.slug for d in DEFAULT_CATALOGUE]

    def place(indicator: Indicator) -> tuple[int, int, str]:
        theme = themes.index(indicator.theme) if indicator.theme in themes else len(themes)
        rank = defaults.index(indicator.slug) if indicator.slug in defaults else len(defaults)
        return theme, rank, indicator.name

    return sorted(indicators, key=place)


async def _observations(
    session: AsyncSession, indicators: list[Indicator]
) -> dict[str, list[Observation]]:
    """The observations of these indicators, oldest first, by indicator id."""
    by_indicator: dict[str, list[Observation]] = {i.id: [] for i in indicators}
    for observation in await session.scalars(
        select(Observation)
        .where(Observation.indicator_id.in_(list(by_indicator)))
        .order_by(Observation.observed_on)
    ):
        by_indicator[observation.indicator_id].append(observation)
    return by_indicator


async def dashboard(sessions: Sessions, config: InstanceConfig) -> list[IndicatorView]:
    """Every indicator of the catalogue (seeded on first use) with its observations, in the
    dashboard's order (_dashboard_order)."""
    async with sessions() as session:
        indicators = list(await session.scalars(select(Indicator)))
    if not indicators and await seed_default_catalogue(sessions, config):
        async with sessions() as session:  # seeded only the first time, not on every view
            indicators = list(await session.scalars(select(Indicator)))
    async with sessions() as session:
        by_indicator = await _observations(session, indicators)
    return [_view(i, by_indicator[i.id]) for i in _dashboard_order(indicators)]


async def drawable_indicators(sessions: Sessions, limit: int) -> list[IndicatorView]:
    """The first `limit` indicators of the dashboard's order with a series to draw (two
    observations or more), with their observations: what the home page shows, read
    without the observations of every other indicator (those grow with the years)."""
    async with sessions() as session:
        indicators = list(await session.scalars(select(Indicator)))
        counts = dict(
            (
                await session.execute(
                    select(Observation.indicator_id, func.count()).group_by(
                        Observation.indicator_id
                    )
                )
            ).all()
        )
        chosen = [i for i in _dashboard_order(indicators) if counts.get(i.id, 0) >= 2][:limit]
        by_indicator = await _observations(session, chosen)
    return [_view(i, by_indicator[i.id]) for i in chosen]


async def indicator_view(
    sessions: Sessions, config: InstanceConfig, slug: str
) -> IndicatorView | None:
    """One indicator and its observations, or None."""
    await seed_default_catalogue(sessions, config)
    async with sessions() as session:
        indicator = await session.scalar(select(Indicator).where(Indicator.slug == slug))
        if indicator is None:
            return None
        observations = await session.scalars(
            select(Observation)
            .where(Observation.indicator_id == indicator.id)
            .order_by(Observation.observed_on)
        )
        return _view(indicator, list(observations))


async def indicator_document(
    sessions: Sessions, config: InstanceConfig, slug: str
) -> dict[str, Any] | None:
    """The definition's Document, or None."""
    await seed_default_catalogue(sessions, config)
    async with sessions() as session:
        indicator = await session.scalar(select(Indicator).where(Indicator.slug == slug))
        return indicator_to_as(config, indicator) if indicator else None


async def observation_document(
    sessions: Sessions, config: InstanceConfig, slug: str, day: date
) -> dict[str, Any] | None:
    """The Observation of an indicator on a day, or None."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(Indicator, Observation)
                .join(Observation, Observation.indicator_id == Indicator.id)
                .where(Indicator.slug == slug, Observation.observed_on == day)
            )
        ).first()
        return observation_to_as(config, row[0], row[1]) if row else None


def territory_today(config: InstanceConfig) -> date:
    """Today on the territory's clock: the latest day an observation may be dated."""
    return today(config.territory.zone)
