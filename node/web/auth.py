"""Browser sessions and CSRF protection for the pages; ActivityPub endpoints never see cookies.

Every unsafe request from a browser (a form) must carry the session's CSRF token, or, before
login, the token of the `csrf` cookie (double submit).
"""

from __future__ import annotations

import secrets

from aiohttp import web
from aiohttp.typedefs import Handler

from node.domain.actors import Role
from node.services.accounts.sessions import SignedIn, signed_in
from node.web.keys import config_key, sessions_key

SESSION_COOKIE = "maillage_session"
ANONYMOUS_CSRF_COOKIE = "csrf"
signed_in_key = web.RequestKey("signed_in", SignedIn)
csrf_key = web.RequestKey("csrf", str)
#: Forms that upload files: their bodies may exceed the node-wide 1 MB request limit (the
#: import services cap files at 5 MB themselves and say so in their report).
UPLOAD_PATHS = frozenset({"/map/import", "/indicators/import", "/admin/domain-blocks/import"})
UPLOAD_MAX_BYTES = 12_000_000
#: Paths without browser sessions: federation, discovery, and the client API (bearer tokens,
#: never cookies: so no CSRF token either). /oauth/authorize is a page and keeps its session.
_NO_SESSION_PATHS = (
    "/inbox", "/actor/", "/.well-known/", "/nodeinfo/", "/static/", "/healthz", "/api/",
    "/oauth/token", "/oauth/revoke",
)


def _is_federation(request: web.Request) -> bool:
    path = request.path
    return path.startswith(_NO_SESSION_PATHS) or (
        path.startswith("/actors/") and path.endswith("/inbox")
    )


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the signed-in account and the CSRF token; refuse forms without the token."""
    if _is_federation(request) or request.match_info.http_exception is not None:
        return await handler(request)  # federation, or no such route: 404/405 as usual
    token = request.cookies.get(SESSION_COOKIE)
    current = await signed_in(request.app[sessions_key], token) if token else None
    anonymous_csrf = request.cookies.get(ANONYMOUS_CSRF_COOKIE) or secrets.token_urlsafe(24)
    if current is not None:
        request[signed_in_key] = current
    request[csrf_key] = current.csrf_token if current else anonymous_csrf
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if request.path in UPLOAD_PATHS:
            request = request.clone(client_max_size=UPLOAD_MAX_BYTES)
        form = await request.post()
        if not secrets.compare_digest(str(form.get("csrf", "")), request[csrf_key]):
            raise web.HTTPForbidden(text="Formulaire expiré : rechargez la page et recommencez.")
    response = await handler(request)
    if current is None and ANONYMOUS_CSRF_COOKIE not in request.cookies:
        response.set_cookie(
            ANONYMOUS_CSRF_COOKIE,
            anonymous_csrf,
            httponly=True,
            samesite="Lax",
            secure=request.app[config_key].node.base_url.startswith("https://"),
        )
    return response


def current_account(request: web.Request) -> SignedIn | None:
    """Who is logged in, if anyone."""
    return request.get(signed_in_key)


def require_role(request: web.Request, *roles: Role) -> SignedIn:
    """The signed-in account if it has one of the roles; a redirect to login or a 403 else."""
    current = current_account(request)
    if current is None:
        raise web.HTTPFound(f"/login?next={request.path}")
    if current.account.must_change_password and request.path != "/account/password":
        raise web.HTTPFound("/account/password")
    if roles and current.account.role not in roles:
        raise web.HTTPForbidden(text="Cette action est réservée aux administrateurs du nœud.")
    return current


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure on https nodes."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        max_age=30 * 24 * 3600,
        secure=request.app[config_key].node.base_url.startswith("https://"),
    )
