"""Replication across territories: adopting another territory's experiment, and learning
that ours were replicated and how that went.

On territory B, a facilitator adopts territory A's experiment: B's new experiment carries
`wasDerivedFrom` A's, its Create is copied to A's territory actor, and B sends A
`Add{object: B's experiment, target: A's experiment's replications}`. On A, `on_add` records
the replication; B's later evaluation reaches A and `on_remote_evaluation` notes its outcome.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.inbox.worker import Outcome
from node.convert.activities import make_activity
from node.convert.experiments import (
    OUTCOMES,
    evaluation_from_as,
    experiment_from_as,
    experiment_url,
    replications_url,
)
from node.convert.urls import actor_id
from node.domain.ids import new_id
from node.domain.participation import ExperimentState
from node.services.federation.following import territory_actor
from node.services.federation.outbox import publish
from node.services.federation.remote_actors import LookupFailed
from node.services.federation.remote_objects import RemoteObjectError, fetch_remote_object
from node.services.participation.experiments import add_indicators, publish_experiment
from node.services.participation.history import record_change
from node.services.participation.needs import (
    UNKNOWN_CIRCLE,
    ParticipationError,
    author_name,
    require_facilitator,
)
from node.services.runtime import Runtime
from node.storage.models import Account, Circle, Experiment, RemoteObject, Replication
from protocols.activitystreams import host_of, id_of, origin_of

EXPERIMENT_KIND = "tc:Experiment"


@dataclass(frozen=True, slots=True)
class AdoptionInput:
    """What B's facilitator fills in to adopt another territory's experiment."""

    url: str
    adaptations: str
    starts_on: date
    ends_on: date
    circle_id: str | None = None
    #: empty: the original's title
    title: str = ""


async def _remote_experiment(runtime: Runtime, url: str) -> RemoteObject:
    """The experiment at `url`: the copy this node holds (kept current by its publisher's
    Updates), fetched only when the node has none, so adopting works with the link down."""
    async with runtime.sessions() as session:
        row = (
            await session.scalars(
                select(RemoteObject).where(RemoteObject.uri == url, ~RemoteObject.deleted)
            )
        ).first()
    if row is None:
        try:
            row = await fetch_remote_object(runtime, url)
        except RemoteObjectError:
            raise ParticipationError(
                "Impossible de lire une expérimentation à cette adresse.", "url"
            ) from None
    if row.kind != EXPERIMENT_KIND:
        raise ParticipationError("Cette adresse n'est pas une expérimentation Maillage.", "url")
    return row


async def adopt_experiment(runtime: Runtime, account: Account, data: AdoptionInput) -> Experiment:
    """Create a local experiment derived from another territory's, and tell that territory."""
    config = runtime.config
    if data.url.startswith(config.node.base_url + "/"):
        raise ParticipationError("Cette expérimentation est déjà celle de ce territoire.", "url")
    async with runtime.sessions() as session:
        if data.circle_id and await session.get(Circle, data.circle_id) is None:
            raise ParticipationError(UNKNOWN_CIRCLE, "circle")
        await require_facilitator(session, account, data.circle_id)
    original = await _remote_experiment(runtime, data.url)  # remote calls: no transaction open
    try:
        origin = await runtime.remote.last_known(original.actor_uri)
    except LookupFailed:
        raise ParticipationError(
            "Le territoire d'origine ne répond pas ; réessayez plus tard.", "url"
        ) from None
    raw = json.loads(original.raw)
    copied = experiment_from_as(raw, config.territory.default_language)
    collection = id_of(raw.get("replications")) or ""
    if origin_of(collection) != origin_of(original.uri):
        collection = replications_url(original.uri)
    async with runtime.sessions.begin() as session:
        if await session.scalar(
            select(Experiment.id).where(Experiment.derived_from == original.uri)
        ):
            raise ParticipationError("Ce territoire réplique déjà cette expérimentation.", "url")
        identifier = new_id()
        experiment = Experiment(
            id=identifier,
            uri=experiment_url(config, identifier),
            circle_id=data.circle_id or None,
            title=data.title or copied.name or original.name[:200],
            hypothesis=copied.hypothesis,
            theme=copied.theme,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            derived_from=original.uri,
            adaptations=data.adaptations,
            created_by=account.id,
        )
        session.add(experiment)
        await session.flush()
        add_indicators(session, experiment, copied.indicators, 0)
        record_change(
            session,
            experiment.uri,
            None,
            ExperimentState.PROPOSED.value,
            await author_name(session, account.id),
            original.uri,
        )
        await publish_experiment(runtime, session, experiment, "Create")
        territory = await territory_actor(session)
        author = actor_id(config, territory)
        add = make_activity(config, "Add", author, experiment.uri, to=[origin.uri])
        add["target"] = collection
        await publish(
            session, territory.id, author, add, to_followers=False, recipients=[origin.uri]
        )
    runtime.wake_delivery()
    return experiment


