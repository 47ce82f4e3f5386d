"""The territorial mesh (issue "territorial knowledge", items 1 and 4): facilitators create,
edit and delete places, map actors and flows; the map reads everything at once
(`mesh_snapshot`); peers read the territory's `places`, `map-actors` and `flows` collections.

Each change is one transaction and one step of the object's visible history. Nothing here is
pushed to followers: the objects are data, pulled from the collections.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.domain.forms import FormInvalid
from node.services.knowledge.map.build import (
    fill_actor,
    fill_flow,
    fill_place,
    new_actor,
    new_flow,
    new_place,
)
from node.services.knowledge.map.rows import (
    MESH_MODELS,
    MeshIndex,
    endpoints_of,
    flow_key,
    load_index,
    read_actor,
    read_flow,
    read_place,
)
from node.services.participation.circles import can_facilitate
from node.services.participation.history import record_change
from node.services.participation.needs import author_name
from node.storage.models import Account, Flow, MapActor, Place

Sessions = async_sessionmaker[AsyncSession]
Row = TypeVar("Row", bound=Place | MapActor | Flow)

FACILITATORS_ONLY = (
    "La carte du territoire est tenue par ses facilitateurs, facilitatrices et administrateurs."
)
#: the history steps of the map's objects
CREATED, UPDATED, DELETED = "created", "updated", "deleted"


class MeshRefused(PermissionError):
    """A change of the map by someone who may not make it (a 403 with this message)."""


class MeshNotFound(LookupError):
    """No place, actor or flow has this id (a 404)."""


@dataclass(frozen=True, slots=True)
class PlaceView:
    """A place as the map and the lists show it; `geometry` is an area's GeoJSON geometry."""

    id: str
    uri: str
    name: str
    kind: str
    latitude: float | None
    longitude: float | None
    geometry: dict[str, Any] | None
    address: str
    description: str


@dataclass(frozen=True, slots=True)
class ActorView:
    """A map actor, with its place's name and coordinates when it has one."""

    id: str
    uri: str
    name: str
    kind: str
    description: str
    website: str
    place_id: str | None
    place_name: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A flow's source or target: a place, or an actor (located at its place, if any)."""

    type: str
    id: str
    uri: str
    name: str
    kind: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True, slots=True)
class FlowView:
    """A flow with its resolved endpoints."""

    id: str
    uri: str
    kind: str
    label: str
    source: Endpoint
    target: Endpoint
    quantity: float
    unit: str
    period: str
    period_start: date | None
    period_end: date | None


@dataclass(frozen=True, slots=True)
class MeshSnapshot:
    """Everything the map draws: places and actors by name, flows by kind and label."""

    places: tuple[PlaceView, ...]
    actors: tuple[ActorView, ...]
    flows: tuple[FlowView, ...]

    def place(self, place_id: str) -> PlaceView | None:
        """One place, or None."""
        return next((p for p in self.places if p.id == place_id), None)

    def actor(self, actor_id: str) -> ActorView | None:
        """One actor, or None."""
        return next((a for a in self.actors if a.id == actor_id), None)

    def flow(self, flow_id: str) -> FlowView | None:
        """One flow, or None."""
        return next((f for f in self.flows if f.id == flow_id), None)

    def flows_of(self, endpoint_id: str) -> tuple[FlowView, ...]:
        """The flows that start or end at a place or an actor."""
        return tuple(f for f in self.flows if endpoint_id in (f.source.id, f.target.id))


