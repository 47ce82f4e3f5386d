"""Pages and forms of the participation chain: proposals (list, drafting from needs,
lifecycle steps, comments) and their amendments; each object's ActivityPub document at the
same URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from node.convert.needs import THEMES
from node.convert.proposals import AMENDMENT_STATE_LABELS, PROPOSAL_STATE_LABELS
from node.domain.forms import Form, FormInvalid
from node.services.moderation.visibility import moderation_marks
from node.services.participation.need_pages import received_objects
from node.services.participation.needs import MAX_TEXT, NotAllowed, ParticipationError
from node.services.participation.proposal_links import linked_work
from node.services.participation.proposal_pages import (
    amendment_page,
    draft_choices,
    list_proposals,
    proposal_page,
)
from node.services.participation.proposals import (
    MAX_PROPOSAL_TEXT,
    MAX_SUMMARY,
    NEEDS_REQUIRED,
    amendment_as,
    comment_proposal,
    decide_amendment,
    draft_proposal,
    move_proposal,
    proposal_as,
    propose_amendment,
)
from node.web.auth import current_account, require_role
from node.web.keys import config_key, runtime_key, sessions_key
from node.web.negotiation import activity_response, wants_activitypub
from node.web.page_actions import Action, run_page_action
from node.web.read_cache import visitors_page
from node.web.render import render

routes = web.RouteTableDef()

PROPOSAL = r"/proposals/{id:[0-9a-z]{26}}"
AMENDMENT = r"/amendments/{id:[0-9a-z]{26}}"
#: Labels the proposals templates show for tokens, and the lengths their forms allow.
CONTEXT = {
    "themes": THEMES,
    "states": PROPOSAL_STATE_LABELS,
    "amendment_states": AMENDMENT_STATE_LABELS,
    "max_text": MAX_TEXT,
    "max_proposal_text": MAX_PROPOSAL_TEXT,
    "max_summary": MAX_SUMMARY,
}


@routes.get("/proposals")
@visitors_page()
async def proposals_get(request: web.Request) -> web.StreamResponse:
    """The territory's proposals, filtered by theme and state, a page (?page=N) at a time,
    and other territories'."""
    theme = request.query.get("theme", "")
    state = request.query.get("state", "")
    theme = theme if theme in THEMES else ""
    state = state if state in PROPOSAL_STATE_LABELS else ""
    raw_page = request.query.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and 1 <= int(raw_page) <= 100_000 else 1
    sessions = request.app[sessions_key]
    listed = await list_proposals(sessions, theme=theme, state=state, page=page)
    rows = listed.rows
    received = await received_objects(sessions, "proposal")
    context = {
        "rows": rows,
        "listed": listed,
        "received": received,
        "marks": await moderation_marks(
            sessions,
            [row.proposal.uri for row in rows] + [entry.item.uri for entry in received],
            [entry.item.actor_uri for entry in received],
        ),
        "theme": theme,
        "state": state,
        **CONTEXT,
    }
    return render(request, "proposals/list.html", context)


