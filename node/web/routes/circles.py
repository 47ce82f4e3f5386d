"""Pages and forms of the participation chain: circles (list, page, creation, editing,
members and their roles)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.convert.circles import KIND_LABELS, circle_page_path
from node.convert.urls import handle_of
from node.domain.forms import FormInvalid
from node.services.participation.circles import (
    CIRCLE_ROLES,
    CREATE_REFUSED,
    MANAGE_REFUSED,
    CircleNotFound,
    CircleRefused,
    accounts_for_selection,
    can_manage_circle,
    circle_page,
    create_circle,
    list_circles,
    remove_member,
    set_member,
    update_circle,
)
from node.web.auth import current_account, require_role
from node.web.keys import config_key, runtime_key, sessions_key
from node.web.render import render
from node.web.routes.members import refuse
from protocols.html import text_to_html

routes = web.RouteTableDef()


def _slug(request: web.Request) -> str:
    return request.match_info["slug"]


def _not_found(exc: CircleNotFound) -> web.HTTPNotFound:
    return web.HTTPNotFound(text=str(exc))


@routes.get("/circles")
async def circles_get(request: web.Request) -> web.StreamResponse:
    """Every circle of the territory, and a link to create one for those who may."""
    signed = current_account(request)
    context = {
        "circles": await list_circles(request.app[sessions_key]),
        "kind_labels": KIND_LABELS,
        "can_create": await can_manage_circle(
            request.app[sessions_key], signed.account if signed else None, None
        ),
    }
    return render(request, "circles/list.html", context)


def _form_context(errors: dict[str, str], values: Any, slug: str | None = None) -> dict[str, Any]:
    """The creation (slug None) or editing form's context."""
    return {"errors": errors, "values": values, "slug": slug, "kind_labels": KIND_LABELS}


@routes.get("/circles/new")
async def circle_new_get(request: web.Request) -> web.StreamResponse:
    """The form to create a circle (admins and facilitators)."""
    current = require_role(request)
    if not await can_manage_circle(request.app[sessions_key], current.account, None):
        return refuse(request, CREATE_REFUSED)
    return render(request, "circles/form.html", _form_context({}, {"kind": "working"}))


@routes.post("/circles/new")
async def circle_new_post(request: web.Request) -> web.StreamResponse:
    """Create the circle and its Group actor, then show its page."""
    current = require_role(request)
    form = await request.post()
    try:
        circle = await create_circle(request.app[runtime_key], current.account, form)
    except CircleRefused as exc:
        return refuse(request, str(exc))
    except FormInvalid as exc:
        return render(request, "circles/form.html", _form_context(exc.errors, form), status=400)
    raise web.HTTPFound(circle_page_path(circle.slug))


async def _circle_page(
    request: web.Request, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    """A circle's page: mandate, members with roles, history, proposals and needs."""
    try:
        page = await circle_page(request.app[runtime_key], _slug(request))
    except CircleNotFound as exc:
        raise _not_found(exc) from None
    signed = current_account(request)
    sessions = request.app[sessions_key]
    manage = await can_manage_circle(sessions, signed.account if signed else None, page.circle.id)
    context = {
        "page": page,
        "handle": handle_of(request.app[config_key], page.actor),
        "mandate_html": text_to_html(page.circle.mandate),
        "kind_labels": KIND_LABELS,
        "role_labels": CIRCLE_ROLES,
        "can_manage": manage,
        "accounts": await accounts_for_selection(sessions) if manage else [],
        "errors": errors or {},
    }
    return render(request, "circles/page.html", context, status=status)


@routes.get("/circles/{slug}")
async def circle_get(request: web.Request) -> web.StreamResponse:
    """The circle's page (its actor, for fediverse servers, is /actors/<slug>)."""
    return await _circle_page(request)


@routes.get("/circles/{slug}/edit")
async def circle_edit_get(request: web.Request) -> web.StreamResponse:
    """The form to change a circle's name, kind and mandate."""
    current = require_role(request)
    try:
        page = await circle_page(request.app[runtime_key], _slug(request))
    except CircleNotFound as exc:
        raise _not_found(exc) from None
    if not await can_manage_circle(request.app[sessions_key], current.account, page.circle.id):
        return refuse(request, MANAGE_REFUSED)
    circle = page.circle
    values = {"name": circle.name, "kind": circle.kind, "mandate": circle.mandate}
    return render(request, "circles/form.html", _form_context({}, values, circle.slug))


@routes.post("/circles/{slug}/edit")
async def circle_edit_post(request: web.Request) -> web.StreamResponse:
    """Save the circle; its followers receive Update(Group)."""
    current = require_role(request)
    form = await request.post()
    try:
        circle = await update_circle(
            request.app[runtime_key], current.account, _slug(request), form
        )
    except CircleNotFound as exc:
        raise _not_found(exc) from None
    except CircleRefused as exc:
        return refuse(request, str(exc))
    except FormInvalid as exc:
        context = _form_context(exc.errors, form, _slug(request))
        return render(request, "circles/form.html", context, status=400)
    raise web.HTTPFound(circle_page_path(circle.slug))


@routes.post("/circles/{slug}/members")
async def member_post(request: web.Request) -> web.StreamResponse:
    """Add a member to the circle or change their role there."""
    current = require_role(request)
    form = await request.post()
    try:
        await set_member(request.app[runtime_key], current.account, _slug(request), form)
    except CircleNotFound as exc:
        raise _not_found(exc) from None
    except CircleRefused as exc:
        return refuse(request, str(exc))
    except FormInvalid as exc:
        return await _circle_page(request, errors=exc.errors, status=400)
    raise web.HTTPFound(circle_page_path(_slug(request)) + "#members")


@routes.post("/circles/{slug}/members/remove")
async def member_remove_post(request: web.Request) -> web.StreamResponse:
    """Take a member out of the circle."""
    current = require_role(request)
    form = await request.post()
    username = str(form.get("username", ""))
    try:
        await remove_member(request.app[runtime_key], current.account, _slug(request), username)
    except CircleNotFound as exc:
        raise _not_found(exc) from None
    except CircleRefused as exc:
        return refuse(request, str(exc))
    raise web.HTTPFound(circle_page_path(_slug(request)) + "#members")
