"""Shared fixtures: configurations, initialised nodes on SQLite, and a real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig, parse_config
from node.services.instance.setup import AdminCredentials, initialise_node
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.migrate import upgrade_database
from node.web.app import create_app
from tests.testrig.browser import browser  # noqa: F401
from tests.testrig.fixtures import fedify_peer, fedify_peer_dir  # noqa: F401
from tests.testrig.people import HTTP_NODE
from tests.testrig.postgres import PostgresServer, PostgresUnavailable, start_postgres
from tests.testrig.remote import FakeRemote

BASE_URL = "https://saint-x.example"


def config_for(data_dir: Path, **sections: dict[str, Any]) -> InstanceConfig:
    """A valid configuration for a test node, with some sections' keys replaced."""
    raw: dict[str, dict[str, Any]] = {
        "node": {"base_url": BASE_URL},
        "territory": {"name": "Saint-X", "description": "Un village de test.\nDeux lignes."},
        "database": {"url": f"sqlite:///{data_dir}/node.sqlite3"},
    }
    for section, keys in sections.items():
        raw.setdefault(section, {}).update(keys)
    return parse_config(raw, data_dir, {})


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., InstanceConfig]:
    """Factory of configurations living in the test's temporary folder."""
    return lambda **sections: config_for(tmp_path, **sections)


async def initialise(config: InstanceConfig) -> AdminCredentials | None:
    """Migrate the node's database and create its actors, as `maillage init` does."""
    engine = make_engine(config.database.url)
    try:
        await upgrade_database(engine)
        return await initialise_node(make_sessionmaker(engine), config)
    finally:
        await engine.dispose()


@pytest.fixture
async def node_config(make_config: Callable[..., InstanceConfig]) -> InstanceConfig:
    """An initialised node on a SQLite file."""
    config = make_config()
    await initialise(config)
    return config


@pytest.fixture
async def client(aiohttp_client: Any, node_config: InstanceConfig) -> AsyncIterator[TestClient]:
    """An HTTP client talking to the node's real application."""
    yield await aiohttp_client(create_app(node_config))


@pytest.fixture
async def remote(aiohttp_server: Any) -> FakeRemote:
    """A fake fediverse server on loopback with real keys (tests/testrig/remote.py)."""
    fake = FakeRemote()
    server = await aiohttp_server(fake.app)
    fake.base = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def web_node(aiohttp_client: Any, make_config: Any) -> TestClient:
    """A node browsed over plain http (its cookies are then not Secure), allowed to reach the
    loopback fake remote, with the workers left to the test."""
    config = make_config(node=HTTP_NODE, federation={"allow_private_addresses": True})
    await initialise(config)
    return await aiohttp_client(create_app(config, workers=False))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL for the whole run, or a skip that says why there is none."""
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend: a SQLite file, and a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/node.sqlite3"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"test_{uuid.uuid4().hex[:12]}")


@pytest.fixture
async def node_sessions(
    database_url: str, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on an initialised node (migrated, actors and admin created), on each backend."""
    config = config_for(tmp_path, database={"url": database_url.replace("+asyncpg", "")})
    await initialise(config)
    engine = make_engine(config.database.url)
    yield make_sessionmaker(engine)
    await engine.dispose()
