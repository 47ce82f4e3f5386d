"""Bringing a node into existence: folder, database, own actors, first admin, config file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from instance_config import CONFIG_FILE_NAME, InstanceConfig, render_config_toml
from node.services.instance.setup import AdminCredentials, initialise_node
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.errors import reporting_database_errors
from node.storage.migrate import upgrade_database


def ensure_writable_folder(path: Path) -> None:
    """Create the folder if needed and prove we can write in it (raises OSError otherwise)."""
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
        pass


async def create_node(config: InstanceConfig, database_url: str) -> AdminCredentials | None:
    """Migrate the database, create the node's actors and admin, then write maillage.toml.

    The file is written last, so a failure (e.g. PostgreSQL unreachable) leaves the folder
    free for another `maillage init`.
    """
    engine = make_engine(config.database.url)
    try:
        async with reporting_database_errors(config.database.url):
            await upgrade_database(engine)
            credentials = await initialise_node(make_sessionmaker(engine), config)
    finally:
        await engine.dispose()
    (config.data_dir / CONFIG_FILE_NAME).write_text(
        render_config_toml(config, database_url), encoding="utf-8"
    )
    return credentials


def describe_created(config: InstanceConfig, credentials: AdminCredentials | None) -> list[str]:
    """What the admin needs to know after creation, one line each."""
    handle = f"@{config.territory.handle}@{config.node.domain}"
    lines = [f"Territory: {config.territory.name}, followable as {handle}"]
    if credentials is not None:
        lines += [
            f"Admin login: {credentials.username}",
            f"Admin one-time password: {credentials.password}",
            "  (shown once: note it now; you will choose a new one at first login)",
        ]
    return lines
