"""Pages of other territories' decisions: /decisions/remote/<id> shows one as last received
(options, closing time, result, a link to its territory's page) and lets a resident answer
it; the answer goes from the resident's actor to the deciding territory (non-binding there).
"""

from __future__ import annotations

from aiohttp import web

from node.convert.received_decisions import OUTCOME_LABELS
from node.services.participation.needs import ParticipationError
from node.services.participation.remote_decisions import (
    answer_remote_decision,
    remote_decision,
)
from node.storage.base import utcnow
from node.web.auth import current_account, require_role
from node.web.keys import runtime_key
from node.web.render import render
from node.web.routes.decisions import STATE_LABELS

routes = web.RouteTableDef()

_ID = r"{id:[0-9a-z]{26}}"
LOGIN_TO_ANSWER = "Seul·es les habitant·es connecté·es peuvent répondre : connectez-vous."


async def _page(
    request: web.Request,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    signed = current_account(request)
    view = await remote_decision(
        request.app[runtime_key],
        request.match_info["id"],
        signed.account if signed else None,
        utcnow(),
    )
    if view is None:
        raise web.HTTPNotFound(text="Cette décision n'existe pas.")
    context = {
        "view": view,
        "errors": errors or {},
        "answered": request.query.get("answered") == "1",
        "state_labels": STATE_LABELS,
        "outcome_labels": OUTCOME_LABELS,
    }
    return render(request, "decisions/remote.html", context, status=status)


@routes.get(f"/decisions/remote/{_ID}")
async def remote_decision_get(request: web.Request) -> web.StreamResponse:
    """Another territory's decision, as received, with the answer form while it is open."""
    return await _page(request)


@routes.post(f"/decisions/remote/{_ID}/answer")
async def remote_answer_post(request: web.Request) -> web.StreamResponse:
    """A resident's answer to another territory's decision (a new one replaces the last)."""
    if current_account(request) is None:
        return await _page(request, {"form": LOGIN_TO_ANSWER}, status=403)
    signed = require_role(request)
    data = await request.post()
    try:
        await answer_remote_decision(
            request.app[runtime_key],
            signed.account,
            request.match_info["id"],
            str(data.get("choice", ""))[:1000],
        )
    except ParticipationError as exc:
        return await _page(request, {exc.field or "form": exc.message}, status=400)
    raise web.HTTPFound(f"/decisions/remote/{request.match_info['id']}?answered=1#answer")
