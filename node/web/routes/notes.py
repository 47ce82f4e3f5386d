"""Notes and activities at their ids: ActivityPub JSON or a page with replies; 410 once deleted."""

from __future__ import annotations

from aiohttp import web

from node.convert.notes import note_to_as
from node.services.moderation.visibility import moderation_marks
from node.services.pages.timeline import note_view, public_activity
from node.web.keys import config_key, sessions_key
from node.web.negotiation import activity_response, wants_activitypub
from node.web.render import render
from protocols.activitystreams import web_link

routes = web.RouteTableDef()


@routes.get(r"/notes/{id:[0-9a-z]{26}}")
async def note_get(request: web.Request) -> web.StreamResponse:
    """A local note: the Note document for servers, a page with its replies for people."""
    config = request.app[config_key]
    uri = f"{config.node.base_url}/notes/{request.match_info['id']}"
    view = await note_view(request.app[sessions_key], uri)
    if view is None or not view.note.local:
        raise web.HTTPNotFound(text="no such note on this node")
    if wants_activitypub(request):
        document = note_to_as(config, view.note)
        return activity_response(document, status=410 if view.note.deleted_at else 200)
    if view.note.deleted_at is not None:
        raise web.HTTPGone(text="this note was deleted")
    territory = f"{config.node.base_url}/actors/{config.territory.handle}"
    context = {
        "marks": await moderation_marks(
            request.app[sessions_key],
            [uri, *(reply.uri for reply, _ in view.replies)],
            [reply.author_uri for reply, _ in view.replies],
        ),
        "view": view,
        "from_territory": view.note.author_uri == territory,
        "web_link": web_link,
    }
    return render(request, "note.html", context)


@routes.get(r"/activities/{id:[0-9a-z]{26}}")
async def activity_get(request: web.Request) -> web.StreamResponse:
    """One of our public activities, so that ids we send can be dereferenced."""
    config = request.app[config_key]
    activity_id = f"{config.node.base_url}/activities/{request.match_info['id']}"
    activity = await public_activity(request.app[sessions_key], activity_id)
    if activity is None:
        raise web.HTTPNotFound(text="no such public activity on this node")
    return activity_response(activity)
