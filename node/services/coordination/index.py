"""The coordinator's index: each experiment, evaluation, proposal and offer of a followed
territory whose actor is indexable (FEP-5feb), as plain text and facts, kept current as the
inbox stores, updates and deletes the objects; `reindex` rebuilds it from what is stored."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from instance_config import InstanceConfig, Role
from node.convert.experiments import (
    evaluation_from_as,
    experiment_from_as,
    indicator_changes_from_as,
)
from node.services.coordination.search import fold
from node.services.federation.remote_objects import status_line_of, title_of
from node.services.runtime import Runtime
from node.storage.models import CoordinationEntry, RemoteActor, RemoteObject
from protocols.html import html_to_text

#: Maillage classes indexed, and the kind each becomes (decisions are not indexed)
KINDS = {
    "tc:Experiment": "experiment",
    "tc:Evaluation": "evaluation",
    "tc:Proposal": "proposal",
    "vf:Proposal": "offer",
}
MAX_BODY = 20_000


def is_coordinator(config: InstanceConfig) -> bool:
    """Whether the node plays the coordinator role."""
    return config.node.role == Role.COORDINATOR


def actor_is_indexable(actor: RemoteActor | None) -> bool:
    """FEP-5feb: only an actor whose document says `indexable: true` is indexed."""
    if actor is None:
        return False
    try:
        document = json.loads(actor.raw)
    except ValueError:
        return False
    return isinstance(document, dict) and document.get("indexable") is True


def _plain(value: Any) -> str:
    return html_to_text(value).strip() if isinstance(value, str) else ""


def entry_values(
    row: RemoteObject, document: dict[str, Any], territory_name: str
) -> dict[str, Any] | None:
    """What the index keeps of a stored object, or None for kinds it does not index."""
    kind = KINDS.get(row.kind)
    if kind is None:
        return None
    values: dict[str, Any] = {
        "uri": row.uri,
        "kind": kind,
        "territory_uri": row.actor_uri,
        "territory_name": territory_name[:2048],
        "title": title_of(document)[:2048],
        "theme": _plain(document.get("theme"))[:64],
        "state": row.state[:32],
        "outcome": "",
        "evaluates": None,
        "derived_from": "[]",
        "indicators": "[]",
        "url": row.url or row.uri,
        "published": row.published,
    }
    texts = [status_line_of(document), _plain(document.get("content"))]
    if kind == "experiment":
        experiment = experiment_from_as(document)
        texts.append(experiment.hypothesis)
        values["theme"] = experiment.theme[:64]
        values["derived_from"] = json.dumps(sorted(experiment.derived_from))
        values["indicators"] = json.dumps([asdict(c) for c in indicator_changes_from_as(document)])
    elif kind == "evaluation":
        evaluation = evaluation_from_as(document)
        if evaluation is not None:
            values["evaluates"], values["outcome"] = evaluation
        texts.append(_plain(document.get("lessons")))
    values["body"] = "\n".join(t for t in texts if t)[:MAX_BODY]
    values["folded"] = fold(f"{values['title']}\n{values['body']}")
    return values


async def index_object(runtime: Runtime, session: AsyncSession, row: RemoteObject) -> bool:
    """Index (or re-index) one stored object on a coordinator; False when it is not indexed
    (another role, a kind not indexed, a deleted object or an actor that is not indexable)."""
    if not is_coordinator(runtime.config):
        return False
    actor = (
        await session.scalars(select(RemoteActor).where(RemoteActor.uri == row.actor_uri))
    ).first()
    values = None
    if not row.deleted and actor_is_indexable(actor):
        values = entry_values(row, json.loads(row.raw), actor.name if actor else "")
    existing = (
        await session.scalars(select(CoordinationEntry).where(CoordinationEntry.uri == row.uri))
    ).first()
    if values is None:
        if existing is not None:
            await session.delete(existing)
        return False
    if values["kind"] == "evaluation" and values["evaluates"]:
        values["theme"] = await _theme_of(session, values["evaluates"])
    if existing is None:
        session.add(CoordinationEntry(**values))
    else:
        for key, value in values.items():
            setattr(existing, key, value)
    if values["kind"] == "experiment":  # its evaluations take its theme
        await session.execute(
            update(CoordinationEntry)
            .where(CoordinationEntry.evaluates == row.uri)
            .values(theme=values["theme"])
        )
    await session.flush()
    return True


async def _theme_of(session: AsyncSession, experiment_uri: str) -> str:
    theme = await session.scalar(
        select(CoordinationEntry.theme).where(CoordinationEntry.uri == experiment_uri)
    )
    return theme or ""


async def unindex(runtime: Runtime, session: AsyncSession, uri: str) -> None:
    """Drop an object its publisher deleted from the index."""
    if is_coordinator(runtime.config):
        await session.execute(delete(CoordinationEntry).where(CoordinationEntry.uri == uri))


async def reindex(runtime: Runtime) -> int:
    """Rebuild the index from every stored object (after switching the role on); returns how
    many entries it holds."""
    async with runtime.sessions.begin() as session:
        await session.execute(delete(CoordinationEntry))
        rows = list(
            await session.scalars(
                select(RemoteObject)
                .where(RemoteObject.deleted.is_(False))
                .order_by(RemoteObject.kind != "tc:Experiment", RemoteObject.published)
            )
        )
        indexed = 0
        for row in rows:
            indexed += await index_object(runtime, session, row)
    return indexed
