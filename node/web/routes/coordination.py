"""The coordinator's pages: search across the followed territories, statistics by theme with
charts, open data of the aggregate, and for admins: follow requests, discovered territories,
the allow-list, the index and the digest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select

from node.convert.experiments import OUTCOME_LABELS, OUTCOMES
from node.convert.needs import THEMES
from node.domain.actors import Role
from node.services.coordination import discovery
from node.services.coordination.digest import publish_digest
from node.services.coordination.following import follow_requests, follow_territory, sync_allow_list
from node.services.coordination.index import is_coordinator, reindex
from node.services.coordination.open_data import (
    entries_csv,
    entries_jsonld,
    statistics_csv,
    statistics_jsonld,
)
from node.services.coordination.search import Filters, search
from node.services.coordination.statistics import all_entries, theme_statistics, totals
from node.storage.models import CoordinationEntry
from node.web.auth import require_role
from node.web.bars import Bar, bar_chart
from node.web.i18n import choose_language, translator
from node.web.keys import config_key, runtime_key, sessions_key
from node.web.negotiation import json_body
from node.web.render import render

routes = web.RouteTableDef()
KIND_LABELS = {
    "experiment": "Expérimentation",
    "evaluation": "Évaluation",
    "proposal": "Proposition",
    "offer": "Offre ou demande",
}


def _coordinator_only(request: web.Request) -> None:
    if not is_coordinator(request.app[config_key]):
        raise web.HTTPNotFound(
            text='Ce nœud n\'est pas un coordinateur (node.role = "coordinator").'
        )


def _day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def _filters(query: Any) -> Filters:
    return Filters(
        query=query.get("q", "")[:200],
        kind=query.get("kind", "") if query.get("kind") in KIND_LABELS else "",
        theme=query.get("theme", "")[:64],
        state=query.get("state", "")[:32],
        outcome=query.get("outcome", "") if query.get("outcome") in OUTCOMES else "",
        territory=query.get("territory", "")[:2048],
        since=_day(query.get("since", "")),
        until=_day(query.get("until", "")),
    )


async def _territories(request: web.Request) -> list[tuple[str, str]]:
    async with request.app[sessions_key]() as session:
        rows = await session.execute(
            select(CoordinationEntry.territory_uri, CoordinationEntry.territory_name)
            .distinct()
            .order_by(CoordinationEntry.territory_name, CoordinationEntry.territory_uri)
        )
        return [(uri, name or uri) for uri, name in rows]


@routes.get("/coordination")
async def search_page(request: web.Request) -> web.StreamResponse:
    """Search the followed territories' experiments, evaluations, proposals and offers."""
    _coordinator_only(request)
    filters = _filters(request.query)
    async with request.app[sessions_key]() as session:
        results = await search(session, filters)
        counted = totals(await all_entries(session))
    return render(
        request,
        "coordination/search.html",
        {
            "filters": filters,
            "results": results,
            "totals": counted,
            "kinds": KIND_LABELS,
            "themes": THEMES,
            "outcomes": OUTCOME_LABELS,
            "territories": await _territories(request),
            "searched": bool(request.query),
        },
    )


@routes.get("/coordination/statistics")
async def statistics_page(request: web.Request) -> web.StreamResponse:
    """Figures by theme across the followed territories, with charts."""
    _coordinator_only(request)
    async with request.app[sessions_key]() as session:
        entries = await all_entries(session)
    figures = theme_statistics(entries)
    _ = translator(choose_language(request, request.app[config_key].territory.default_language))
    label = lambda theme: _(THEMES.get(theme, theme) or "Sans thème")  # noqa: E731
    experiments_chart = bar_chart(
        _("Expérimentations par thème"),
        [_("Originales"), _("Réplications")],
        [Bar(label(f.theme), (f.experiments - f.replications, f.replications)) for f in figures],
    )
    outcome_chart = bar_chart(
        _("Résultats des évaluations par thème"),
        [_(OUTCOME_LABELS[o]) for o in OUTCOMES],
        [
            Bar(label(f.theme), tuple(float(n) for _, n in f.outcomes))
            for f in figures
            if f.evaluated
        ],
    )
    return render(
        request,
        "coordination/statistics.html",
        {
            "figures": figures,
            "totals": totals(entries),
            "themes": THEMES,
            "outcomes": OUTCOME_LABELS,
            "experiments_chart": experiments_chart,
            "outcome_chart": outcome_chart,
        },
    )


def _download(body: str | bytes, content_type: str, name: str) -> web.Response:
    return web.Response(
        body=body.encode() if isinstance(body, str) else body,
        content_type=content_type,
        charset="utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "Access-Control-Allow-Origin": "*",
        },
    )


@routes.get("/coordination/data/{dataset:entries|statistics}.{suffix:csv|jsonld}")
async def open_data(request: web.Request) -> web.StreamResponse:
    """The aggregate as open data, each row or item naming its sources."""
    _coordinator_only(request)
    config = request.app[config_key]
    dataset, suffix = request.match_info["dataset"], request.match_info["suffix"]
    async with request.app[sessions_key]() as session:
        entries = await all_entries(session)
    name = f"coordination-{dataset}.{suffix}"
    if suffix == "csv":
        make = entries_csv if dataset == "entries" else statistics_csv
        return _download(make(config, entries), "text/csv", name)
    document = (entries_jsonld if dataset == "entries" else statistics_jsonld)(config, entries)
    url = f"{config.node.base_url}/coordination/data/{dataset}"
    document["id"], document["url"] = f"{url}.jsonld", url + ".csv"
    return _download(json_body(document), "application/ld+json", name)


@routes.get("/coordination/admin")
async def admin_page(request: web.Request) -> web.StreamResponse:
    """What the coordinator's admin decides: whom to follow, and the index and digest."""
    _coordinator_only(request)
    require_role(request, Role.ADMIN)
    runtime = request.app[runtime_key]
    return render(
        request,
        "coordination/admin.html",
        {
            "requests": await follow_requests(runtime),
            "proposals": await discovery.proposals(runtime),
            "allow": runtime.config.coordination.allow,
            "done": request.query.get("done", ""),
            "problem": request.query.get("problem", ""),
        },
    )


ADMIN_ACTIONS = ("follow", "dismiss", "sync", "discover", "reindex", "digest")


async def admin_action(request: web.Request) -> web.StreamResponse:
    """Follow a territory, set a proposal aside, or run the allow-list, discovery, index or
    digest now."""
    _coordinator_only(request)
    require_role(request, Role.ADMIN)
    runtime = request.app[runtime_key]
    form = await request.post()
    action = request.path.rsplit("/", 1)[1]
    problem = ""
    if action == "follow":
        result = await follow_territory(runtime, str(form.get("target", "")))
        problem = result.problem or ""
    elif action == "dismiss":
        await discovery.dismiss(runtime, str(form.get("target", "")))
    elif action == "sync":
        problem = "; ".join(r.problem for r in await sync_allow_list(runtime) if r.problem)
    elif action == "discover":
        await discovery.discover(runtime)
    elif action == "reindex":
        await reindex(runtime)
    else:
        await publish_digest(runtime)
    target = f"/coordination/admin?done={action}"
    if problem:
        target += "&problem=" + quote(problem[:300])
    raise web.HTTPFound(target)


for _action in ADMIN_ACTIONS:
    routes.post(f"/coordination/admin/{_action}")(admin_action)
