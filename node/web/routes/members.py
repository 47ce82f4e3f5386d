"""Pages and forms of the participation chain: members (invitations, joining, password
resets, roles, one's own profile)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.domain.actors import Role
from node.domain.forms import FormInvalid
from node.services.accounts.invitations import (
    IssuedLink,
    LinkInvalid,
    check_link,
    issue_invite,
    issue_reset,
    join,
    pending_invites,
    reset_password,
    revoke_invite,
)
from node.services.accounts.members import (
    MEMBERS_ONLY,
    ROLE_LABELS,
    MemberRefused,
    change_role,
    list_members,
    profile_of,
    update_profile,
)
from node.services.moderation.visibility import warnings_of
from node.web.auth import require_role, set_session_cookie
from node.web.keys import config_key, runtime_key, sessions_key
from node.web.render import render

routes = web.RouteTableDef()

REFUSED_TITLE = "Action refusée"
LINK_TITLE = "Lien inutilisable"


def refuse(request: web.Request, message: str) -> web.Response:
    """A 403 page that says which action is refused and why."""
    return render(request, "error.html", {"title": REFUSED_TITLE, "reason": message}, status=403)


def _link_gone(request: web.Request, exc: LinkInvalid) -> web.Response:
    """An unknown (404), used or expired (410) link: a clear page, never a 500."""
    return render(request, "error.html", {"title": LINK_TITLE, "reason": str(exc)}, exc.status)


async def _members_page(
    request: web.Request,
    *,
    issued: IssuedLink | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status: int = 200,
) -> web.Response:
    """The member list with its forms, for admins and facilitators."""
    sessions = request.app[sessions_key]
    form = await request.post() if request.method == "POST" else {}
    context: dict[str, Any] = {
        "members": await list_members(sessions),
        "invites": await pending_invites(sessions),
        "role_labels": ROLE_LABELS,
        "issued": issued,
        "errors": errors or {},
        "values": dict(form) if errors else {},
        "refusal": refusal,
        "done": request.query.get("done"),
    }
    return render(request, "members/list.html", context, status=status)


def _is_manager(request: web.Request) -> bool:
    """Whether the signed-in account is an admin or a facilitator (login required)."""
    return require_role(request).account.role in (Role.ADMIN, Role.FACILITATOR)


@routes.get("/members")
async def members_get(request: web.Request) -> web.StreamResponse:
    """The residents and their roles, pending invitations, and the forms to invite."""
    if not _is_manager(request):
        return refuse(request, MEMBERS_ONLY)
    return await _members_page(request)


@routes.post("/members/invite")
async def invite_post(request: web.Request) -> web.StreamResponse:
    """Issue an invitation link and show it, once."""
    current = require_role(request)
    form = await request.post()
    try:
        issued = await issue_invite(
            request.app[sessions_key], request.app[config_key], current.account, form
        )
    except MemberRefused as exc:
        return refuse(request, str(exc))
    except FormInvalid as exc:
        return await _members_page(request, errors=exc.errors, status=400)
    return await _members_page(request, issued=issued, status=201)


@routes.post("/members/invites/revoke")
async def revoke_post(request: web.Request) -> web.StreamResponse:
    """Withdraw an invitation not used yet."""
    current = require_role(request)
    form = await request.post()
    try:
        await revoke_invite(request.app[sessions_key], current.account, str(form.get("link", "")))
    except MemberRefused as exc:
        return refuse(request, str(exc))
    raise web.HTTPFound("/members?done=revoked")


@routes.post("/members/role")
async def role_post(request: web.Request) -> web.StreamResponse:
    """Change a member's role (admins only)."""
    current = require_role(request)
    form = await request.post()
    try:
        await change_role(request.app[sessions_key], request.app[config_key], current.account, form)
    except MemberRefused as exc:
        if current.account.role != Role.ADMIN:
            return refuse(request, str(exc))
        return await _members_page(request, refusal=str(exc), status=403)
    except FormInvalid as exc:
        return await _members_page(request, errors=exc.errors, status=400)
    raise web.HTTPFound("/members?done=role")


