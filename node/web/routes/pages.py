"""The territory's public pages."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web
from markupsafe import Markup

from node.convert.needs import NEED_STATE_LABELS
from node.convert.offers import KIND_LABELS as OFFER_KINDS
from node.convert.offers import PURPOSE_LABELS
from node.convert.urls import actor_id, handle_of
from node.domain.actors import ActorKind
from node.services.instance.directory import find_actor_of_kind
from node.services.moderation.visibility import moderation_marks
from node.services.pages.activity_feed import ActivityEntry, activity_of
from node.services.pages.followed import followed_activity
from node.services.pages.home import HomeDashboard, home_dashboard
from node.services.pages.timeline import follow_page, recent_local_notes
from node.web.charts import format_number, sparkline
from node.web.i18n import choose_language, translator
from node.web.keys import config_key, sessions_key
from node.web.mapsvg import render_map
from node.web.read_cache import visitors_page
from node.web.render import render
from node.web.routes.map import load_boundary, map_data
from protocols.html import text_to_html

routes = web.RouteTableDef()

#: How many events of the territory's activity the home page shows (the Atom feed has more).
TIMELINE_SIZE = 20


def map_glance(request: web.Request, board: HomeDashboard) -> Markup | None:
    """The small map of the home page: drawn from the node's own data only (never tiles,
    so that it shows with no internet), or None while the map has no place."""
    if not board.mesh.places:
        return None
    config = request.app[config_key]
    translate = translator(choose_language(request, config.territory.default_language))
    data = map_data(board.mesh, load_boundary(config.territory.boundary))
    title = translate("Carte de %(territory)s") % {"territory": config.territory.name}
    return render_map(data, title=title, translate=translate, ident="home-map", overview=True)


async def _without_hidden(
    request: web.Request, board: HomeDashboard, timeline: list[ActivityEntry]
) -> tuple[HomeDashboard, list[ActivityEntry]]:
    """The dashboard and timeline without what moderation hid."""
    blocks = (board.needs, board.experiments, board.offers)
    uris = [entry.uri for entry in timeline] + [i.uri for block in blocks for i in block.items]
    hidden = (await moderation_marks(request.app[sessions_key], uris)).hidden
    if not hidden:
        return board, timeline

    def kept(block: Any) -> Any:
        return replace(block, items=[item for item in block.items if item.uri not in hidden])

    board = replace(
        board,
        needs=kept(board.needs),
        experiments=kept(board.experiments),
        offers=kept(board.offers),
    )
    return board, [entry for entry in timeline if entry.uri not in hidden]


@routes.get("/")
@visitors_page()
async def home_get(request: web.Request) -> web.StreamResponse:
    """The territory's home page: who it is, what is open now (its dashboard: votes, needs,
    experiments, offers, a small map, a few indicators), its recent public activity, how to
    follow it, what this node is."""
    config = request.app[config_key]
    territory = await find_actor_of_kind(request.app[sessions_key], ActorKind.TERRITORY)
    if territory is None:
        raise web.HTTPServiceUnavailable(text="this node is not initialised: run `maillage init`")
    sessions = request.app[sessions_key]
    territory_uri = actor_id(config, territory)
    followers, _ = await follow_page(sessions, territory_uri, followers=True, page=None)
    following, _ = await follow_page(sessions, territory_uri, followers=False, page=None)
    board = await home_dashboard(sessions, config)
    timeline = await activity_of(sessions, territory_uri, TIMELINE_SIZE)
    board, timeline = await _without_hidden(request, board, timeline)
    return render(
        request,
        "home.html",
        {
            "handle": handle_of(config, territory),
            "territory_id": territory_uri,
            "description_html": text_to_html(config.territory.description),
            "timeline": timeline,
            "announcements": await recent_local_notes(sessions),
            "followed": await followed_activity(sessions, territory_uri),
            "followers": followers,
            "following": following,
            "board": board,
            "map_svg": map_glance(request, board),
            "sparkline": sparkline,
            "number": format_number,
            "need_states": NEED_STATE_LABELS,
            "purposes": PURPOSE_LABELS,
            "offer_kinds": OFFER_KINDS,
        },
    )