def _area(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        geometry = json.loads(text)
    except json.JSONDecodeError:
        return None
    return geometry if isinstance(geometry, dict) else None


def _sort_key(name: str) -> str:
    """Alphabetical order as French readers expect it: accents and case ignored."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


async def mesh_snapshot(sessions: Sessions) -> MeshSnapshot:
    """All places, actors and flows of the territory, flows with their endpoints'
    coordinates (an actor's are its place's), read in one session."""
    async with sessions() as session:
        places = list(await session.scalars(select(Place)))
        actors = list(await session.scalars(select(MapActor)))
        flows = list(await session.scalars(select(Flow)))
    place_views = {
        p.id: PlaceView(
            p.id,
            p.uri,
            p.name,
            p.kind,
            p.latitude,
            p.longitude,
            _area(p.geometry),
            p.address,
            p.description,
        )
        for p in places
    }
    actor_views = {}
    for a in actors:
        where = place_views.get(a.place_id) if a.place_id else None
        actor_views[a.id] = ActorView(
            a.id,
            a.uri,
            a.name,
            a.kind,
            a.description,
            a.website,
            a.place_id,
            where.name if where else "",
            where.latitude if where else None,
            where.longitude if where else None,
        )

    def endpoint(kind: str, object_id: str) -> Endpoint:
        if kind == "place":
            p = place_views[object_id]
            return Endpoint("place", p.id, p.uri, p.name, p.kind, p.latitude, p.longitude)
        a = actor_views[object_id]
        return Endpoint("actor", a.id, a.uri, a.name, a.kind, a.latitude, a.longitude)

    flow_views = []
    for f in flows:
        (source_type, source_id), (target_type, target_id) = endpoints_of(f)
        flow_views.append(
            FlowView(
                f.id,
                f.uri,
                f.kind,
                f.label,
                endpoint(source_type, source_id),
                endpoint(target_type, target_id),
                f.quantity,
                f.unit,
                f.period,
                f.period_start,
                f.period_end,
            )
        )
    return MeshSnapshot(
        tuple(sorted(place_views.values(), key=lambda p: _sort_key(p.name))),
        tuple(sorted(actor_views.values(), key=lambda a: _sort_key(a.name))),
        tuple(sorted(flow_views, key=lambda f: (f.kind, _sort_key(f.label), f.id))),
    )


async def may_edit_mesh(sessions: Sessions, account: Account | None) -> bool:
    """Whether the account keeps the map (facilitators and admins of the node)."""
    if account is None:
        return False
    async with sessions() as session:
        return await can_facilitate(session, account, None)


async def require_map_keeper(session: AsyncSession, account: Account) -> str:
    """The name the history shows for the account; MeshRefused if it may not edit the map."""
    if not await can_facilitate(session, account, None):
        raise MeshRefused(FACILITATORS_ONLY)
    return await author_name(session, account.id)


# -- the facilitators' forms ----------------------------------------------------------------


async def _get(session: AsyncSession, model: type[Row], object_id: str) -> Row:
    found = await session.get(model, object_id)
    if found is None:
        raise MeshNotFound(object_id)
    return found


async def _check_account(sessions: Sessions, account: Account) -> None:
    """Refuse before reading a form, so that a refused person hears why, not what to fix."""
    async with sessions() as session:
        await require_map_keeper(session, account)


async def save_place(
    sessions: Sessions,
    config: InstanceConfig,
    account: Account,
    data: Mapping[str, Any],
    place_id: str | None = None,
) -> Place:
    """Create a place (no `place_id`) or edit one; MeshRefused, MeshNotFound, FormInvalid."""
    await _check_account(sessions, account)
    draft = read_place(data)
    async with sessions.begin() as session:
        by = await require_map_keeper(session, account)
        index = await load_index(session)
        errors = index.check_place(draft, place_id)
        if errors:
            raise FormInvalid(errors)
        if place_id is None:
            place = new_place(config, draft)
            session.add(place)
        else:
            place = await _get(session, Place, place_id)
            fill_place(place, draft)
        record_change(session, place.uri, None, UPDATED if place_id else CREATED, by)
    return place


async def save_actor(
    sessions: Sessions,
    config: InstanceConfig,
    account: Account,
    data: Mapping[str, Any],
    actor_id: str | None = None,
) -> MapActor:
    """Create a map actor (no `actor_id`) or edit one; its `place` field names a place by
    name, id or URI. MeshRefused, MeshNotFound, FormInvalid."""
    await _check_account(sessions, account)
    draft = read_actor(data)
    async with sessions.begin() as session:
        by = await require_map_keeper(session, account)
        index = await load_index(session)
        place_id, errors = index.check_actor(draft, actor_id)
        if errors:
            raise FormInvalid(errors)
        if actor_id is None:
            actor = new_actor(config, draft, place_id)
            session.add(actor)
        else:
            actor = await _get(session, MapActor, actor_id)
            fill_actor(actor, draft, place_id)
        record_change(session, actor.uri, None, UPDATED if actor_id else CREATED, by)
    return actor


async def save_flow(
    sessions: Sessions,
    config: InstanceConfig,
    account: Account,
    data: Mapping[str, Any],
    flow_id: str | None = None,
) -> Flow:
    """Create a flow (no `flow_id`) or edit one; its source and target are a place or an
    actor each, by name, id or URI. MeshRefused, MeshNotFound, FormInvalid."""
    await _check_account(sessions, account)
    draft = read_flow(data)
    async with sessions.begin() as session:
        by = await require_map_keeper(session, account)
        index: MeshIndex = await load_index(session)
        own_key = None
        if flow_id is not None:
            flow = await _get(session, Flow, flow_id)
            own_key = flow_key(*endpoints_of(flow), flow)
        source, target, errors = index.check_flow(draft, own_key)
        if errors or source is None or target is None:
            raise FormInvalid(errors)
        if flow_id is None:
            flow = new_flow(config, draft, source, target)
            session.add(flow)
        else:
            fill_flow(flow, draft, source, target)
        record_change(session, flow.uri, None, UPDATED if flow_id else CREATED, by)
    return flow


async def delete_object(sessions: Sessions, account: Account, kind: str, object_id: str) -> str:
    """Delete a place ("place"), map actor ("actor") or flow ("flow"); returns its name.
    A place's or actor's flows go with it; actors at a deleted place keep no place."""
    async with sessions.begin() as session:
        by = await require_map_keeper(session, account)
        found = await _get(session, MESH_MODELS[kind], object_id)
        name = found.label if isinstance(found, Flow) else found.name
        await session.delete(found)
        record_change(session, found.uri, None, DELETED, by, name)
    return str(name)
