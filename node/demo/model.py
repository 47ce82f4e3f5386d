"""The shapes of the sample territory's content: plain, frozen data that `data.py` fills and
the fill modules read. Every moment is a number of days before the demo runs, so the sample
always reads as the last two years of the territory's life; people are named by a key.
The map and the indicators are the exception: they are files (`KnowledgeSample`), imported as
a facilitator would, and the observations carry their own dates.

New kinds of content get their own shape here and their own field in `Sample`, without
touching the others.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Territory:
    """What the territory is called and how it presents itself (maillage.toml)."""

    name: str
    description: str


@dataclass(frozen=True, slots=True)
class Person:
    """A sample resident: invited, joined, with a public presentation."""

    key: str
    #: the wanted handle (suffixed when taken)
    handle: str
    name: str
    joined_days_ago: float
    #: the invitation's note, as the issuer wrote it
    invited_as: str
    summary: str = ""
    #: resident or facilitator (the node's role)
    role: str = "resident"


@dataclass(frozen=True, slots=True)
class Membership:
    """Someone's place in a circle, since a day."""

    person: str
    role: str
    days_ago: float


@dataclass(frozen=True, slots=True)
class CircleSample:
    """A circle, who created it, and its members with their roles."""

    key: str
    slug: str
    name: str
    kind: str
    mandate: str
    created_by: str
    days_ago: float
    members: tuple[Membership, ...]


@dataclass(frozen=True, slots=True)
class Comment:
    """A resident's comment on a need or proposal, or reply to an offer."""

    author: str
    text: str
    days_ago: float


@dataclass(frozen=True, slots=True)
class Triage:
    """What a facilitator did with a need: assign (to `circle`), merge (into `into`) or
    answer (with `answer`)."""

    action: str
    by: str
    days_ago: float
    circle: str = ""
    into: str = ""
    answer: str = ""


@dataclass(frozen=True, slots=True)
class NeedSample:
    """A need, its supporters (each one day after the previous), comments and triage."""

    key: str
    author: str
    title: str
    text: str
    theme: str
    place: str
    days_ago: float
    supporters: tuple[str, ...] = ()
    comments: tuple[Comment, ...] = ()
    triage: Triage | None = None


@dataclass(frozen=True, slots=True)
class AmendmentSample:
    """An amendment: its new text, and the facilitator's decision if any (None: pending)."""

    author: str
    text: str
    rationale: str
    days_ago: float
    accepted_by: str = ""
    accepted_days_ago: float = 0.0
    note: str = ""


@dataclass(frozen=True, slots=True)
class Ballot:
    """One resident's vote."""

    person: str
    choice: str
    days_ago: float
    comment: str = ""


@dataclass(frozen=True, slots=True)
class DecisionSample:
    """A decision on a proposal: opened and closed on those days (a negative `closes_days_ago`
    is in the future: the decision is still open)."""

    question: str
    method: str
    quorum: float
    opened_by: str
    opens_days_ago: float
    closes_days_ago: float
    ballots: tuple[Ballot, ...]


@dataclass(frozen=True, slots=True)
class ProposalSample:
    """A proposal drafted in a circle from needs, then amended, deliberated, decided."""

    key: str
    circle: str
    author: str
    title: str
    summary: str
    text: str
    theme: str
    needs: tuple[str, ...]
    days_ago: float
    comments: tuple[Comment, ...] = ()
    amendments: tuple[AmendmentSample, ...] = ()
    #: when a facilitator of the circle put it in deliberation (None: stays a draft)
    deliberation: tuple[str, float] | None = None
    decision: DecisionSample | None = None


@dataclass(frozen=True, slots=True)
class Trend:
    """How an indicator's monthly values evolve: from `start` to `end` along a straight line
    or an S curve, with a seasonal swing (share of the value, highest in `peak_month`) and
    noise (share of the value); rounded to `digits` (negative: to tens, hundreds)."""

    start: float
    end: float
    shape: str = "s"
    seasonal: float = 0.0
    peak_month: int = 7
    noise: float = 0.05
    digits: int = 0


@dataclass(frozen=True, slots=True)
class IndicatorSample:
    """An indicator, and how its monthly measurements go (notes by month number)."""

    name: str
    unit: str
    baseline: float
    target: float
    direction: str
    trend: Trend
    notes: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class MilestoneSample:
    """A step, due and done so many days after the experiment's start (done None: to do)."""

    title: str
    due_after: int
    done_after: int | None = None


@dataclass(frozen=True, slots=True)
class EvaluationSample:
    """How a concluded experiment was evaluated."""

    by: str
    days_ago: float
    outcome: str
    lessons: str
    recommendation: str


@dataclass(frozen=True, slots=True)
class ExperimentSample:
    """An experiment from an adopted proposal: created, started, measured every month,
    possibly sent to evaluation and evaluated."""

    proposal: str
    facilitator: str
    title: str
    hypothesis: str
    created_days_ago: float
    starts_days_ago: int
    duration_days: int
    start_note: str
    indicators: tuple[IndicatorSample, ...]
    milestones: tuple[MilestoneSample, ...]
    progress: int
    #: how many monthly measurements (the first on the starting day)
    months_measured: int
    evaluating_days_ago: float | None = None
    evaluating_note: str = ""
    evaluation: EvaluationSample | None = None


@dataclass(frozen=True, slots=True)
class OfferSample:
    """An offer or request, its replies, and what its author did with it later."""

    author: str
    purpose: str
    kind: str
    title: str
    text: str
    days_ago: float
    place: str = ""
    quantity: float | None = None
    minimum_quantity: float | None = None
    unit: str = ""
    #: availability, in days from the demo's day (negative: in the past)
    available_from: int | None = None
    available_until: int | None = None
    replies: tuple[Comment, ...] = ()
    #: (taken or closed, days ago, note)
    outcome: tuple[str, float, str] | None = None


@dataclass(frozen=True, slots=True)
class Announcement:
    """A public note of the territory."""

    text: str
    days_ago: float


@dataclass(frozen=True, slots=True)
class KnowledgeSample:
    """The territory's map and indicators: the files a facilitator would give the import
    pages (/map/import, /indicators/import), kept in a folder of this package."""

    #: the folder of `node.demo` holding places.csv, places.geojson, actors.csv, flows.csv,
    #: boundary.geojson, indicators.csv and observations.csv
    folder: str
    #: who imports the map (places, areas, actors, flows), a facilitator
    map_by: str
    #: who imports the indicators' catalogue and observations, a facilitator
    indicators_by: str


@dataclass(frozen=True, slots=True)
class Sample:
    """The whole sample territory."""

    territory: Territory
    people: tuple[Person, ...]
    circles: tuple[CircleSample, ...]
    needs: tuple[NeedSample, ...]
    proposals: tuple[ProposalSample, ...]
    experiments: tuple[ExperimentSample, ...]
    offers: tuple[OfferSample, ...]
    announcements: tuple[Announcement, ...]
    knowledge: KnowledgeSample
    #: seed of the measurements' noise: the same sample every time
    seed: int = 2024