async def on_add(runtime: Runtime, activity: dict[str, Any]) -> Outcome:
    """`Add{object: their experiment, target: our experiment's replications}` from another
    territory: record the replication."""
    actor = activity["actor"]
    target = id_of(activity.get("target"))
    replica_uri = id_of(activity.get("object"))
    prefix = f"{runtime.config.node.base_url}/experiments/"
    if not target or not target.startswith(prefix) or not target.endswith("/replications"):
        return Outcome.ignored("Add to no collection of ours")
    if replica_uri is None or origin_of(replica_uri) != origin_of(actor):
        return Outcome.ignored("the added experiment is not on the actor's server")
    experiment_uri = target.removesuffix("/replications")
    async with runtime.sessions() as session:
        experiment = (
            await session.scalars(select(Experiment).where(Experiment.uri == experiment_uri))
        ).first()
        replica = (
            await session.scalars(select(RemoteObject).where(RemoteObject.uri == replica_uri))
        ).first()
    if experiment is None:
        return Outcome.ignored("Add to the replications of no experiment of ours")
    if replica is None or replica.deleted:
        try:
            replica = await fetch_remote_object(runtime, replica_uri)
        except RemoteObjectError as exc:
            return Outcome.held(f"the replica cannot be read yet: {exc}")
    copied = experiment_from_as(json.loads(replica.raw))
    if (
        replica.kind != EXPERIMENT_KIND
        or replica.actor_uri != actor
        or experiment_uri not in copied.derived_from
    ):
        return Outcome.ignored("not an experiment of this territory derived from ours")
    try:
        territory = await runtime.remote.get_actor(actor)
        name = territory.name or territory.username
    except LookupFailed:
        name = host_of(actor)
    async with runtime.sessions.begin() as session:
        known = await session.scalar(
            select(Replication.id).where(
                Replication.experiment_id == experiment.id, Replication.replica_uri == replica_uri
            )
        )
        if known is not None:
            return Outcome.ignored("replication already recorded")
        row = Replication(
            experiment_id=experiment.id,
            replica_uri=replica_uri,
            territory_uri=actor,
            territory_name=name[:200],
        )
        if copied.evaluation:  # evaluated before we heard of it: use the copy we may have
            await _note_known_evaluation(session, row, copied.evaluation)
        session.add(row)
    return Outcome.applied("replication recorded")


async def _note_known_evaluation(
    session: AsyncSession, replication: Replication, evaluation_uri: str
) -> None:
    stored = (
        await session.scalars(select(RemoteObject).where(RemoteObject.uri == evaluation_uri))
    ).first()
    parsed = evaluation_from_as(json.loads(stored.raw)) if stored is not None else None
    if parsed is not None and parsed[0] == replication.replica_uri:
        replication.outcome, replication.evaluation_uri = parsed[1], evaluation_uri


async def on_remote_evaluation(session: AsyncSession, document: dict[str, Any]) -> None:
    """A received evaluation of an experiment that replicates one of ours: note its outcome."""
    parsed = evaluation_from_as(document)
    evaluation_uri = id_of(document)
    if parsed is None or evaluation_uri is None:
        return
    evaluated, outcome = parsed
    if origin_of(evaluated) != origin_of(evaluation_uri):
        return  # only the replica's own node evaluates it
    rows = await session.scalars(select(Replication).where(Replication.replica_uri == evaluated))
    for row in rows:
        row.outcome, row.evaluation_uri = outcome, evaluation_uri


@dataclass(frozen=True, slots=True)
class ReplicationSummary:
    """Where an experiment was replicated and how it went there."""

    rows: list[Replication]
    territories: int
    #: (outcome, count) for outcomes known, in OUTCOMES order
    outcomes: list[tuple[str, int]]


async def replications_of(session: AsyncSession, experiment_id: str) -> ReplicationSummary:
    """An experiment's replications, oldest first, with their count and outcomes."""
    rows = list(
        await session.scalars(
            select(Replication)
            .where(Replication.experiment_id == experiment_id)
            .order_by(Replication.added_at, Replication.id)
        )
    )
    counts = Counter(row.outcome for row in rows if row.outcome)
    return ReplicationSummary(
        rows=rows,
        territories=len({row.territory_uri for row in rows}),
        outcomes=[(outcome, counts[outcome]) for outcome in OUTCOMES if counts[outcome]],
    )
