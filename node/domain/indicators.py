"""Indicators beyond GDP: the default catalogue every territory starts from, and the rules
that read a series of observations (its trend, whether the target is reached).

Plain data and pure functions, no I/O. Texts are French (the pages translate them with the
English catalogue of locales/en/indicators.json).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

DIRECTIONS = ("increase", "decrease")
#: How people read a direction (the indicator is better when it goes this way).
DIRECTION_LABELS = {
    "increase": "mieux quand il monte",
    "decrease": "mieux quand il baisse",
}
#: How a trend reads, by its verdict (given the direction).
VERDICT_LABELS = {"better": "en progrès", "worse": "en recul", "stable": "stable"}
#: The arrow drawn before a trend, by its movement (hidden from screen readers).
ARROWS = {"up": "▲", "down": "▼", "flat": "▶"}
#: The themes of the default catalogue: what matters to inhabitants, rather than GDP.
THEMES = {
    "civic_vitality": "Vitalité civique",
    "local_autonomy": "Autonomie locale",
    "mutual_aid": "Entraide",
    "well_being": "Bien-être",
}
#: Slugs name an indicator in URLs and CSV files: lower-case words joined by hyphens.
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_MAX_LENGTH = 64
#: Words the indicator pages use for their own URLs (/indicators/new, /indicators/import...).
RESERVED_SLUGS = frozenset({"new", "import", "export"})


@dataclass(frozen=True, slots=True)
class IndicatorDefinition:
    """What an indicator measures, in which unit, which way is better, where the numbers come
    from and how they are obtained."""

    slug: str
    name: str
    unit: str
    direction: str
    theme: str
    source: str
    method: str


PARTICIPATION = "participation-decisions"
ACTIVE_CIRCLES = "active-circles"

DEFAULT_CATALOGUE: tuple[IndicatorDefinition, ...] = (
    IndicatorDefinition(
        PARTICIPATION,
        "Participation aux décisions",
        "%",
        "increase",
        "civic_vitality",
        "Votes enregistrés sur le nœud",
        "Part des habitant·es inscrit·es sur le nœud qui ont voté au moins une fois aux "
        "décisions ouvertes au cours des 12 derniers mois. Calculé par le nœud.",
    ),
    IndicatorDefinition(
        ACTIVE_CIRCLES,
        "Cercles actifs",
        "cercles",
        "increase",
        "civic_vitality",
        "Cercles du nœud",
        "Nombre de cercles dont un besoin, une proposition ou une expérimentation a avancé "
        "au cours des 6 derniers mois. Calculé par le nœud.",
    ),
    IndicatorDefinition(
        "assembly-attendance",
        "Présence aux assemblées",
        "personnes",
        "increase",
        "civic_vitality",
        "Feuilles de présence des assemblées publiques",
        "Nombre d'habitant·es présent·es aux assemblées publiques du mois (conseil "
        "municipal ouvert, assemblées de quartier, réunions de cercles ouvertes).",
    ),
    IndicatorDefinition(
        "local-food",
        "Autonomie alimentaire locale",
        "%",
        "increase",
        "local_autonomy",
        "Enquête auprès des ménages, des cantines et des commerces",
        "Part, en valeur, des achats alimentaires des ménages et de la restauration "
        "collective faits auprès de producteurs situés à moins de 50 km.",
    ),
    IndicatorDefinition(
        "local-energy",
        "Autonomie énergétique locale",
        "%",
        "increase",
        "local_autonomy",
        "Relevés des installations locales et du gestionnaire de réseau",
        "Énergie produite sur le territoire (solaire, bois, hydraulique, biogaz) rapportée "
        "à l'énergie consommée sur le territoire, sur les 12 derniers mois.",
    ),
    IndicatorDefinition(
        "volunteer-hours",
        "Heures de bénévolat",
        "heures/mois",
        "increase",
        "mutual_aid",
        "Déclarations des associations",
        "Total des heures de bénévolat déclarées par les associations et collectifs du "
        "territoire pour le mois.",
    ),
    IndicatorDefinition(
        "time-bank-hours",
        "Heures échangées à la banque de temps",
        "heures/mois",
        "increase",
        "mutual_aid",
        "Registre de la banque de temps",
        "Heures de service rendues entre habitant·es et créditées à la banque de temps "
        "pendant le mois.",
    ),
    IndicatorDefinition(
        "well-being",
        "Bien-être ressenti",
        "note sur 10",
        "increase",
        "well_being",
        "Questionnaire aux habitant·es",
        "Moyenne des réponses à « Dans l'ensemble, êtes-vous satisfait·e de la vie que "
        "vous menez actuellement ? », de 0 à 10 (question de l'Insee et de l'OCDE), "
        "au moins 100 répondant·es.",
    ),
    IndicatorDefinition(
        "felt-isolation",
        "Isolement ressenti",
        "% des répondant·es",
        "decrease",
        "well_being",
        "Questionnaire aux habitant·es",
        "Part des répondant·es qui se sentent seul·es « souvent » ou « tout le temps », "
        "au moins 100 répondant·es.",
    ),
)


def slug_problem(slug: str) -> str | None:
    """Why a slug cannot name an indicator (a French reason), or None when it can.

    >>> slug_problem("local-food") is None, slug_problem("Local food"), slug_problem("new")
    (True, 'Utilisez des minuscules, des chiffres et des tirets.', 'Ce nom court est réservé.')
    """
    if len(slug) > SLUG_MAX_LENGTH:
        return "Ce nom court est trop long."
    if not SLUG_PATTERN.fullmatch(slug):
        return "Utilisez des minuscules, des chiffres et des tirets."
    if slug in RESERVED_SLUGS:
        return "Ce nom court est réservé."
    return None


@dataclass(frozen=True, slots=True)
class Trend:
    """How an indicator moved: by how much since which day, and whether that is better."""

    change: float
    since: date
    #: up, down or flat
    movement: str
    #: better, worse or stable, given the indicator's direction
    verdict: str
    #: True when `since` is about a year before the latest value (else the previous value)
    yearly: bool


#: A change smaller than this share of the values' range counts as flat.
_FLAT = 0.01


def trend(series: Sequence[tuple[date, float]], direction: str) -> Trend | None:
    """The latest value against the one about a year earlier (within 45 days), or against the
    previous one when the series is younger than that; None with fewer than two values.

    >>> t = trend([(date(2024, 1, 1), 10.0), (date(2024, 6, 1), 11.0), (date(2025, 1, 1), 14.0)],
    ...           "increase")
    >>> (t.change, t.since.isoformat(), t.movement, t.verdict, t.yearly)
    (4.0, '2024-01-01', 'up', 'better', True)
    >>> trend([(date(2024, 1, 1), 10.0), (date(2024, 2, 1), 9.0)], "decrease").verdict
    'better'
    """
    ordered = sorted(series)
    if len(ordered) < 2:
        return None
    last_day, last_value = ordered[-1]
    earlier = [
        (abs((last_day - day).days - 365), day, value)
        for day, value in ordered[:-1]
        if abs((last_day - day).days - 365) <= 45
    ]
    if earlier:
        _, since, reference = min(earlier)
    else:
        since, reference = ordered[-2]
    change = last_value - reference
    values = [value for _, value in ordered]
    scale = max(max(values) - min(values), abs(last_value), 1e-9)
    if abs(change) <= _FLAT * scale:
        movement, verdict = "flat", "stable"
    else:
        movement = "up" if change > 0 else "down"
        verdict = "better" if (change > 0) == (direction == "increase") else "worse"
    return Trend(change, since, movement, verdict, bool(earlier))


def target_reached(latest: float, target: float | None, direction: str) -> bool | None:
    """Whether the latest value meets the target, given the direction; None without target.

    >>> target_reached(12, 10, "increase"), target_reached(12, 10, "decrease")
    (True, False)
    """
    if target is None:
        return None
    return latest >= target if direction == "increase" else latest <= target
