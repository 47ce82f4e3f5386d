"""The admin's page: announce, follow, approve followers, watch deliveries."""

from __future__ import annotations

from aiohttp import web

from node.convert.urls import actor_id
from node.domain.actors import ActorKind, Role
from node.services.federation.announcements import AnnouncementError, announce, delete_announcement
from node.services.federation.following import FollowError, answer_follow_request, follow, unfollow
from node.services.federation.overview import federation_overview
from node.services.federation.remote_actors import LookupFailed
from node.services.instance.directory import find_actor_of_kind
from node.services.limits.refusals import KIND_LABELS
from node.services.offline.link import link_report
from node.services.pages.timeline import recent_local_notes
from node.web.auth import require_role
from node.web.keys import config_key, runtime_key, sessions_key
from node.web.render import render

routes = web.RouteTableDef()


async def _page(
    request: web.Request, message: str | None = None, error: str | None = None, status: int = 200
) -> web.StreamResponse:
    config = request.app[config_key]
    territory = await find_actor_of_kind(request.app[sessions_key], ActorKind.TERRITORY)
    assert territory is not None, "initialised nodes always have a territory"
    overview = await federation_overview(request.app[sessions_key], actor_id(config, territory))
    notes = await recent_local_notes(request.app[sessions_key])
    link = await link_report(request.app[sessions_key])
    context = {
        "overview": overview,
        "link": link,
        "notes": notes,
        "message": message,
        "error": error,
    }
    return render(request, "admin.html", context, status=status)


@routes.get("/admin")
async def admin_get(request: web.Request) -> web.StreamResponse:
    """The admin page."""
    require_role(request, Role.ADMIN)
    return await _page(request, message=request.query.get("done"))


@routes.post("/admin/announce")
async def announce_post(request: web.Request) -> web.StreamResponse:
    """Publish an announcement from the territory."""
    require_role(request, Role.ADMIN)
    form = await request.post()
    try:
        note = await announce(request.app[runtime_key], str(form.get("text", "")))
    except AnnouncementError as exc:
        return await _page(request, error=str(exc), status=400)
    raise web.HTTPFound(note.uri.removeprefix(request.app[config_key].node.base_url))


@routes.post("/admin/announcements/delete")
async def announcement_delete_post(request: web.Request) -> web.StreamResponse:
    """Delete an announcement; followers are told."""
    require_role(request, Role.ADMIN)
    form = await request.post()
    try:
        await delete_announcement(request.app[runtime_key], str(form.get("uri", "")))
    except AnnouncementError as exc:
        return await _page(request, error=str(exc), status=400)
    raise web.HTTPFound("/admin?done=deleted")


@routes.post("/admin/follow")
async def follow_post(request: web.Request) -> web.StreamResponse:
    """Follow or unfollow a remote actor by handle or URL."""
    require_role(request, Role.ADMIN)
    form = await request.post()
    target = str(form.get("target", "")).strip()
    try:
        if form.get("action") == "unfollow":
            await unfollow(request.app[runtime_key], target)
        else:
            await follow(request.app[runtime_key], target)
    except (FollowError, LookupFailed) as exc:
        return await _page(request, error=str(exc), status=400)
    raise web.HTTPFound("/admin?done=follow")


@routes.post("/admin/follow-requests")
async def follow_request_post(request: web.Request) -> web.StreamResponse:
    """Accept or reject a follower waiting for approval."""
    require_role(request, Role.ADMIN)
    form = await request.post()
    try:
        await answer_follow_request(
            request.app[runtime_key],
            str(form.get("actor", "")),
            accept=form.get("answer") == "accept",
        )
    except FollowError as exc:
        return await _page(request, error=str(exc), status=400)
    raise web.HTTPFound("/admin?done=answered")


@routes.get("/admin/refusals")
async def refusals_get(request: web.Request) -> web.StreamResponse:
    """What the abuse limits refused these last days: by kind, key, count and last time."""
    require_role(request, Role.ADMIN)
    totals = await request.app[runtime_key].refusals.recent()
    context = {"totals": totals, "kinds": KIND_LABELS, "limits": request.app[config_key].limits}
    return render(request, "refusals.html", context)
