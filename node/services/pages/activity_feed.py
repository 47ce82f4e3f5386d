"""The territory's public activity, newest first: what was published (needs, proposals,
decisions, experiments, evaluations, offers, announcements) and every state change of the
visible history. The home page's timeline and the Atom feed both read it from here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.convert.experiments import STATE_LABELS as EXPERIMENT_STATE_LABELS
from node.convert.needs import NEED_STATE_LABELS
from node.convert.objects import territory_uri
from node.convert.offers import PURPOSE_LABELS
from node.convert.offers import STATE_LABELS as OFFER_STATES
from node.convert.proposals import PROPOSAL_STATE_LABELS
from node.services.runtime import Runtime
from node.storage.models import (
    Decision,
    Evaluation,
    Experiment,
    Need,
    Note,
    Offer,
    Proposal,
    StateChange,
)
from protocols.html import stored_html_to_text, text_to_html

FEED_SIZE = 50

#: What each kind of object is called (French; pages translate with `_()`).
KIND_LABELS = {
    "need": "Besoin",
    "proposal": "Proposition",
    "decision": "Décision",
    "experiment": "Expérimentation",
    "evaluation": "Évaluation",
    "announcement": "Annonce",
    **PURPOSE_LABELS,
}

#: What a step of the history that kept the object's state did, by kind, said as a person
#: would: an accepted amendment rewrites a proposal's text (participation/proposals.py),
#: a need merged into another one joins it
#: (participation/needs.py).
UNCHANGED_STATE_EVENTS = {
    "proposal": "texte modifié par un amendement accepté",
    "need": "un besoin semblable y a été fusionné",
}
#: ... and for any other kind.
UPDATED = "mise à jour"

#: State tokens of each kind as French labels: the pages' own tables, and the timeline's
#: wording where it differs on purpose (a decision "ouverte au vote", an outcome spelt out).
STATE_LABELS: dict[str, dict[str, str]] = {
    # a need's first state reads "soumis" in the timeline ("à trier" on the needs pages)
    "need": {**NEED_STATE_LABELS, "submitted": "soumis"},
    "proposal": PROPOSAL_STATE_LABELS,
    "decision": {"scheduled": "programmée", "open": "ouverte au vote", "closed": "close"},
    "experiment": EXPERIMENT_STATE_LABELS,
    "evaluation": {
        "success": "réussite",
        "partial": "réussite partielle",
        "failure": "échec",
        "inconclusive": "non concluante",
    },
    "offer": OFFER_STATES,
}


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    """One thing that happened: a publication or a state change of a public object."""

    #: the object's id (also its page): the Atom entry's id and link
    uri: str
    #: need, proposal, decision, experiment, evaluation, offer, announcement
    kind: str
    #: French label of the kind ("Besoin", "Offre", "Demande"...)
    kind_label: str
    #: the object's title, plain text
    title: str
    #: French label of what happened: the new state ("en cours"), what a change that kept
    #: the state did, an evaluation's outcome; "" for a publication (the kind says it)
    event: str
    #: French label of the state before a change of state, else ""
    previous: str
    #: the object's text as safe HTML
    content_html: str
    at: datetime


@dataclass(frozen=True, slots=True)
class _Subject:
    """A public object as the timeline shows it."""

    uri: str
    kind: str
    kind_label: str
    title: str
    content_html: str
    published: datetime
    #: what its publication says beyond its kind: "", or the evaluation's outcome
    published_event: str = ""


def state_label(kind: str, state: str) -> str:
    """The French label of a state of a kind of object (the token when unknown).

    >>> state_label("experiment", "running"), state_label("need", "odd")
    ('en cours', 'odd')
    """
    return STATE_LABELS.get(kind, {}).get(state, state)


def change_event(kind: str, before: str, after: str) -> tuple[str, str]:
    """What a step of an object's history did, as (event, previous state) labels: the new
    state and the old one, or, when the state stayed the same, what happened and no old
    state (never "brouillon → brouillon").

    >>> change_event("need", "submitted", "in_circle")
    ('confié à un cercle', 'soumis')
    >>> change_event("proposal", "draft", "draft")
    ('texte modifié par un amendement accepté', '')
    >>> change_event("offer", "open", "open")
    ('mise à jour', '')
    """
    if before == after:
        return UNCHANGED_STATE_EVENTS.get(kind, UPDATED), ""
    return state_label(kind, after), state_label(kind, before)


def _subject(
    row: Any, kind: str, title: str, text: str, published: datetime, label: str = ""
) -> _Subject:
    """A local object whose text is plain (written by a resident)."""
    return _Subject(
        uri=row.uri,
        kind=kind,
        kind_label=label or KIND_LABELS[kind],
        title=title,
        content_html=text_to_html(text),
        published=published,
    )


def _need(row: Need) -> _Subject:
    return _subject(row, "need", row.title, row.text, row.created_at)


def _proposal(row: Proposal) -> _Subject:
    return _subject(row, "proposal", row.title, row.summary or row.text, row.created_at)


def _decision(row: Decision) -> _Subject:
    return _subject(row, "decision", row.question, row.question, row.created_at)


def _experiment(row: Experiment) -> _Subject:
    return _subject(row, "experiment", row.title, row.hypothesis, row.created_at)


def _offer(row: Offer) -> _Subject:
    label = KIND_LABELS.get(row.purpose, KIND_LABELS["offer"])
    return _subject(row, "offer", row.title, row.text, row.created_at, label)


def _announcement(row: Note) -> _Subject:
    text = stored_html_to_text(row.content).replace("\n", " ")
    title = text if len(text) <= 80 else text[:79].rstrip() + "…"
    return _Subject(
        uri=row.uri,
        kind="announcement",
        kind_label=KIND_LABELS["announcement"],
        title=title,
        content_html=row.content,
        published=row.published,
    )


@dataclass(frozen=True, slots=True)
class _Source:
    """Where one kind of object is read from."""

    model: Any
    published: Any
    convert: Callable[[Any], _Subject]


_SOURCES = (
    _Source(Need, Need.created_at, _need),
    _Source(Proposal, Proposal.created_at, _proposal),
    _Source(Decision, Decision.created_at, _decision),
    _Source(Experiment, Experiment.created_at, _experiment),
    _Source(Offer, Offer.created_at, _offer),
)


async def _rows(session: AsyncSession, source: _Source, where: Any, limit: int) -> list[_Subject]:
    rows = await session.scalars(
        select(source.model).where(where).order_by(source.published.desc()).limit(limit)
    )
    return [source.convert(row) for row in rows]


async def _evaluations(session: AsyncSession, where: Any, limit: int) -> list[_Subject]:
    rows = await session.execute(
        select(Evaluation, Experiment.title)
        .join(Experiment, Experiment.id == Evaluation.experiment_id)
        .where(where)
        .order_by(Evaluation.published_at.desc())
        .limit(limit)
    )
    return [
        _Subject(
            uri=evaluation.uri,
            kind="evaluation",
            kind_label=KIND_LABELS["evaluation"],
            title=title,
            content_html=text_to_html(evaluation.lessons),
            published=evaluation.published_at,
            published_event=state_label("evaluation", evaluation.outcome),
        )
        for evaluation, title in rows
    ]


async def _announcements(
    session: AsyncSession, territory: str, where: Any, limit: int
) -> list[_Subject]:
    rows = await session.scalars(
        select(Note)
        .where(Note.local, Note.author_uri == territory, Note.in_reply_to.is_(None))
        .where(Note.deleted_at.is_(None), Note.visibility == "public", where)
        .order_by(Note.published.desc())
        .limit(limit)
    )
    return [_announcement(row) for row in rows]


async def _subjects(
    session: AsyncSession, territory: str, limit: int, uris: Sequence[str] | None = None
) -> list[_Subject]:
    """The newest public objects of every kind, or (with `uris`) those objects."""
    found: list[_Subject] = []
    for source in _SOURCES:
        where = source.model.uri.in_(uris) if uris is not None else true()
        found += await _rows(session, source, where, limit)
    found += await _evaluations(
        session, Evaluation.uri.in_(uris) if uris is not None else true(), limit
    )
    found += await _announcements(
        session, territory, Note.uri.in_(uris) if uris is not None else true(), limit
    )
    return found


async def recent_activity(runtime: Runtime, limit: int = FEED_SIZE) -> list[ActivityEntry]:
    """The territory's latest public activity, newest first: publications and state changes."""
    return await activity_of(runtime.sessions, territory_uri(runtime.config), limit)


