"""Finding more territories without a central directory: the actors the followed territories
follow, and the territories whose experiments they replicate. Found ones are proposed to the
coordinator's admin, never followed by themselves."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from federation.http import FetchError
from node.convert.urls import actor_id
from node.services.federation.following import territory_actor
from node.services.federation.remote_actors import LookupFailed
from node.services.runtime import Runtime
from node.storage.models import CoordinationEntry, DiscoveredTerritory, Follow
from protocols.activitystreams import as_list, id_of, ids_of, origin_of
from protocols.links import is_web_url

#: at most this many documents fetched in one discovery run
MAX_FETCHES = 50
TERRITORY_TYPES = ("Group", "Organization")


async def _fetch(runtime: Runtime, url: str) -> dict[str, Any] | None:
    try:
        return await runtime.client.fetch_document(url, await runtime.signers.instance_signer())
    except FetchError:
        return None


async def _following_of(runtime: Runtime, actor_uri: str, budget: list[int]) -> list[str]:
    """The actors a territory follows, from the first page of its `following` collection."""
    try:
        actor = await runtime.remote.last_known(actor_uri)
    except LookupFailed:
        return []
    document = json.loads(actor.raw)
    url = id_of(document.get("following"))
    if not url or not is_web_url(url) or budget[0] <= 0:
        return []
    budget[0] -= 1
    collection = await _fetch(runtime, url)
    page: Any = collection.get("first") if collection else None
    if isinstance(page, str) and budget[0] > 0:
        budget[0] -= 1
        page = await _fetch(runtime, page)
    items = as_list(page.get("orderedItems", page.get("items"))) if isinstance(page, dict) else []
    return [uri for item in items[:200] if (uri := id_of(item)) and is_web_url(uri)]


async def _publisher_of(runtime: Runtime, experiment_uri: str, budget: list[int]) -> str | None:
    """The territory that published an experiment (a replicated original)."""
    if budget[0] <= 0:
        return None
    budget[0] -= 1
    document = await _fetch(runtime, experiment_uri)
    publisher = next(iter(ids_of(document.get("attributedTo"))), None) if document else None
    if publisher and origin_of(publisher) == origin_of(experiment_uri):
        return publisher
    return None


async def discover(runtime: Runtime) -> list[str]:
    """Look for territories through the followed ones; returns those newly proposed."""
    async with runtime.sessions() as session:
        me = actor_id(runtime.config, await territory_actor(session))
        followed = set(
            await session.scalars(select(Follow.followed_uri).where(Follow.follower_uri == me))
        )
        known = set(await session.scalars(select(DiscoveredTerritory.uri)))
        derived = [
            json.loads(d) for d in await session.scalars(select(CoordinationEntry.derived_from))
        ]
    budget = [MAX_FETCHES]
    candidates: dict[str, str] = {}
    for territory in sorted(followed):
        for uri in await _following_of(runtime, territory, budget):
            candidates.setdefault(uri, territory)
    indexed_origins = {origin_of(uri) for uri in followed}
    for original in sorted({uri for group in derived for uri in group}):
        if origin_of(original) in indexed_origins:
            continue
        publisher = await _publisher_of(runtime, original, budget)
        if publisher:
            candidates.setdefault(publisher, original)
    proposed = []
    for uri, via in sorted(candidates.items())[:MAX_FETCHES]:
        if uri in followed or uri in known or uri == me:
            continue
        try:
            actor = await runtime.remote.get_actor(uri)
        except LookupFailed:
            continue
        if actor.type not in TERRITORY_TYPES:
            continue
        async with runtime.sessions.begin() as session:
            session.add(DiscoveredTerritory(uri=uri, found_via=via))
        proposed.append(uri)
    return proposed


async def proposals(runtime: Runtime) -> list[DiscoveredTerritory]:
    """Territories waiting for the admin's decision, oldest first."""
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(DiscoveredTerritory)
            .where(DiscoveredTerritory.state == "proposed")
            .order_by(DiscoveredTerritory.found_at, DiscoveredTerritory.uri)
        )
        return list(rows)


async def dismiss(runtime: Runtime, uri: str) -> None:
    """Set a proposed territory aside (it is not proposed again)."""
    async with runtime.sessions.begin() as session:
        found = await session.get(DiscoveredTerritory, uri)
        if found is not None:
            found.state = "dismissed"
