"""The territory's public pages."""

from __future__ import annotations

from aiohttp import web

from node.convert.urls import actor_id, handle_of
from node.domain.actors import ActorKind
from node.services.instance.directory import find_actor_of_kind
from node.services.pages.activity_feed import activity_of
from node.services.pages.followed import followed_activity
from node.services.pages.timeline import follow_page, recent_local_notes
from node.web.keys import config_key, sessions_key
from node.web.render import render
from protocols.html import text_to_html

routes = web.RouteTableDef()

#: How many events of the territory's activity the home page shows (the Atom feed has more).
TIMELINE_SIZE = 20


@routes.get("/")
async def home_get(request: web.Request) -> web.StreamResponse:
    """The territory's home page: who it is, how to follow it, its recent public activity,
    what this node is."""
    config = request.app[config_key]
    territory = await find_actor_of_kind(request.app[sessions_key], ActorKind.TERRITORY)
    if territory is None:
        raise web.HTTPServiceUnavailable(text="this node is not initialised: run `maillage init`")
    sessions = request.app[sessions_key]
    territory_uri = actor_id(config, territory)
    followers, _ = await follow_page(sessions, territory_uri, followers=True, page=None)
    following, _ = await follow_page(sessions, territory_uri, followers=False, page=None)
    return render(
        request,
        "home.html",
        {
            "handle": handle_of(config, territory),
            "territory_id": territory_uri,
            "description_html": text_to_html(config.territory.description),
            "timeline": await activity_of(sessions, territory_uri, TIMELINE_SIZE),
            "announcements": await recent_local_notes(sessions),
            "followed": await followed_activity(sessions, territory_uri),
            "followers": followers,
            "following": following,
        },
    )