async def activity_of(
    sessions: async_sessionmaker[AsyncSession], territory: str, limit: int = FEED_SIZE
) -> list[ActivityEntry]:
    """`recent_activity` for a territory actor's id and a session factory."""
    async with sessions() as session:
        subjects = {s.uri: s for s in await _subjects(session, territory, limit)}
        changes = list(
            await session.scalars(
                select(StateChange)
                .where(StateChange.from_state.is_not(None))
                .order_by(StateChange.at.desc(), StateChange.id.desc())
                .limit(limit)
            )
        )
        missing = sorted({c.object_uri for c in changes} - subjects.keys())
        if missing:
            subjects |= {s.uri: s for s in await _subjects(session, territory, limit, missing)}
    entries = [_entry(s, s.published_event, "", s.published) for s in subjects.values()]
    for change in changes:
        subject = subjects.get(change.object_uri)
        if subject is None:  # amendments and other objects the timeline does not show
            continue
        event, before = change_event(subject.kind, change.from_state or "", change.to_state)
        entries.append(_entry(subject, event, before, change.at))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def _entry(subject: _Subject, event: str, previous: str, at: datetime) -> ActivityEntry:
    return ActivityEntry(
        uri=subject.uri,
        kind=subject.kind,
        kind_label=subject.kind_label,
        title=subject.title,
        event=event,
        previous=previous,
        content_html=subject.content_html,
        at=at,
    )


def latest_per_object(entries: Sequence[ActivityEntry]) -> list[ActivityEntry]:
    """One entry per object, its newest (Atom: an entry is an object, `updated` its last
    change), keeping the order."""
    seen: set[str] = set()
    latest = []
    for entry in entries:
        if entry.uri not in seen:
            seen.add(entry.uri)
            latest.append(entry)
    return latest
