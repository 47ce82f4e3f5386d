"""The territory's indicators: the dashboard (a server-drawn chart per indicator), each
indicator's page with its observations, the facilitators' forms (new indicator, definition,
observation, "compute now"), CSV import and export.

An indicator's URL, and each observation's, serve the ActivityPub document when asked for
JSON (vocabulary.md 5.7); the pages are French first, with English by the usual switch.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from node.domain.forms import FormInvalid
from node.domain.indicators import ARROWS, DIRECTION_LABELS, THEMES, VERDICT_LABELS
from node.services.knowledge.indicators.catalogue import (
    COMPUTED,
    COMPUTED_NOTE,
    FACILITATORS_ONLY,
    NoSuchIndicator,
    compute_now,
    create_indicator,
    dashboard,
    indicator_document,
    indicator_view,
    may_keep_indicators,
    observation_document,
    read_indicator,
    read_observation,
    record_observation,
    territory_today,
    update_indicator,
)
from node.services.knowledge.indicators.exports import indicators_csv, observations_csv
from node.services.knowledge.indicators.imports import (
    INDICATOR_COLUMNS,
    MAX_UPLOAD_BYTES,
    OBSERVATION_COLUMNS,
    ImportReport,
    import_indicators,
    import_observations,
)
from node.services.participation.needs import NotAllowed
from node.storage.models import Account
from node.web.auth import current_account, require_role
from node.web.charts import ReferenceLine, format_number, line_chart
from node.web.keys import config_key, sessions_key
from node.web.negotiation import activity_response, wants_activitypub
from node.web.render import render
from node.web.routes.members import refuse

routes = web.RouteTableDef()

_SLUG = "{slug:[a-z0-9]+(?:-[a-z0-9]+)*}"
_DAY = "{day:[0-9]{4}-[0-9]{2}-[0-9]{2}}"
LABELS = {
    "directions": DIRECTION_LABELS,
    "themes": THEMES,
    "verdicts": VERDICT_LABELS,
    "arrows": ARROWS,
}
#: ?done= after a form -> the notice the page shows
NOTICES = {
    "created": "L'indicateur a été ajouté au catalogue.",
    "updated": "La définition a été enregistrée.",
    "recorded": "L'observation a été enregistrée.",
    "corrected": "L'observation de ce jour a été corrigée.",
    "computed": "Le nœud a calculé la valeur du jour et l'a enregistrée.",
}
NO_FILE = "Choisissez un fichier CSV."
NO_INDICATOR = "Cet indicateur n'existe pas."
CSV_TYPE = "text/csv"


def _me(request: web.Request) -> Account | None:
    signed = current_account(request)
    return signed.account if signed else None


def _chart_tools() -> dict[str, Any]:
    """What the templates need to draw charts and write numbers."""
    return {"chart": line_chart, "Reference": ReferenceLine, "number": format_number}


@routes.get("/indicators")
async def dashboard_get(request: web.Request) -> web.StreamResponse:
    """How the territory is doing: one card per indicator, grouped by theme."""
    views = await dashboard(request.app[sessions_key], request.app[config_key])
    groups: dict[str, list[Any]] = {}
    for view in views:
        groups.setdefault(view.indicator.theme, []).append(view)
    may = await may_keep_indicators(request.app[sessions_key], _me(request))
    context = {"groups": groups, "count": len(views), "may": may, "labels": LABELS}
    return render(request, "indicators/dashboard.html", context | _chart_tools())


# --- new indicator -------------------------------------------------------------------------


async def _new_form(
    request: web.Request, values: dict[str, Any], errors: dict[str, str]
) -> web.Response:
    context = {"values": values, "errors": errors, "labels": LABELS}
    status = 400 if errors else 200
    return render(request, "indicators/new.html", context, status=status)


@routes.get("/indicators/new")
async def new_get(request: web.Request) -> web.StreamResponse:
    """The form of a new indicator (facilitators)."""
    account = require_role(request).account
    if not await may_keep_indicators(request.app[sessions_key], account):
        return refuse(request, FACILITATORS_ONLY)
    return await _new_form(request, {"direction": "increase"}, {})


@routes.post("/indicators/new")
async def new_post(request: web.Request) -> web.StreamResponse:
    """Add the indicator to the catalogue, then show its page."""
    account = require_role(request).account
    posted = await request.post()
    try:
        data = read_indicator(posted)
        await create_indicator(request.app[sessions_key], request.app[config_key], account, data)
    except NotAllowed as exc:
        return refuse(request, exc.message)
    except FormInvalid as exc:
        return await _new_form(request, dict(posted), exc.errors)
    raise web.HTTPFound(f"/indicators/{data.slug}?done=created")


# --- import and export ---------------------------------------------------------------------


async def _import_page(
    request: web.Request,
    report: ImportReport | None = None,
    errors: dict[str, str] | None = None,
    kind: str = "",
    status: int = 200,
) -> web.Response:
    context = {
        "report": report,
        "errors": errors or {},
        "kind": kind,
        "columns": {"observations": OBSERVATION_COLUMNS, "indicators": INDICATOR_COLUMNS},
        "max_megabytes": MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return render(request, "indicators/import.html", context, status=status)


@routes.get("/indicators/import")
async def import_get(request: web.Request) -> web.StreamResponse:
    """The two upload forms: observations, and indicator definitions (facilitators)."""
    account = require_role(request).account
    if not await may_keep_indicators(request.app[sessions_key], account):
        return refuse(request, FACILITATORS_ONLY)
    return await _import_page(request)


@routes.post("/indicators/import")
async def import_post(request: web.Request) -> web.StreamResponse:
    """Import a file, all or nothing; the page reports each rejected row and why."""
    account = require_role(request).account
    posted = await request.post()
    kind = str(posted.get("kind", ""))
    if kind not in ("observations", "indicators"):
        raise web.HTTPBadRequest(text="Type d'import inconnu.")
    upload = posted.get("file")
    if not isinstance(upload, web.FileField):
        return await _import_page(request, None, {"file": NO_FILE}, kind, status=400)
    data = upload.file.read(MAX_UPLOAD_BYTES + 1)
    sessions, config = request.app[sessions_key], request.app[config_key]
    try:
        if kind == "observations":
            today = territory_today(config)
            report = await import_observations(sessions, config, account, data, today)
        else:
            report = await import_indicators(sessions, config, account, data)
    except NotAllowed as exc:
        return refuse(request, exc.message)
    return await _import_page(request, report, None, kind, status=200 if report.ok else 400)


def _csv_response(text: str, name: str) -> web.Response:
    response = web.Response(text=text, content_type=CSV_TYPE, charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@routes.get("/indicators/export/indicators.csv")
async def export_indicators(request: web.Request) -> web.StreamResponse:
    """The catalogue as CSV (the import reads it back)."""
    text = await indicators_csv(request.app[sessions_key], request.app[config_key])
    return _csv_response(text, "indicators.csv")


@routes.get("/indicators/export/observations.csv")
async def export_observations(request: web.Request) -> web.StreamResponse:
    """Every observation as CSV (the import reads it back)."""
    return _csv_response(await observations_csv(request.app[sessions_key]), "observations.csv")


# --- one indicator -------------------------------------------------------------------------


async def _indicator_html(
    request: web.Request, failed: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    sessions = request.app[sessions_key]
    view = await indicator_view(sessions, request.app[config_key], request.match_info["slug"])
    if view is None:
        raise web.HTTPNotFound(text=NO_INDICATOR)
    notice = NOTICES.get(request.query.get("done", ""), "") if failed is None else ""
    context = {
        "view": view,
        "may": await may_keep_indicators(sessions, _me(request)),
        "failed": failed or {},
        "notice": notice,
        "today": territory_today(request.app[config_key]),
        "computed_note": COMPUTED_NOTE,
        "labels": LABELS,
    }
    return render(request, "indicators/indicator.html", context | _chart_tools(), status=status)


@routes.get(f"/indicators/{_SLUG}")
async def indicator_get(request: web.Request) -> web.StreamResponse:
    """The definition's Document for servers; the chart, table and forms for people."""
    if wants_activitypub(request):
        document = await indicator_document(
            request.app[sessions_key], request.app[config_key], request.match_info["slug"]
        )
        if document is None:
            raise web.HTTPNotFound(text="no such indicator on this node")
        return activity_response(document)
    return await _indicator_html(request)


