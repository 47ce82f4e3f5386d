"""Local actors: the ActivityPub document or an HTML page at the same URL, and their collections."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.convert.actors import actor_to_as
from node.convert.circles import circle_actor_to_as, circle_page_path
from node.convert.collections import ordered_collection, ordered_collection_page
from node.convert.notes import tombstone
from node.convert.urls import ACTOR_COLLECTIONS, actor_id, collection_url, handle_of
from node.domain.actors import AS_TYPE, ActorKind
from node.services.federation.proofs import prove
from node.services.instance.directory import find_actor_of_kind, find_local_actor
from node.services.knowledge.data_collections import DATA_COLLECTIONS, data_collection
from node.services.pages.timeline import PAGE_SIZE, follow_page, outbox_page
from node.services.participation.circles import circle_of_actor
from node.storage.models import LocalActor
from node.web.keys import config_key, keyring_key, sessions_key
from node.web.negotiation import activity_response, wants_activitypub
from node.web.read_cache import DOCUMENT_CACHE_CONTROL, DOCUMENT_MAX_AGE, cached
from node.web.render import render
from protocols.html import text_to_html

routes = web.RouteTableDef()

ACTOR_GONE = "Ce compte a été supprimé par son titulaire."

_KIND_LABELS = {
    ActorKind.INSTANCE: "Compte du nœud",
    ActorKind.TERRITORY: "Territoire",
    ActorKind.CIRCLE: "Cercle",
    ActorKind.PERSON: "Membre",
}


async def _require_actor(request: web.Request) -> LocalActor:
    """The actor named by the URL: /actor is the instance actor, /actors/{name} the others."""
    sessions = request.app[sessions_key]
    name = request.match_info.get("name")
    if name is None:
        actor = await find_actor_of_kind(sessions, ActorKind.INSTANCE)
    else:
        actor = await find_local_actor(sessions, name)
        if actor is not None and actor.kind == ActorKind.INSTANCE:
            actor = None  # the instance actor lives at /actor only
    if actor is None:
        raise web.HTTPNotFound(text="no such actor on this node")
    return actor


def _gone(request: web.Request, actor: LocalActor) -> web.Response | None:
    """For a deleted actor, its 410 Gone answer (with a Tombstone for servers: Mastodon then
    forgets the account); None for the others."""
    if actor.deleted_at is None:
        return None
    if wants_activitypub(request):
        uri = actor_id(request.app[config_key], actor)
        document = tombstone(uri, AS_TYPE[ActorKind(actor.kind)], actor.deleted_at)
        return activity_response(document, status=410)
    return web.Response(status=410, text=ACTOR_GONE)


@routes.get("/actor")
@routes.get("/actors/{name}")
async def actor_get(request: web.Request) -> web.StreamResponse:
    """The actor as ActivityPub JSON for fediverse servers (kept until the database changes,
    with an ETag), as a page for browsers."""
    if wants_activitypub(request):
        return await cached(
            request,
            ("actor", request.path),
            lambda: _actor_answer(request),
            max_age=DOCUMENT_MAX_AGE,
            cache_control=DOCUMENT_CACHE_CONTROL,
        )
    return await _actor_answer(request)


async def _actor_answer(request: web.Request) -> web.StreamResponse:
    actor = await _require_actor(request)
    if (gone := _gone(request, actor)) is not None:
        return gone
    config = request.app[config_key]
    circle = None
    if actor.kind == ActorKind.CIRCLE:
        circle = await circle_of_actor(request.app[sessions_key], actor.id)
    if wants_activitypub(request):
        keys = request.app[keyring_key].keys_for(actor)
        if circle is not None:
            document = circle_actor_to_as(config, actor, circle, keys)
        else:
            document = actor_to_as(config, actor, keys)
        # self-proven (FEP-8b32), so that a copy carried in a bundle proves its keys
        return activity_response(prove(document, actor, document["id"], actor.updated_at))
    if actor.kind == ActorKind.TERRITORY:
        raise web.HTTPFound("/")  # the territory's page is the home page
    if circle is not None:
        raise web.HTTPFound(circle_page_path(circle.slug))  # a circle's page lists its members
    return render(
        request,
        "actor.html",
        {
            "name": actor.display_name,
            "handle": handle_of(config, actor),
            "actor_id": actor_id(config, actor),
            "kind_label": _KIND_LABELS[ActorKind(actor.kind)],
            "summary_html": text_to_html(actor.summary) if actor.summary else "",
        },
    )


def _page_number(request: web.Request) -> int | None:
    """?page=N (1-based) or None for the collection itself; anything else is a 400."""
    raw = request.query.get("page")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise web.HTTPBadRequest(text="page must be a positive number")
    return int(raw)


async def collection_get(request: web.Request) -> web.StreamResponse:
    """One of the actor's collections as a paged OrderedCollection."""
    actor = await _require_actor(request)
    if (gone := _gone(request, actor)) is not None:
        return gone
    config = request.app[config_key]
    sessions = request.app[sessions_key]
    name = request.match_info["collection"]
    page = _page_number(request)
    url = collection_url(config, actor, name)
    items: list[Any]
    reader = data_collection(name)
    if reader is not None:  # the territory's data: places, flows, indicators...
        if actor.kind != ActorKind.TERRITORY:
            raise web.HTTPNotFound(text="only the territory actor has this collection")
        total, items = await reader(sessions, config, page)
    elif name in ("followers", "following"):
        total, items = await follow_page(
            sessions, actor_id(config, actor), followers=name == "followers", page=page
        )
    elif name == "outbox":
        total, items = await outbox_page(sessions, actor.id, page)
    else:  # featured: nothing is pinned yet
        total, items = 0, []
    if page is None:
        return activity_response(ordered_collection(url, total))
    return activity_response(ordered_collection_page(url, page, total, items, PAGE_SIZE))


for prefix in ("/actor", "/actors/{name}"):
    # every actor's collections, and the territory's data collections of the registry
    names = "|".join(c for c in (*ACTOR_COLLECTIONS, *DATA_COLLECTIONS) if c != "inbox")
    routes.get(f"{prefix}/{{collection:{names}}}")(collection_get)