@routes.post("/members/reset")
async def reset_link_post(request: web.Request) -> web.StreamResponse:
    """Issue a password-reset link for a member (admins only) and show it, once."""
    current = require_role(request)
    form = await request.post()
    try:
        issued = await issue_reset(
            request.app[sessions_key],
            request.app[config_key],
            current.account,
            str(form.get("username", "")),
        )
    except MemberRefused as exc:
        return refuse(request, str(exc))
    except FormInvalid as exc:
        return await _members_page(request, errors=exc.errors, status=400)
    return await _members_page(request, issued=issued, status=201)


@routes.get("/join/{token}")
async def join_get(request: web.Request) -> web.StreamResponse:
    """The form an invitee fills to create their account."""
    token = request.match_info["token"]
    try:
        await check_link(request.app[sessions_key], token, "invite")
    except LinkInvalid as exc:
        return _link_gone(request, exc)
    return render(request, "members/join.html", {"token": token, "errors": {}, "values": {}})


@routes.post("/join/{token}")
async def join_post(request: web.Request) -> web.StreamResponse:
    """Create the account and its profile, then log the new resident in."""
    token = request.match_info["token"]
    form = await request.post()
    try:
        cookie, _ = await join(request.app[sessions_key], token, form)
    except LinkInvalid as exc:
        return _link_gone(request, exc)
    except FormInvalid as exc:
        values = {"username": form.get("username", ""), "display_name": form.get("display_name")}
        context = {"token": token, "errors": exc.errors, "values": values}
        return render(request, "members/join.html", context, status=400)
    response = web.HTTPFound("/account/profile?done=joined")
    set_session_cookie(request, response, cookie)
    raise response


@routes.get("/reset/{token}")
async def reset_get(request: web.Request) -> web.StreamResponse:
    """The form to choose a new password through a reset link."""
    token = request.match_info["token"]
    try:
        username = await check_link(request.app[sessions_key], token, "reset")
    except LinkInvalid as exc:
        return _link_gone(request, exc)
    context = {"token": token, "username": username, "errors": {}}
    return render(request, "members/reset.html", context)


@routes.post("/reset/{token}")
async def reset_post(request: web.Request) -> web.StreamResponse:
    """Set the new password, close the account's other sessions, and log its owner in."""
    token = request.match_info["token"]
    form = await request.post()
    try:
        cookie, account = await reset_password(request.app[sessions_key], token, form)
    except LinkInvalid as exc:
        return _link_gone(request, exc)
    except FormInvalid as exc:
        username = await check_link(request.app[sessions_key], token, "reset")
        context = {"token": token, "username": username, "errors": exc.errors}
        return render(request, "members/reset.html", context, status=400)
    response = web.HTTPFound("/admin" if account.role == Role.ADMIN else "/")
    set_session_cookie(request, response, cookie)
    raise response


@routes.get("/account/profile")
async def profile_get(request: web.Request) -> web.StreamResponse:
    """One's public profile (the Person actor): display name and presentation."""
    current = require_role(request)
    try:
        actor = await profile_of(request.app[sessions_key], current.account)
    except MemberRefused as exc:
        return refuse(request, str(exc))
    context = {
        "actor": actor,
        "role_label": ROLE_LABELS.get(current.account.role, current.account.role),
        "errors": {},
        "values": {},
        "done": request.query.get("done"),
        "warnings": await warnings_of(request.app[sessions_key], current.account.id),
    }
    return render(request, "members/profile.html", context)


@routes.post("/account/profile")
async def profile_post(request: web.Request) -> web.StreamResponse:
    """Save the profile; followers of the person receive Update(Person)."""
    current = require_role(request)
    form = await request.post()
    try:
        await update_profile(request.app[runtime_key], current.account, form)
    except MemberRefused as exc:
        return refuse(request, str(exc))
    except FormInvalid as exc:
        actor = await profile_of(request.app[sessions_key], current.account)
        context = {
            "actor": actor,
            "role_label": ROLE_LABELS.get(current.account.role, current.account.role),
            "errors": exc.errors,
            "values": dict(form),
            "done": None,
        }
        return render(request, "members/profile.html", context, status=400)
    raise web.HTTPFound("/account/profile?done=saved")