@routes.get(f"/indicators/{_SLUG}/observations/{_DAY}")
async def observation_get(request: web.Request) -> web.StreamResponse:
    """An Observation for servers; people go to its row in the indicator's table."""
    slug, raw_day = request.match_info["slug"], request.match_info["day"]
    try:
        day = date.fromisoformat(raw_day)
    except ValueError:
        raise web.HTTPNotFound(text="no such observation on this node") from None
    if not wants_activitypub(request):
        raise web.HTTPFound(f"/indicators/{slug}#obs-{raw_day}")
    document = await observation_document(
        request.app[sessions_key], request.app[config_key], slug, day
    )
    if document is None:
        raise web.HTTPNotFound(text="no such observation on this node")
    return activity_response(document)


async def _act(request: web.Request, name: str) -> web.StreamResponse:
    """Run one of the facilitators' forms of an indicator page."""
    account = require_role(request).account
    slug = request.match_info["slug"]
    sessions, config = request.app[sessions_key], request.app[config_key]
    posted = await request.post()
    try:
        if name == "observation":
            created = await record_observation(
                sessions, config, account, slug, read_observation(posted, territory_today(config))
            )
            done = "recorded" if created else "corrected"
        elif name == "compute":
            await compute_now(sessions, config, account, slug, territory_today(config))
            done = "computed"
        else:
            data = read_indicator({**posted, "slug": slug})
            await update_indicator(sessions, account, slug, data)
            done = "updated"
    except NotAllowed as exc:
        return refuse(request, exc.message)
    except NoSuchIndicator:
        raise web.HTTPNotFound(text=NO_INDICATOR) from None
    except FormInvalid as exc:
        failed = {"form": name, "errors": exc.errors, "values": dict(posted)}
        return await _indicator_html(request, failed, status=400)
    anchor = "observations" if name != "definition" else "definition"
    raise web.HTTPFound(f"/indicators/{slug}?done={done}#{anchor}")


@routes.post(f"/indicators/{_SLUG}/observations")
async def observation_post(request: web.Request) -> web.StreamResponse:
    """Record (or correct) the value of a day."""
    return await _act(request, "observation")


@routes.post(f"/indicators/{_SLUG}/compute")
async def compute_post(request: web.Request) -> web.StreamResponse:
    """Compute a value from the node's own data and record it for today."""
    if request.match_info["slug"] not in COMPUTED:
        raise web.HTTPNotFound(text=NO_INDICATOR)
    return await _act(request, "compute")


@routes.post(f"/indicators/{_SLUG}/definition")
async def definition_post(request: web.Request) -> web.StreamResponse:
    """Correct the definition (everything but the short name)."""
    return await _act(request, "definition")
