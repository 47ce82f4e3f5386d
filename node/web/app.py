"""The composition root: the one place where configuration, storage and routes are wired."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from instance_config import InstanceConfig
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.keyring import KeyRing
from node.web.errors import error_middleware
from node.web.keys import config_key, engine_key, keyring_key, sessions_key, templates_key
from node.web.render import STATIC_DIR, make_templates
from node.web.routes import actors, health, pages, wellknown

#: Largest request body accepted, as Mastodon's inbox (MAX_JSON_SIZE): 1 MB.
MAX_BODY_BYTES = 1_000_000


def create_app(config: InstanceConfig) -> web.Application:
    """Build the node's web application for a configuration; resources open on start-up."""
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY_BYTES)
    app[config_key] = config
    app[keyring_key] = KeyRing()
    app[templates_key] = make_templates()
    app.cleanup_ctx.append(_database)
    for module in (wellknown, actors, pages, health):
        app.add_routes(module.routes)
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    """Open the engine at start-up and dispose of it at shutdown (after in-flight requests)."""
    engine = make_engine(app[config_key].database.url)
    app[engine_key] = engine
    app[sessions_key] = make_sessionmaker(engine)
    yield
    await engine.dispose()