async def _new_form(
    request: web.Request,
    values: Mapping[str, Any],
    chosen: list[str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    current = require_role(request)
    choices = await draft_choices(request.app[sessions_key], current.account)
    context = {
        "choices": choices,
        "values": values,
        "chosen": chosen,
        "errors": errors or {},
        **CONTEXT,
    }
    return render(request, "proposals/new.html", context, status=status)


@routes.get("/proposals/new")
async def proposal_new_get(request: web.Request) -> web.StreamResponse:
    """The form to draft a proposal in a circle from needs (?need=<id> pre-selects some)."""
    require_role(request)
    return await _new_form(request, {}, request.query.getall("need", []))


@routes.post("/proposals")
async def proposal_create_post(request: web.Request) -> web.StreamResponse:
    """Draft a proposal; on a problem, the form again with each field's reason."""
    current = require_role(request)
    data = await request.post()
    need_ids = [str(value) for value in data.getall("needs", [])]
    form = Form(data)
    fields = {
        "circle_id": form.text("circle", max_length=26),
        "title": form.text("title"),
        "summary": form.text("summary", required=False, max_length=MAX_SUMMARY),
        "text": form.text("text", max_length=MAX_PROPOSAL_TEXT),
        "theme": form.choice("theme", tuple(THEMES), required=False),
    }
    form.check(bool(need_ids), "needs", NEEDS_REQUIRED)
    try:
        form.raise_if_invalid()
        proposal = await draft_proposal(
            request.app[runtime_key], current.account, need_ids=need_ids, **fields
        )
    except FormInvalid as exc:
        return await _new_form(request, data, need_ids, exc.errors, status=400)
    except NotAllowed as exc:
        return await _new_form(request, data, need_ids, {"circle": exc.message}, status=403)
    except ParticipationError as exc:
        errors = {exc.field or "title": exc.message}
        return await _new_form(request, data, need_ids, errors, status=400)
    raise web.HTTPFound(f"/proposals/{proposal.id}")


async def _proposal_page(
    request: web.Request,
    *,
    status: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> web.StreamResponse:
    current = current_account(request)
    page = await proposal_page(
        request.app[sessions_key],
        request.app[config_key].node.base_url,
        request.match_info["id"],
        current.account if current else None,
    )
    if page is None:
        raise web.HTTPNotFound(text="Cette proposition n'existe pas.")
    comments = [comment.note for comment in page.comments]
    context = {
        "page": page,
        "proposal": page.proposal,
        "marks": await moderation_marks(
            request.app[sessions_key],
            [page.proposal.uri, *(note.uri for note in comments)],
            [note.author_uri for note in comments],
        ),
        "linked": await linked_work(request.app[sessions_key], page.proposal.id),
        "error": error,
        "errors": errors or {},
        "values": values or {},
        "notice": request.query.get("done"),
        **CONTEXT,
    }
    return render(request, "proposals/proposal.html", context, status=status)


@routes.get(PROPOSAL)
async def proposal_get(request: web.Request) -> web.StreamResponse:
    """A proposal: its Page document for servers, its page for people."""
    if wants_activitypub(request):
        document = await proposal_as(request.app[runtime_key], request.match_info["id"])
        if document is None:
            raise web.HTTPNotFound(text="no such proposal on this node")
        return activity_response(document)
    return await _proposal_page(request)


async def _act(request: web.Request, read: Action, anchor: str) -> web.StreamResponse:
    """Run one action of the page (see node/web/page_actions.py)."""
    return await run_page_action(
        request,
        read,
        _proposal_page,
        done_url=f"/proposals/{request.match_info['id']}",
        anchor=anchor,
        missing="Cette proposition n'existe pas.",
    )


@routes.post(PROPOSAL + "/state")
async def proposal_state_post(request: web.Request) -> web.StreamResponse:
    """A lifecycle step (circle facilitators), or a withdrawal by the author."""
    current = require_role(request)

    async def read(form: Form) -> None:
        state = form.choice("state", tuple(PROPOSAL_STATE_LABELS))
        reason = form.text("reason", required=False, max_length=MAX_TEXT)
        form.raise_if_invalid()
        await move_proposal(
            request.app[runtime_key], current.account, request.match_info["id"], state, reason
        )

    return await _act(request, read, "lifecycle")


@routes.post(PROPOSAL + "/comments")
async def proposal_comment_post(request: web.Request) -> web.StreamResponse:
    """Comment on a proposal (a reply federated to the territory's followers)."""
    current = require_role(request)

    async def read(form: Form) -> None:
        text = form.text("comment", max_length=MAX_TEXT)
        form.raise_if_invalid()
        await comment_proposal(
            request.app[runtime_key], current.account, request.match_info["id"], text
        )

    return await _act(request, read, "comments")


@routes.post(PROPOSAL + "/amendments")
async def amendment_create_post(request: web.Request) -> web.StreamResponse:
    """Propose an amendment: a new text for the proposal, and why."""
    current = require_role(request)

    async def read(form: Form) -> None:
        text = form.text("text", max_length=MAX_PROPOSAL_TEXT)
        rationale = form.text("rationale", max_length=MAX_TEXT)
        form.raise_if_invalid()
        await propose_amendment(
            request.app[runtime_key],
            current.account,
            request.match_info["id"],
            text=text,
            rationale=rationale,
        )

    return await _act(request, read, "amendments")


async def _amendment_page(
    request: web.Request, *, status: int = 200, error: str | None = None
) -> web.StreamResponse:
    current = current_account(request)
    page = await amendment_page(
        request.app[sessions_key], request.match_info["id"], current.account if current else None
    )
    if page is None:
        raise web.HTTPNotFound(text="Cet amendement n'existe pas.")
    context = {"page": page, "error": error, "errors": {}, "values": {}, **CONTEXT}
    return render(request, "proposals/amendment.html", context, status=status)


@routes.get(AMENDMENT)
async def amendment_get(request: web.Request) -> web.StreamResponse:
    """An amendment: its Page document for servers, its page for people."""
    if wants_activitypub(request):
        document = await amendment_as(request.app[runtime_key], request.match_info["id"])
        if document is None:
            raise web.HTTPNotFound(text="no such amendment on this node")
        return activity_response(document)
    return await _amendment_page(request)


@routes.post(AMENDMENT + "/decide")
async def amendment_decide_post(request: web.Request) -> web.StreamResponse:
    """A circle facilitator accepts or rejects an amendment."""
    current = require_role(request)
    form = Form(await request.post())
    decision = form.choice("decision", ("accept", "reject"))
    reason = form.text("reason", required=False, max_length=MAX_TEXT)
    try:
        form.raise_if_invalid()
        amendment = await decide_amendment(
            request.app[runtime_key],
            current.account,
            request.match_info["id"],
            accept=decision == "accept",
            note=reason,
        )
    except FormInvalid as exc:
        return await _amendment_page(request, status=400, error=next(iter(exc.errors.values())))
    except NotAllowed as exc:
        return await _amendment_page(request, status=403, error=exc.message)
    except ParticipationError as exc:
        return await _amendment_page(request, status=400, error=exc.message)
    except LookupError:
        raise web.HTTPNotFound(text="Cet amendement n'existe pas.") from None
    raise web.HTTPFound(f"/proposals/{amendment.proposal_id}?done=amendments#amendments")
