"""Moderation pages: residents report what they see; facilitators and admins work the queue
(/moderation); everyone reads the public moderation page (/about/moderation)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from federation.ports import DomainSeverity
from node.domain.actors import Role
from node.services.moderation.actions import (
    ModerationError,
    close_report,
    hide_content,
    lift_remote_sanction,
    lift_suspension,
    sanction_remote_account,
    suspend_resident,
    unhide_content,
    warn_resident,
)
from node.services.moderation.journal import PUBLIC_GROUPS
from node.services.moderation.public_page import public_moderation
from node.services.moderation.queue import REPORT_STATES, moderation_queue
from node.services.moderation.reports import ReportError, file_report, forward_report
from node.services.moderation.targets import find_target
from node.web.auth import require_role
from node.web.keys import runtime_key
from node.web.render import render

routes = web.RouteTableDef()

MODERATORS = (Role.FACILITATOR, Role.ADMIN)
_REPORT = r"/moderation/reports/{id:[0-9a-z]{26}}"


async def _target_of(request: web.Request, uri: str) -> Any:
    runtime = request.app[runtime_key]
    async with runtime.sessions() as session:
        return await find_target(session, runtime.config, uri)


@routes.get("/moderation/report")
async def report_get(request: web.Request) -> web.StreamResponse:
    """The form to report an item, comment, post or account (logged-in residents)."""
    require_role(request)
    uri = request.query.get("target", "")
    target = await _target_of(request, uri)
    if target is None:
        raise web.HTTPNotFound(text="Ce contenu n'existe pas sur ce nœud.")
    return render(request, "moderation/report.html", {"target": target, "error": None})


@routes.post("/moderation/report")
async def report_post(request: web.Request) -> web.StreamResponse:
    """File a report; the page then says it reached the moderators."""
    current = require_role(request)
    form = await request.post()
    uri, comment = str(form.get("target", "")), str(form.get("comment", ""))
    try:
        await file_report(request.app[runtime_key], current.account, uri, comment)
    except ReportError as exc:
        target = await _target_of(request, uri)
        if target is None:
            raise web.HTTPNotFound(text="Ce contenu n'existe pas sur ce nœud.") from None
        context = {"target": target, "error": str(exc), "comment": comment}
        return render(request, "moderation/report.html", context, status=400)
    return render(request, "moderation/reported.html", {"target": await _target_of(request, uri)})


@routes.get("/moderation")
async def queue_get(request: web.Request) -> web.StreamResponse:
    """The moderation queue: reports to work, and the sanctions in force."""
    require_role(request, *MODERATORS)
    state = request.query.get("state", "open")
    queue = await moderation_queue(request.app[runtime_key], state)
    context = {
        "queue": queue,
        "states": REPORT_STATES,
        "notice": request.query.get("done"),
        "error": None,
    }
    return render(request, "moderation/queue.html", context)


async def _act(
    request: web.Request, action: Callable[[Any, dict[str, str]], Awaitable[object]]
) -> web.StreamResponse:
    """Run a moderator's action from a form; back to the queue, with the reason if refused."""
    current = require_role(request, *MODERATORS)
    form = {key: str(value) for key, value in (await request.post()).items()}
    try:
        await action(current.account, form)
    except (ModerationError, ReportError) as exc:
        queue = await moderation_queue(request.app[runtime_key])
        context = {"queue": queue, "states": REPORT_STATES, "notice": None, "error": str(exc)}
        return render(request, "moderation/queue.html", context, status=400)
    raise web.HTTPFound("/moderation?done=1")


@routes.post(_REPORT + "/close")
async def report_close_post(request: web.Request) -> web.StreamResponse:
    """Resolve or dismiss a report."""
    runtime, report_id = request.app[runtime_key], request.match_info["id"]
    return await _act(
        request,
        lambda moderator, form: close_report(
            runtime, report_id, moderator, resolve=form.get("outcome") == "resolve"
        ),
    )


@routes.post(_REPORT + "/forward")
async def report_forward_post(request: web.Request) -> web.StreamResponse:
    """Send a report about a remote account to its server (a Flag from our instance actor)."""
    runtime, report_id = request.app[runtime_key], request.match_info["id"]
    return await _act(
        request, lambda moderator, form: forward_report(runtime, report_id, moderator)
    )


@routes.post("/moderation/hide")
async def hide_post(request: web.Request) -> web.StreamResponse:
    """Hide an item or comment, or show it again (`undo`)."""
    runtime = request.app[runtime_key]

    async def act(moderator: Any, form: dict[str, str]) -> None:
        if form.get("undo"):
            await unhide_content(runtime, form.get("uri", ""), moderator)
        else:
            await hide_content(
                runtime, form.get("uri", ""), form.get("reason", ""), moderator, form.get("report")
            )

    return await _act(request, act)


@routes.post("/moderation/residents")
async def residents_post(request: web.Request) -> web.StreamResponse:
    """Warn or suspend a resident, or lift a suspension."""
    runtime = request.app[runtime_key]

    async def act(moderator: Any, form: dict[str, str]) -> None:
        who, reason, report = form.get("who", ""), form.get("reason", ""), form.get("report")
        sanction = form.get("sanction")
        if sanction == "warn":
            await warn_resident(runtime, who, reason, moderator, report)
        elif sanction == "suspend":
            await suspend_resident(runtime, who, reason, moderator, report)
        elif sanction == "lift":
            await lift_suspension(runtime, who, moderator)
        else:
            raise ModerationError("Choisissez : avertir, suspendre ou lever la suspension.")

    return await _act(request, act)


@routes.post("/moderation/remote")
async def remote_post(request: web.Request) -> web.StreamResponse:
    """Limit (silence) or suspend a remote account, or lift it."""
    runtime = request.app[runtime_key]

    async def act(moderator: Any, form: dict[str, str]) -> None:
        uri, sanction = form.get("uri", ""), form.get("sanction")
        if sanction == "lift":
            await lift_remote_sanction(runtime, uri, moderator)
            return
        if sanction not in ("silence", "suspend"):
            raise ModerationError("Choisissez : limiter, suspendre ou lever.")
        await sanction_remote_account(
            runtime,
            uri,
            DomainSeverity(sanction),
            form.get("reason", ""),
            moderator,
            form.get("report"),
        )

    return await _act(request, act)


@routes.get("/about/moderation")
async def public_get(request: web.Request) -> web.StreamResponse:
    """The public moderation page: blocked domains, their reasons, actions per month."""
    page = await public_moderation(request.app[runtime_key])
    groups = list(dict.fromkeys(PUBLIC_GROUPS.values()))
    return render(request, "moderation/public.html", {"page": page, "groups": groups})
