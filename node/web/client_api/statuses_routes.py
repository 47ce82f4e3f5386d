"""Timelines, statuses and polls: reading the territory and whom the resident follows,
posting, deleting, favourites, boosts, and answering the territory's decisions."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.services.client_api import posting
from node.services.client_api.errors import ApiError, not_found
from node.services.client_api.statuses import (
    Scope,
    StatusRow,
    followed_authors,
    render,
    status_by_id,
    timeline,
)
from node.services.runtime import Runtime
from node.storage.models import Account
from node.web.client_api.accounts_routes import page_of
from node.web.client_api.base import ApiRoutes, api_json, page_links, user_of, viewer_of
from node.web.client_api.params import read_params
from node.web.keys import runtime_key

routes = ApiRoutes()


async def _page(request: web.Request, scope: Scope) -> web.StreamResponse:
    runtime: Runtime = request.app[runtime_key]
    params = await read_params(request)
    async with runtime.sessions() as session:
        rows = await timeline(runtime, session, scope, page_of(params))
        statuses = await render(runtime, session, rows, viewer_of(request))
    ends = (rows[0].id, rows[-1].id) if rows else (None, None)
    return api_json(statuses, headers=page_links(request, *ends))


@routes.both("GET", "/api/v1/timelines/home")
async def home(request: web.Request) -> web.StreamResponse:
    """The territory's own activity and what the resident follows."""
    runtime: Runtime = request.app[runtime_key]
    account = user_of(request, "read:statuses")
    async with runtime.sessions() as session:
        followed = await followed_authors(runtime, session, account)
    return await _page(request, Scope(remote_authors=followed))


@routes.both("GET", "/api/v1/timelines/public")
async def public(request: web.Request) -> web.StreamResponse:
    """The territory's public activity (`local=true`), or with what the node received."""
    params = await read_params(request)
    if params.flag("only_media"):
        return api_json([])
    if params.flag("remote"):
        return await _page(request, Scope(local=False, remote_authors=None))
    if params.flag("local"):
        return await _page(request, Scope(remote_authors=frozenset()))
    return await _page(request, Scope(remote_authors=None))


@routes.both("GET", "/api/v1/timelines/tag/{tag}")
async def tag(request: web.Request) -> web.StreamResponse:
    """Hashtags are not indexed here: an empty timeline."""
    return api_json([])


async def _one(request: web.Request, row: StatusRow | None) -> dict[str, Any]:
    runtime: Runtime = request.app[runtime_key]
    if row is None:
        raise not_found()
    async with runtime.sessions() as session:
        return (await render(runtime, session, [row], viewer_of(request)))[0]


async def _by_id(request: web.Request, value: str) -> StatusRow | None:
    runtime: Runtime = request.app[runtime_key]
    async with runtime.sessions() as session:
        return await status_by_id(runtime, session, value)


@routes.both("POST", "/api/v1/statuses")
async def create(request: web.Request) -> web.StreamResponse:
    """Post as the resident's own actor; it federates through the outbox like any post."""
    runtime: Runtime = request.app[runtime_key]
    account = user_of(request, "write:statuses")
    params = await read_params(request)
    if params.many("media_ids"):
        raise ApiError(422, "Validation failed: media attachments are not offered by this node")
    if params.many("poll[options]"):
        raise ApiError(422, "Validation failed: polls are opened as decisions on the node's pages")
    status_id = await posting.post_status(
        runtime,
        account,
        params.text("status", "") or "",
        in_reply_to_id=params.text("in_reply_to_id") or None,
        visibility=params.text("visibility") or None,
        spoiler_text=params.text("spoiler_text", "") or "",
        language=params.text("language") or None,
    )
    return api_json(await _one(request, await _by_id(request, status_id)))


@routes.both("GET", "/api/v1/statuses/{id}")
async def show(request: web.Request) -> web.StreamResponse:
    """One status."""
    return api_json(await _one(request, await _by_id(request, request.match_info["id"])))


@routes.both("DELETE", "/api/v1/statuses/{id}")
async def remove(request: web.Request) -> web.StreamResponse:
    """Delete the resident's own post; answers it as it was, with its text (Mastodon's way)."""
    runtime: Runtime = request.app[runtime_key]
    account = user_of(request, "write:statuses")
    before = await _one(request, await _by_id(request, request.match_info["id"]))
    await posting.delete_status(runtime, account, request.match_info["id"])
    return api_json(before | {"text": ""})


@routes.both("GET", "/api/v1/statuses/{id}/context")
async def context(request: web.Request) -> web.StreamResponse:
    """What a status replies to and the replies under it."""
    runtime: Runtime = request.app[runtime_key]
    row = await _by_id(request, request.match_info["id"])
    if row is None:
        raise not_found()
    async with runtime.sessions() as session:
        ancestors, descendants = await posting.context(runtime, session, row)
        viewer = viewer_of(request)
        return api_json(
            {
                "ancestors": await render(runtime, session, ancestors, viewer),
                "descendants": await render(runtime, session, descendants, viewer),
            }
        )


async def _reaction(request: web.Request, kind: str, *, undo: bool) -> web.StreamResponse:
    runtime: Runtime = request.app[runtime_key]
    scope = "write:favourites" if kind == "like" else "write:statuses"
    account: Account = user_of(request, scope)
    await posting.react(runtime, account, request.match_info["id"], kind, undo=undo)
    return api_json(await _one(request, await _by_id(request, request.match_info["id"])))


for _name, _kind, _undo in (
    ("favourite", "like", False),
    ("unfavourite", "like", True),
    ("reblog", "announce", False),
    ("unreblog", "announce", True),
):

    async def _handler(
        request: web.Request, kind: str = _kind, undo: bool = _undo
    ) -> web.StreamResponse:
        return await _reaction(request, kind, undo=undo)

    routes.both("POST", f"/api/v1/statuses/{{id}}/{_name}")(_handler)


@routes.both("GET", "/api/v1/polls/{id}")
async def poll(request: web.Request) -> web.StreamResponse:
    """A poll: one of the territory's decisions, or another territory's."""
    status = await _one(request, await _by_id(request, request.match_info["id"]))
    if status["poll"] is None:
        raise not_found()
    return api_json(status["poll"])


@routes.both("POST", "/api/v1/polls/{id}/votes")
async def vote(request: web.Request) -> web.StreamResponse:
    """Answer a poll: a resident's binding vote in their own territory's decision."""
    runtime: Runtime = request.app[runtime_key]
    account = user_of(request, "write:statuses")
    params = await read_params(request)
    try:
        choices = [int(c) for c in params.many("choices")]
    except ValueError:
        raise ApiError(422, "Validation failed: choices must be option numbers") from None
    await posting.vote(runtime, account, request.match_info["id"], choices)
    status = await _one(request, await _by_id(request, request.match_info["id"]))
    return api_json(status["poll"])
