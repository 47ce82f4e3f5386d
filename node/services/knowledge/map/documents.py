"""The map's objects for peers (issue item 4): the territory's `places`, `map-actors` and
`flows` collections (registered in node/services/knowledge/data_collections.py) and each
object's own document, served at its id. Read by pulling; never pushed to followers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from instance_config import InstanceConfig
from node.convert.activities import strip_context
from node.convert.mesh import flow_to_as, map_actor_to_as, place_to_as
from node.services.knowledge.map.records import Sessions
from node.services.knowledge.map.rows import MESH_MODELS, endpoints_of
from node.services.pages.timeline import PAGE_SIZE
from node.storage.models import Flow, MapActor, Place


async def _page_of(
    session: AsyncSession, model: type[Place] | type[MapActor] | type[Flow], page: int | None
) -> tuple[int, list[Any]]:
    """The collection's size and, for a page, its rows, oldest first (stable pages)."""
    total = await session.scalar(select(func.count()).select_from(model)) or 0
    if page is None:
        return total, []
    rows = await session.scalars(
        select(model)
        .order_by(model.created_at, model.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return total, list(rows)


async def places_page(
    sessions: Sessions, config: InstanceConfig, page: int | None
) -> tuple[int, list[dict[str, Any]]]:
    """The territory's `places` collection: `Place` documents."""
    async with sessions() as session:
        total, rows = await _page_of(session, Place, page)
    return total, [strip_context(place_to_as(config, place)) for place in rows]


async def map_actors_page(
    sessions: Sessions, config: InstanceConfig, page: int | None
) -> tuple[int, list[dict[str, Any]]]:
    """The territory's `map-actors` collection: `Profile` documents."""
    async with sessions() as session:
        total, rows = await _page_of(session, MapActor, page)
        uris = await _uris(session, Place, {a.place_id for a in rows if a.place_id})
    return total, [
        strip_context(map_actor_to_as(config, a, uris.get(a.place_id or ""))) for a in rows
    ]


async def flows_page(
    sessions: Sessions, config: InstanceConfig, page: int | None
) -> tuple[int, list[dict[str, Any]]]:
    """The territory's `flows` collection: `Relationship` documents."""
    async with sessions() as session:
        total, rows = await _page_of(session, Flow, page)
        uris = await _endpoint_uris(session, rows)
    documents = []
    for flow in rows:
        (_, source), (_, target) = endpoints_of(flow)
        documents.append(strip_context(flow_to_as(config, flow, uris[source], uris[target])))
    return total, documents


async def _uris(
    session: AsyncSession, model: type[Place] | type[MapActor], ids: set[str]
) -> dict[str, str]:
    """id -> URI of some places or actors."""
    if not ids:
        return {}
    rows = await session.execute(select(model.id, model.uri).where(model.id.in_(ids)))
    return {object_id: uri for object_id, uri in rows}


async def _endpoint_uris(session: AsyncSession, flows: list[Flow]) -> dict[str, str]:
    """id -> URI of every source and target of the flows (two queries)."""
    wanted: dict[str, set[str]] = {"place": set(), "actor": set()}
    for flow in flows:
        for kind, object_id in endpoints_of(flow):
            wanted[kind].add(object_id)
    return await _uris(session, Place, wanted["place"]) | await _uris(
        session, MapActor, wanted["actor"]
    )


async def object_document(
    sessions: Sessions, config: InstanceConfig, kind: str, object_id: str
) -> dict[str, Any] | None:
    """The ActivityPub document of a place, map actor or flow served at its id, or None."""
    async with sessions() as session:
        found = await session.get(MESH_MODELS[kind], object_id)
        if found is None:
            return None
        if isinstance(found, Place):
            return place_to_as(config, found)
        if isinstance(found, MapActor):
            uris = await _uris(session, Place, {found.place_id} if found.place_id else set())
            return map_actor_to_as(config, found, uris.get(found.place_id or ""))
        if isinstance(found, Flow):
            uris = await _endpoint_uris(session, [found])
            (_, source), (_, target) = endpoints_of(found)
            return flow_to_as(config, found, uris[source], uris[target])
        return None
