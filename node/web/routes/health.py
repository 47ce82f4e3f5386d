"""Liveness and readiness for supervisors and load balancers."""

import asyncio
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from federation.liveness import Stall
from federation.worker_loop import BackgroundWorker
from node.web.keys import engine_key, watched_workers_key

routes = web.RouteTableDef()

#: A worker with work waiting and no progress for this long is reported stuck (seconds);
#: `?stall_after=` chooses another value between the bounds.
STALL_AFTER_SECONDS = 60.0
STALL_AFTER_BOUNDS = (1.0, 3600.0)
#: How long /healthz waits for a stuck worker's exact backlog before giving what it saw.
COUNT_TIMEOUT_SECONDS = 2.0


@routes.get("/healthz")
async def healthz_get(request: web.Request) -> web.StreamResponse:
    """200 when the node answers, its database does and no background worker is stuck;
    503 otherwise, naming what fails: the database, or each stuck worker with the work
    waiting for it and the seconds since its last progress."""
    stall_after = _stall_after(request)
    report: dict[str, Any] = {"status": "ok", "database": "ok"}
    try:
        async with request.app[engine_key].connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        report = {"status": "unavailable", "database": type(exc).__name__}
    stuck: dict[str, Any] = {}
    for worker in request.app.get(watched_workers_key, ()):
        stall = worker.progress.stall(stall_after)
        if stall is not None and (described := await _describe(worker, stall)):
            stuck[stall.worker] = described
    if stuck:
        report["workers"] = stuck
        if report["status"] == "ok":
            report["status"] = "stalled"
    healthy = report["status"] == "ok"
    return web.json_response(report, status=200 if healthy else 503)


def _stall_after(request: web.Request) -> float:
    """The `stall_after` query parameter in seconds, within bounds; 400 when it is not."""
    raw = request.query.get("stall_after")
    if raw is None:
        return STALL_AFTER_SECONDS
    low, high = STALL_AFTER_BOUNDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not low <= value <= high:  # also refuses nan
        raise web.HTTPBadRequest(
            text=f"stall_after must be a number of seconds from {low:g} to {high:g}"
        )
    return value


async def _describe(worker: BackgroundWorker, stall: Stall) -> dict[str, Any] | None:
    """What to say about a stuck worker, with its exact backlog when the database gives it
    in time (else what the worker last saw); None when nothing waits any more and its passes
    do not fail (it was done, not stuck)."""
    try:
        pending = await asyncio.wait_for(worker.count_waiting(), COUNT_TIMEOUT_SECONDS)
    except (SQLAlchemyError, OSError, TimeoutError):
        pending = stall.waiting
    if not (pending or stall.failures or stall.ended):
        return None
    described: dict[str, Any] = {
        "pending": pending,
        "seconds_without_progress": stall.seconds_without_progress,
        "failed_passes": stall.failures,
        "error": stall.error or None,
    }
    if stall.ended:
        described["stopped"] = True
    return described
