"""Accounts: the signed-in resident's own, others by id or handle, their statuses, follows
and relationships; search, which can fetch a remote actor or post through the node."""

from __future__ import annotations

from aiohttp import web

from node.convert.mastodon import account_entity, credential_account_entity, relationship_entity
from node.services.accounts.members import update_profile
from node.services.client_api import accounts as service
from node.services.client_api.errors import ApiError
from node.services.client_api.search import search
from node.services.client_api.statuses import Page, Scope, render, timeline
from node.storage.models import LocalActor
from node.web.client_api.base import ApiRoutes, api_json, page_links, token_of, user_of, viewer_of
from node.web.client_api.params import Params, read_params
from node.web.keys import runtime_key

routes = ApiRoutes()


def page_of(params: Params) -> Page:
    """Mastodon's page parameters."""
    return Page(
        max_id=params.text("max_id") or None,
        since_id=params.text("since_id") or None,
        min_id=params.text("min_id") or None,
        limit=params.number("limit", 20, low=1, high=40),
    )


async def _credential(request: web.Request) -> web.StreamResponse:
    runtime = request.app[runtime_key]
    account = user_of(request, "read:accounts")
    async with runtime.sessions() as session:
        person = await service.person_of(session, account)
        facts = await service.local_facts(runtime, session, person)
    return api_json(
        credential_account_entity(
            facts,
            language=runtime.config.territory.default_language,
            role=account.role,
            note_text=person.summary,
        )
    )


@routes.both("GET", "/api/v1/accounts/verify_credentials")
async def verify_credentials(request: web.Request) -> web.StreamResponse:
    """The signed-in resident's own account."""
    return await _credential(request)


@routes.both("PATCH", "/api/v1/accounts/update_credentials")
async def update_credentials(request: web.Request) -> web.StreamResponse:
    """Change the display name and the note (the profile the pages show too)."""
    runtime = request.app[runtime_key]
    account = user_of(request, "write:accounts")
    params = await read_params(request)
    async with runtime.sessions() as session:
        person: LocalActor = await service.person_of(session, account)
    wanted = {
        "display_name": params.text("display_name", person.display_name) or person.display_name,
        "summary": params.text("note", person.summary) or "",
    }
    try:
        await update_profile(runtime, account, wanted)
    except ValueError as refused:
        raise ApiError(422, f"Validation failed: {refused}") from None
    return await _credential(request)


@routes.both("GET", "/api/v1/accounts/lookup")
async def lookup(request: web.Request) -> web.StreamResponse:
    """An account by handle, among those the node knows."""
    runtime = request.app[runtime_key]
    params = await read_params(request)
    async with runtime.sessions() as session:
        return api_json(
            account_entity(await service.lookup(runtime, session, params.required("acct")))
        )


@routes.both("GET", "/api/v1/accounts/relationships")
async def relationships(request: web.Request) -> web.StreamResponse:
    """The resident's relations with each account asked for."""
    runtime = request.app[runtime_key]
    account = user_of(request, "read:follows")
    ids = (await read_params(request)).many("id")
    async with runtime.sessions() as session:
        found = await service.relationships(runtime, session, account, ids)
    return api_json([relationship_entity(f) for f in found])


@routes.both("GET", "/api/v1/accounts/search")
async def account_search(request: web.Request) -> web.StreamResponse:
    """Accounts matching a query; `resolve` fetches a handle the node does not know yet."""
    params = await read_params(request)
    viewer = viewer_of(request)
    found = await search(
        request.app[runtime_key],
        params.required("q"),
        viewer,
        kinds={"accounts"},
        resolve=params.flag("resolve") and viewer is not None,
        limit=params.number("limit", 40, low=1, high=80),
    )
    return api_json(found["accounts"])


@routes.both("GET", "/api/v2/search")
async def search_v2(request: web.Request) -> web.StreamResponse:
    """Accounts and statuses matching a query; `resolve=true` fetches a remote actor or post
    by handle or URL through the node's signed, guarded client (a user token is needed)."""
    params = await read_params(request)
    viewer = viewer_of(request)
    kind = params.text("type")
    kinds = (
        {kind}
        if kind in ("accounts", "statuses", "hashtags")
        else {"accounts", "statuses", "hashtags"}
    )
    if params.flag("resolve") and viewer is None:
        raise ApiError(401, "Search with resolve needs a user token")
    return api_json(
        await search(
            request.app[runtime_key],
            params.required("q"),
            viewer,
            kinds=kinds,
            resolve=params.flag("resolve"),
            limit=params.number("limit", 20, low=1, high=40),
        )
    )


@routes.both("GET", "/api/v1/accounts/{id}")
async def account(request: web.Request) -> web.StreamResponse:
    """An account by its id here."""
    runtime = request.app[runtime_key]
    async with runtime.sessions() as session:
        facts = await service.account_by_id(runtime, session, request.match_info["id"])
    return api_json(account_entity(facts))


@routes.both("GET", "/api/v1/accounts/{id}/statuses")
async def account_statuses(request: web.Request) -> web.StreamResponse:
    """An account's public statuses, newest first, with Link pagination."""
    runtime = request.app[runtime_key]
    params = await read_params(request)
    account_id = request.match_info["id"]
    async with runtime.sessions() as session:
        uri = await service.actor_uri_of(runtime, session, account_id)
        local = await session.get(LocalActor, account_id)
        scope = (
            Scope(local_actor_ids=frozenset({account_id}), remote_authors=frozenset())
            if local is not None
            else Scope(local=False, remote_authors=frozenset({uri}))
        )
        rows = await timeline(runtime, session, scope, page_of(params))
        if params.flag("pinned"):
            rows = []
        if params.flag("exclude_replies"):
            rows = [r for r in rows if not r.document.get("inReplyTo")]
        statuses = await render(runtime, session, rows, viewer_of(request))
    return api_json(statuses, headers=page_links(request, *_ends(rows)))


def _ends(rows: list) -> tuple[str | None, str | None]:  # type: ignore[type-arg]
    return (rows[0].id, rows[-1].id) if rows else (None, None)


async def _follow_answer(request: web.Request, *, follow: bool) -> web.StreamResponse:
    runtime = request.app[runtime_key]
    account = user_of(request, "write:follows")
    action = service.follow_account if follow else service.unfollow_account
    return api_json(relationship_entity(await action(runtime, account, request.match_info["id"])))


@routes.both("POST", "/api/v1/accounts/{id}/follow")
async def follow(request: web.Request) -> web.StreamResponse:
    """Follow an account from the resident's own actor."""
    return await _follow_answer(request, follow=True)


@routes.both("POST", "/api/v1/accounts/{id}/unfollow")
async def unfollow(request: web.Request) -> web.StreamResponse:
    """Stop following an account."""
    return await _follow_answer(request, follow=False)


async def _follow_list(request: web.Request, *, followers: bool) -> web.StreamResponse:
    runtime = request.app[runtime_key]
    token_of(request)
    params = await read_params(request)
    async with runtime.sessions() as session:
        found = await service.follow_list(
            runtime,
            session,
            request.match_info["id"],
            followers=followers,
            limit=params.number("limit", 40, low=1, high=80),
        )
    return api_json(found)


@routes.both("GET", "/api/v1/accounts/{id}/followers")
async def followers(request: web.Request) -> web.StreamResponse:
    """Who follows an account."""
    return await _follow_list(request, followers=True)


@routes.both("GET", "/api/v1/accounts/{id}/following")
async def following(request: web.Request) -> web.StreamResponse:
    """Whom an account follows."""
    return await _follow_list(request, followers=False)
