"""A resident's own account: /account, the download of their data (JSON, or CSV files in a
zip), and the deletion of their account after a confirmation with their password."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.domain.actors import Role
from node.services.accounts.deletion import (
    LAST_ADMIN,
    DeletionRefused,
    delete_account,
    is_last_admin,
)
from node.services.accounts.own_data import own_data, own_data_json, own_data_zip
from node.services.accounts.own_data_sections import SECTIONS
from node.services.accounts.sessions import SignedIn
from node.services.limits.logins import LoginThrottled
from node.storage.base import utcnow
from node.web.auth import SESSION_COOKIE, require_role
from node.web.keys import config_key, runtime_key, sessions_key
from node.web.limits import client_address, retry_after
from node.web.render import render

routes = web.RouteTableDef()


def _download(current: SignedIn, suffix: str, content_type: str, body: bytes) -> web.Response:
    """A file to save, never kept in a cache: it holds personal data."""
    day = utcnow().date().isoformat()
    name = f"mes-donnees-{current.account.username}-{day}.{suffix}"
    return web.Response(
        body=body,
        content_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


async def _own_data(request: web.Request, current: SignedIn) -> dict[str, Any]:
    try:
        return await own_data(
            request.app[sessions_key], request.app[config_key], current.account.id
        )
    except LookupError:  # deleted meanwhile, from another browser
        raise web.HTTPGone(text="Ce compte a été supprimé.") from None


@routes.get("/account")
async def account_get(request: web.Request) -> web.StreamResponse:
    """The resident's account: profile and password links, the download of their data (with
    what it holds, section by section) and the way to delete the account."""
    current = require_role(request)
    context = {"account": current.account, "sections": SECTIONS}
    return render(request, "account/index.html", context)


@routes.get("/account/data.json")
async def data_json_get(request: web.Request) -> web.StreamResponse:
    """Everything the node holds about the resident and what they did, as a JSON file."""
    current = require_role(request)
    document = await _own_data(request, current)
    return _download(current, "json", "application/json", own_data_json(document))


@routes.get("/account/data.zip")
async def data_zip_get(request: web.Request) -> web.StreamResponse:
    """The same data as CSV files (one per section) in a zip, with the JSON file."""
    current = require_role(request)
    document = await _own_data(request, current)
    return _download(current, "zip", "application/zip", own_data_zip(document))


async def _delete_page(
    request: web.Request, current: SignedIn, error: str | None = None, status: int = 200
) -> web.Response:
    """The confirmation page; the last admin is told at once that they cannot leave yet."""
    last_admin = current.account.role == Role.ADMIN and await is_last_admin(
        request.app[sessions_key], current.account.id
    )
    context = {"error": error, "last_admin": last_admin, "last_admin_text": LAST_ADMIN}
    return render(request, "account/delete.html", context, status=status)


@routes.get("/account/delete")
async def delete_get(request: web.Request) -> web.StreamResponse:
    """The confirmation page: what goes, what stays, and the password to confirm."""
    return await _delete_page(request, require_role(request))


@routes.post("/account/delete")
async def delete_post(request: web.Request) -> web.StreamResponse:
    """Delete the account once its password is confirmed; the browser is logged out."""
    current = require_role(request)
    form = await request.post()
    try:
        await delete_account(
            request.app[runtime_key],
            current.account.id,
            str(form.get("password", "")),
            client_address(request),
        )
    except LoginThrottled as exc:
        page = await _delete_page(request, current, exc.message, status=429)
        return retry_after(page, exc.retry_after)
    except DeletionRefused as exc:
        status = 403 if str(exc) == LAST_ADMIN else 400
        return await _delete_page(request, current, str(exc), status=status)
    response = web.HTTPFound("/account/deleted")
    response.del_cookie(SESSION_COOKIE)
    raise response


@routes.get("/account/deleted")
async def deleted_get(request: web.Request) -> web.StreamResponse:
    """What a resident reads once their account is deleted."""
    return render(request, "account/deleted.html", {})
