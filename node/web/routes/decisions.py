"""Pages and forms of the participation chain: decisions.

/decisions lists them; /decisions/new opens one (facilitators); /decisions/<id> is the
`Question` for servers and, for people, the page where residents vote and read the result.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.convert.received_decisions import OUTCOME_LABELS
from node.domain.forms import Form
from node.domain.participation import DecisionMethod
from node.services.participation.decision_views import (
    decision_view,
    effective_state,
    may_open_decisions,
    proposals_to_decide,
    question_for,
    recent_decisions,
)
from node.services.participation.decisions import (
    FACILITATORS_ONLY,
    DecisionDraft,
    NotAllowed,
    ParticipationError,
    cast_vote,
    open_decision,
)
from node.services.participation.remote_decisions import followed_decisions
from node.storage.base import utcnow
from node.web.auth import current_account, require_role
from node.web.keys import config_key, runtime_key, sessions_key
from node.web.negotiation import activity_response, wants_activitypub
from node.web.render import render

routes = web.RouteTableDef()

_ID = r"{id:[0-9a-z]{26}}"

#: Texts that reach the templates as values, translated there with `_()`.
STATE_LABELS = {"scheduled": "Programmée", "open": "Ouverte", "closed": "Close"}
METHOD_LABELS = {"majority": "Vote à la majorité", "consent": "Consentement"}
LOGIN_TO_VOTE = "Seul·es les habitant·es connecté·es peuvent voter : connectez-vous."


def _labels() -> dict[str, Any]:
    """What every decision template needs besides its own context."""
    return {
        "state_labels": STATE_LABELS,
        "method_labels": METHOD_LABELS,
    }


@routes.get("/decisions")
async def decisions_get(request: web.Request) -> web.StreamResponse:
    """Every decision: open ones first on the page, then the scheduled and the closed; then
    the open and closed decisions of the territories we follow, as last received."""
    rows = await recent_decisions(request.app[sessions_key])
    now = utcnow()
    groups: dict[str, list[Any]] = {"open": [], "scheduled": [], "closed": []}
    for decision, proposal in rows:
        groups[effective_state(decision, now)].append((decision, proposal))
    signed = current_account(request)
    can_open = signed is not None and await may_open_decisions(
        request.app[sessions_key], signed.account
    )
    followed = await followed_decisions(
        request.app[runtime_key], signed.account if signed else None, now
    )
    context = {
        "groups": groups,
        "can_open": can_open,
        "followed": followed,
        "outcome_labels": OUTCOME_LABELS,
        **_labels(),
    }
    return render(request, "decisions/list.html", context)


async def _new_page(
    request: web.Request,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> web.StreamResponse:
    signed = require_role(request)
    proposals = await proposals_to_decide(request.app[sessions_key], signed.account)
    context = {
        "proposals": proposals,
        "values": values,
        "errors": errors,
        "methods": [m.value for m in DecisionMethod],
        **_labels(),
    }
    return render(request, "decisions/new.html", context, status=status)


@routes.get("/decisions/new")
async def decision_new_get(request: web.Request) -> web.StreamResponse:
    """The form to open a decision on a proposal in deliberation (facilitators only)."""
    signed = require_role(request)
    if not await may_open_decisions(request.app[sessions_key], signed.account):
        raise web.HTTPForbidden(text=FACILITATORS_ONLY)
    values = {"proposal": request.query.get("proposal", ""), "quorum": "10", "method": "consent"}
    return await _new_page(request, values, {})


@routes.post("/decisions")
async def decision_new_post(request: web.Request) -> web.StreamResponse:
    """Open a decision; the form comes back with each problem next to its field."""
    signed = require_role(request)
    data = await request.post()
    values = {key: str(data.get(key, "")) for key in data if key != "csrf"}
    if not await may_open_decisions(request.app[sessions_key], signed.account):
        return await _new_page(request, values, {"form": FACILITATORS_ONLY}, status=403)
    form = Form(data)
    proposal_id = form.text("proposal", max_length=26)
    question = form.text("question", max_length=300)
    method = form.choice("method", [m.value for m in DecisionMethod])
    zone = request.app[config_key].territory.zone
    opens_at = form.moment("opens_at", zone, required=False)
    closes_at = form.moment("closes_at", zone)
    quorum = form.number("quorum", minimum=0, maximum=100)
    if form.errors:
        return await _new_page(request, values, form.errors, status=400)
    assert closes_at is not None and quorum is not None, "checked by the form"
    draft = DecisionDraft(
        proposal_id, question, DecisionMethod(method), opens_at, closes_at, quorum / 100
    )
    try:
        decision = await open_decision(request.app[runtime_key], signed.account, draft)
    except NotAllowed as exc:
        return await _new_page(request, values, {"form": exc.message}, status=403)
    except ParticipationError as exc:
        return await _new_page(request, values, {exc.field or "form": exc.message}, status=400)
    raise web.HTTPFound(f"/decisions/{decision.id}")


async def _decision_page(
    request: web.Request,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.StreamResponse:
    signed = current_account(request)
    view = await decision_view(
        request.app[sessions_key],
        request.match_info["id"],
        signed.account.id if signed else None,
        utcnow(),
    )
    if view is None:
        raise web.HTTPNotFound(text="Cette décision n'existe pas.")
    context = {
        "view": view,
        "errors": errors or {},
        "values": values or {},
        "voted": request.query.get("voted") == "1",
        **_labels(),
    }
    return render(request, "decisions/page.html", context, status=status)


@routes.get(f"/decisions/{_ID}")
async def decision_get(request: web.Request) -> web.StreamResponse:
    """The decision: its `Question` for servers, its page for people."""
    if wants_activitypub(request):
        config = request.app[config_key]
        document = await question_for(request.app[sessions_key], config, request.match_info["id"])
        if document is None:
            raise web.HTTPNotFound(text="no such decision on this node")
        return activity_response(document)
    return await _decision_page(request)


@routes.post(f"/decisions/{_ID}/vote")
async def vote_post(request: web.Request) -> web.StreamResponse:
    """A resident's vote (or new vote, replacing the previous one)."""
    if current_account(request) is None:
        return await _decision_page(request, {"form": LOGIN_TO_VOTE}, status=403)
    signed = require_role(request)
    data = await request.post()
    choice, comment = str(data.get("choice", "")), str(data.get("comment", ""))
    try:
        await cast_vote(
            request.app[runtime_key], signed.account, request.match_info["id"], choice, comment
        )
    except ParticipationError as exc:
        values = {"choice": choice, "comment": comment}
        field = exc.field or "form"
        return await _decision_page(request, {field: exc.message}, values, status=400)
    raise web.HTTPFound(f"/decisions/{request.match_info['id']}?voted=1#vote")
