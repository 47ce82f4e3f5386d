"""Liveness and readiness for supervisors and load balancers."""

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from node.web.keys import engine_key

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz_get(request: web.Request) -> web.StreamResponse:
    """200 when the node answers and its database does, 503 otherwise."""
    try:
        async with request.app[engine_key].connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        return web.json_response(
            {"status": "unavailable", "database": type(exc).__name__}, status=503
        )
    return web.json_response({"status": "ok", "database": "ok"})
