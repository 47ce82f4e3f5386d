"""Notifications: follows, mentions, favourites, boosts and the decisions' results."""

from __future__ import annotations

from aiohttp import web

from node.services.client_api.errors import not_found
from node.services.client_api.notifications import clear, dismiss, notifications
from node.services.client_api.statuses import Page
from node.web.client_api.accounts_routes import page_of
from node.web.client_api.base import ApiRoutes, api_json, page_links, user_of
from node.web.client_api.params import read_params
from node.web.keys import runtime_key

routes = ApiRoutes()


@routes.both("GET", "/api/v1/notifications")
async def index(request: web.Request) -> web.StreamResponse:
    """The resident's notifications, newest first, with Link pagination."""
    account = user_of(request, "read:notifications")
    params = await read_params(request)
    found = await notifications(
        request.app[runtime_key],
        account,
        page_of(params),
        params.many("types"),
        params.many("exclude_types"),
    )
    ends = (found[0]["id"], found[-1]["id"]) if found else (None, None)
    return api_json(found, headers=page_links(request, *ends))


@routes.both("POST", "/api/v1/notifications/clear")
async def clear_all(request: web.Request) -> web.StreamResponse:
    """Dismiss every notification so far."""
    await clear(request.app[runtime_key], user_of(request, "write:notifications"))
    return api_json({})


@routes.both("GET", "/api/v1/notifications/{id}")
async def one(request: web.Request) -> web.StreamResponse:
    """One notification."""
    account = user_of(request, "read:notifications")
    wanted = request.match_info["id"]
    if not wanted.isdigit():
        raise not_found()
    # the page just older than the next id holds this one, if it exists
    just_after = str(int(wanted) + 1).zfill(len(wanted))
    found = await notifications(
        request.app[runtime_key], account, Page(max_id=just_after, limit=1), [], []
    )
    if found and found[0]["id"] == wanted:
        return api_json(found[0])
    raise not_found()


@routes.both("POST", "/api/v1/notifications/{id}/dismiss")
async def dismiss_one(request: web.Request) -> web.StreamResponse:
    """Dismiss one notification."""
    await dismiss(
        request.app[runtime_key], user_of(request, "write:notifications"), request.match_info["id"]
    )
    return api_json({})
