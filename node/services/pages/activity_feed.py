"""The territory's public activity, newest first: what was published (needs, proposals,
decisions, experiments, evaluations, offers, announcements) and every state change of the
visible history. The home page's timeline and the Atom feed both read it from here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, literal_column, select, union_all
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
    #: its text: plain (a resident's, made HTML only if shown) or, with `is_html`, the
    #: stored HTML (sanitised when it was stored)
    text: str
    published: datetime
    #: what its publication says beyond its kind: "", or the evaluation's outcome
    published_event: str = ""
    is_html: bool = False

    @property
    def content_html(self) -> str:
        """Its text as safe HTML."""
        return self.text if self.is_html else text_to_html(self.text)


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


_NOTHING: Any = literal_column("''")
_COLUMNS = ("uri", "kind", "title", "text", "published", "detail")


def _row(kind: str, *columns: Any) -> Select[Any]:
    """The columns every kind gives the timeline, named alike: uri, kind, title, text,
    published, and a detail (an offer's purpose, an evaluation's outcome; else "")."""
    uri, title, text, published, detail = columns
    values = (uri, literal_column(f"'{kind}'"), title, text, published, detail)
    return select(*(value.label(name) for value, name in zip(values, _COLUMNS, strict=True)))


def _sources(territory: str) -> list[tuple[Select[Any], Any, Any]]:
    """(statement, uri column, published column) of each kind the timeline shows."""
    proposal_text = case((Proposal.summary != "", Proposal.summary), else_=Proposal.text)
    announcements = _row(
        "announcement", Note.uri, _NOTHING, Note.content, Note.published, _NOTHING
    ).where(Note.local, Note.author_uri == territory, Note.in_reply_to.is_(None))
    return [
        (
            _row("need", Need.uri, Need.title, Need.text, Need.created_at, _NOTHING),
            Need.uri,
            Need.created_at,
        ),
        (
            _row(
                "proposal",
                Proposal.uri,
                Proposal.title,
                proposal_text,
                Proposal.created_at,
                _NOTHING,
            ),
            Proposal.uri,
            Proposal.created_at,
        ),
        (
            _row(
                "decision",
                Decision.uri,
                Decision.question,
                Decision.question,
                Decision.created_at,
                _NOTHING,
            ),
            Decision.uri,
            Decision.created_at,
        ),
        (
            _row(
                "experiment",
                Experiment.uri,
                Experiment.title,
                Experiment.hypothesis,
                Experiment.created_at,
                _NOTHING,
            ),
            Experiment.uri,
            Experiment.created_at,
        ),
        (
            _row("offer", Offer.uri, Offer.title, Offer.text, Offer.created_at, Offer.purpose),
            Offer.uri,
            Offer.created_at,
        ),
        (
            _row(
                "evaluation",
                Evaluation.uri,
                Experiment.title,
                Evaluation.lessons,
                Evaluation.published_at,
                Evaluation.outcome,
            ).join(Experiment, Experiment.id == Evaluation.experiment_id),
            Evaluation.uri,
            Evaluation.published_at,
        ),
        (
            announcements.where(Note.deleted_at.is_(None), Note.visibility == "public"),
            Note.uri,
            Note.published,
        ),
    ]


def _subject(
    uri: str, kind: str, title: str, text: str, published: datetime, detail: str
) -> _Subject:
    """One row of the union as the timeline shows it."""
    if kind == "announcement":
        plain = stored_html_to_text(text).replace("\n", " ")
        title = plain if len(plain) <= 80 else plain[:79].rstrip() + "…"
        return _Subject(uri, kind, KIND_LABELS[kind], title, text, published, is_html=True)
    if kind == "offer":
        label = KIND_LABELS.get(detail, KIND_LABELS["offer"])
        return _Subject(uri, kind, label, title, text, published)
    event = state_label(kind, detail) if kind == "evaluation" else ""
    return _Subject(uri, kind, KIND_LABELS[kind], title, text, published, event)


async def _subjects(
    session: AsyncSession, territory: str, limit: int, uris: Sequence[str]
) -> list[_Subject]:
    """The `limit` newest public objects of each kind, and those named by `uris` (the
    objects of the latest state changes): one statement whatever the number of kinds."""
    parts = []
    for statement, uri, published in _sources(territory):
        parts.append(statement.order_by(published.desc()).limit(limit).subquery().select())
        if uris:
            parts.append(statement.where(uri.in_(uris)))
    return [_subject(*row) for row in await session.execute(union_all(*parts))]


async def recent_activity(runtime: Runtime, limit: int = FEED_SIZE) -> list[ActivityEntry]:
    """The territory's latest public activity, newest first: publications and state changes."""
    return await activity_of(runtime.sessions, territory_uri(runtime.config), limit)


async def activity_of(
    sessions: async_sessionmaker[AsyncSession], territory: str, limit: int = FEED_SIZE
) -> list[ActivityEntry]:
    """`recent_activity` for a territory actor's id and a session factory."""
    async with sessions() as session:
        changes = list(
            await session.scalars(
                select(StateChange)
                .where(StateChange.from_state.is_not(None))
                .order_by(StateChange.at.desc(), StateChange.id.desc())
                .limit(limit)
            )
        )
        changed = sorted({c.object_uri for c in changes})
        subjects = {s.uri: s for s in await _subjects(session, territory, limit, changed)}
    events = [(s.published, s, s.published_event, "") for s in subjects.values()]
    for change in changes:
        subject = subjects.get(change.object_uri)
        if subject is None:  # amendments and other objects the timeline does not show
            continue
        event, before = change_event(subject.kind, change.from_state or "", change.to_state)
        events.append((change.at, subject, event, before))
    events.sort(key=lambda event: event[0], reverse=True)
    # Only the entries kept get HTML, once per object: most subjects read are not shown.
    shown: dict[str, str] = {}

    def html_of(subject: _Subject) -> str:
        if subject.uri not in shown:
            shown[subject.uri] = subject.content_html
        return shown[subject.uri]

    return [
        ActivityEntry(
            uri=subject.uri,
            kind=subject.kind,
            kind_label=subject.kind_label,
            title=subject.title,
            event=event,
            previous=before,
            content_html=html_of(subject),
            at=at,
        )
        for at, subject, event, before in events[:limit]
    ]


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
