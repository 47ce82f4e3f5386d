"""Pages and forms of the participation chain: needs (list, submission, support, comments,
triage), and each need's ActivityPub document at the same URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from node.convert.needs import NEED_STATE_LABELS, THEMES
from node.domain.forms import Form, FormInvalid
from node.services.limits.posting import PostingLimited
from node.services.moderation.visibility import moderation_marks
from node.services.participation.need_pages import list_needs, need_page, received_objects
from node.services.participation.needs import (
    MAX_TEXT,
    ParticipationError,
    answer_need,
    assign_need,
    change_support,
    comment_need,
    merge_need,
    need_as,
    submit_need,
)
from node.web.auth import current_account, require_role
from node.web.keys import config_key, runtime_key, sessions_key
from node.web.limits import retry_after
from node.web.negotiation import activity_response, wants_activitypub
from node.web.page_actions import Action, run_page_action
from node.web.render import render

routes = web.RouteTableDef()

NEED = r"/needs/{id:[0-9a-z]{26}}"
#: Labels the needs templates show for tokens (themes, states).
LABELS = {"themes": THEMES, "states": NEED_STATE_LABELS}


@routes.get("/needs")
async def needs_get(request: web.Request) -> web.StreamResponse:
    """The territory's needs, filtered by theme and state, with support counts."""
    theme = request.query.get("theme", "")
    state = request.query.get("state", "")
    theme = theme if theme in THEMES else ""
    state = state if state in NEED_STATE_LABELS else ""
    sessions = request.app[sessions_key]
    rows = await list_needs(sessions, theme=theme, state=state)
    received = await received_objects(sessions, "need")
    context = {
        "rows": rows,
        "received": received,
        "marks": await moderation_marks(
            sessions,
            [row.need.uri for row in rows] + [entry.item.uri for entry in received],
            [entry.item.actor_uri for entry in received],
        ),
        "theme": theme,
        "state": state,
        **LABELS,
    }
    return render(request, "needs/list.html", context)


def _new_form(
    request: web.Request,
    values: Mapping[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    error: str | None = None,
) -> web.Response:
    context = {
        "values": values or {},
        "errors": errors or {},
        "error": error,
        "max_text": MAX_TEXT,
        **LABELS,
    }
    return render(request, "needs/new.html", context, status=status)


@routes.get("/needs/new")
async def need_new_get(request: web.Request) -> web.StreamResponse:
    """The form to express a need (residents, logged in)."""
    require_role(request)
    return _new_form(request, {"theme": request.query.get("theme", "")})


@routes.post("/needs")
async def need_create_post(request: web.Request) -> web.StreamResponse:
    """Submit a need; on a problem, the form again with each field's reason."""
    current = require_role(request)
    data = await request.post()
    form = Form(data)
    fields = {
        "title": form.text("title"),
        "text": form.text("text", max_length=MAX_TEXT),
        "theme": form.choice("theme", tuple(THEMES)),
        "place": form.text("place", required=False),
    }
    try:
        form.raise_if_invalid()
        need = await submit_need(request.app[runtime_key], current.account, **fields)
    except FormInvalid as exc:
        return _new_form(request, data, exc.errors, status=400)
    except ParticipationError as exc:
        return _new_form(request, data, {exc.field or "title": exc.message}, status=400)
    except PostingLimited as exc:
        page = _new_form(request, data, status=429, error=exc.message)
        return retry_after(page, exc.retry_after)
    raise web.HTTPFound(f"/needs/{need.id}")


async def _need_page(
    request: web.Request,
    *,
    status: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> web.StreamResponse:
    config = request.app[config_key]
    current = current_account(request)
    page = await need_page(
        request.app[sessions_key],
        config.node.base_url,
        request.match_info["id"],
        current.account if current else None,
    )
    if page is None:
        raise web.HTTPNotFound(text="Ce besoin n'existe pas.")
    comments = [comment.note for comment in page.comments]
    context = {
        "page": page,
        "marks": await moderation_marks(
            request.app[sessions_key],
            [page.need.uri, *(note.uri for note in comments)],
            [note.author_uri for note in comments],
        ),
        "error": error,
        "errors": errors or {},
        "values": values or {},
        "notice": request.query.get("done"),
        "max_text": MAX_TEXT,
        **LABELS,
    }
    return render(request, "needs/need.html", context, status=status)


@routes.get(NEED)
async def need_get(request: web.Request) -> web.StreamResponse:
    """A need: its Page document for servers, its page for people."""
    if wants_activitypub(request):
        document = await need_as(request.app[runtime_key], request.match_info["id"])
        if document is None:
            raise web.HTTPNotFound(text="no such need on this node")
        return activity_response(document)
    return await _need_page(request)


async def _act(request: web.Request, read: Action, anchor: str) -> web.StreamResponse:
    """Run one action of the page (see node/web/page_actions.py)."""
    return await run_page_action(
        request,
        read,
        _need_page,
        done_url=f"/needs/{request.match_info['id']}",
        anchor=anchor,
        missing="Ce besoin n'existe pas.",
    )


@routes.post(NEED + "/support")
async def need_support_post(request: web.Request) -> web.StreamResponse:
    """Support a need (once per resident) or withdraw one's support."""
    current = require_role(request)

    async def read(form: Form) -> None:
        action = form.choice("support", ("give", "withdraw"))
        form.raise_if_invalid()
        await change_support(
            request.app[runtime_key],
            current.account,
            request.match_info["id"],
            support=action == "give",
        )

    return await _act(request, read, "supports")


@routes.post(NEED + "/comments")
async def need_comment_post(request: web.Request) -> web.StreamResponse:
    """Comment on a need (a reply federated to the territory's followers)."""
    current = require_role(request)

    async def read(form: Form) -> None:
        text = form.text("comment", max_length=MAX_TEXT)
        form.raise_if_invalid()
        await comment_need(
            request.app[runtime_key], current.account, request.match_info["id"], text
        )

    return await _act(request, read, "comments")


@routes.post(NEED + "/merge")
async def need_merge_post(request: web.Request) -> web.StreamResponse:
    """Triage: merge the need into another one (facilitators)."""
    current = require_role(request)

    async def read(form: Form) -> None:
        into = form.text("into", max_length=26)
        form.raise_if_invalid()
        await merge_need(request.app[runtime_key], current.account, request.match_info["id"], into)

    return await _act(request, read, "triage")


@routes.post(NEED + "/answer")
async def need_answer_post(request: web.Request) -> web.StreamResponse:
    """Triage: answer the need and close it (facilitators); the answer is required."""
    current = require_role(request)

    async def read(form: Form) -> None:
        answer = form.text("answer", max_length=MAX_TEXT)
        form.raise_if_invalid()
        await answer_need(
            request.app[runtime_key], current.account, request.match_info["id"], answer
        )

    return await _act(request, read, "triage")


@routes.post(NEED + "/assign")
async def need_assign_post(request: web.Request) -> web.StreamResponse:
    """Triage: assign the need to a circle (facilitators)."""
    current = require_role(request)

    async def read(form: Form) -> None:
        circle = form.text("circle", max_length=26)
        form.raise_if_invalid()
        await assign_need(
            request.app[runtime_key], current.account, request.match_info["id"], circle
        )

    return await _act(request, read, "triage")
