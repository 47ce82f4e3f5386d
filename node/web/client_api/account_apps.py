"""The resident's page of authorised applications: which apps hold a token of theirs, since
when, last used when; one button takes an app's access away."""

from __future__ import annotations

from aiohttp import web

from node.services.client_api.apps import authorised_apps, revoke_app
from node.web.auth import require_role
from node.web.keys import sessions_key
from node.web.render import render

routes = web.RouteTableDef()


@routes.get("/account/apps")
async def apps_page(request: web.Request) -> web.StreamResponse:
    """The apps with access to the resident's account."""
    current = require_role(request)
    apps = await authorised_apps(request.app[sessions_key], current.account)
    return render(request, "oauth/apps.html", {"apps": apps, "done": request.query.get("done")})


@routes.post("/account/apps/revoke")
async def revoke(request: web.Request) -> web.StreamResponse:
    """Revoke every token the resident gave an app: it is logged out at once."""
    current = require_role(request)
    form = await request.post()
    await revoke_app(request.app[sessions_key], current.account, str(form.get("app", "")))
    raise web.HTTPFound("/account/apps?done=revoked")
