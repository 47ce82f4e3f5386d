"""Logging in and out, and changing one's password."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from node.services.accounts.sessions import AccountError, change_password, log_in, log_out
from node.services.limits.logins import LoginThrottled
from node.web.auth import SESSION_COOKIE, require_role, set_session_cookie
from node.web.keys import runtime_key, sessions_key
from node.web.limits import client_address, retry_after
from node.web.render import render

routes = web.RouteTableDef()


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a login to another site."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or urlsplit(target).netloc
    ):
        return "/"
    return target


@routes.get("/login")
async def login_get(request: web.Request) -> web.StreamResponse:
    """The login form."""
    return render(
        request, "login.html", {"next": _safe_next(request.query.get("next")), "error": None}
    )


@routes.post("/login")
async def login_post(request: web.Request) -> web.StreamResponse:
    """Check the credentials; a first login goes to the password change."""
    form = await request.post()
    target = _safe_next(str(form.get("next", "/")))
    try:
        token, account = await log_in(
            request.app[sessions_key],
            str(form.get("username", "")),
            str(form.get("password", "")),
            replacing=request.cookies.get(SESSION_COOKIE),
            limiter=request.app[runtime_key].login_limits,
            address=client_address(request),
        )
    except LoginThrottled as exc:
        page = render(request, "login.html", {"next": target, "error": exc.message}, status=429)
        return retry_after(page, exc.retry_after)
    except AccountError as exc:
        return render(request, "login.html", {"next": target, "error": str(exc)}, status=400)
    response = web.HTTPFound("/account/password" if account.must_change_password else target)
    set_session_cookie(request, response, token)
    raise response


@routes.post("/logout")
async def logout_post(request: web.Request) -> web.StreamResponse:
    """Close the session and forget the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await log_out(request.app[sessions_key], token)
    response = web.HTTPFound("/")
    response.del_cookie(SESSION_COOKIE)
    raise response


@routes.get("/account/password")
async def password_get(request: web.Request) -> web.StreamResponse:
    """The password change form (required after a one-time password)."""
    current = require_role(request)
    return render(
        request, "password.html", {"forced": current.account.must_change_password, "error": None}
    )


@routes.post("/account/password")
async def password_post(request: web.Request) -> web.StreamResponse:
    """Change the password: the account's other sessions end, this browser gets a new one."""
    current = require_role(request)
    form = await request.post()
    try:
        token = await change_password(
            request.app[sessions_key],
            current.account.id,
            str(form.get("current", "")),
            str(form.get("new", "")),
            str(form.get("repeat", "")),
            limiter=request.app[runtime_key].login_limits,
            address=client_address(request),
        )
    except LoginThrottled as exc:
        context = {"forced": current.account.must_change_password, "error": exc.message}
        return retry_after(render(request, "password.html", context, status=429), exc.retry_after)
    except AccountError as exc:
        context = {"forced": current.account.must_change_password, "error": str(exc)}
        return render(request, "password.html", context, status=400)
    response = web.HTTPFound("/admin" if current.account.role == "admin" else "/")
    set_session_cookie(request, response, token)
    raise response
