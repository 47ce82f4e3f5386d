"""A Runtime outside the web server, for CLI commands (announce, follow, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from federation.http import FederationClient
from instance_config import InstanceConfig
from node import __version__
from node.services.moderation.domain_blocks import adopt_configured_blocks
from node.services.moderation.policy import ModerationPolicy
from node.services.runtime import Runtime, make_runtime
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.errors import reporting_database_errors
from node.storage.keyring import KeyRing


@asynccontextmanager
async def standalone_runtime(config: InstanceConfig) -> AsyncIterator[Runtime]:
    """Open the database and the outbound client for one command, and close them after.

    Deliveries are only logged here: the serving process's worker sends them.
    """
    engine = make_engine(config.database.url)
    moderation = ModerationPolicy()
    client = FederationClient.from_config(config, __version__, moderation)
    try:
        async with reporting_database_errors(config.database.url):
            await client.start()
            sessions = make_sessionmaker(engine)
            await adopt_configured_blocks(sessions, config)
            await moderation.refresh(sessions)
            yield make_runtime(config, sessions, client, KeyRing(), moderation)
    finally:
        await client.close()
        await engine.dispose()
