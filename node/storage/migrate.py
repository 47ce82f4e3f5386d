"""Apply and inspect alembic migrations on an async engine, from the CLI or at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from node.storage import models  # noqa: F401  (registers every table on Base.metadata)
from node.storage.base import Base, is_modelled


def alembic_config() -> Config:
    """Alembic configuration pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", "node.storage:migrations")
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return config


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a database stands against the migrations shipped with this version."""

    current: str | None
    head: str

    @property
    def is_current(self) -> bool:
        """True when no migration is pending."""
        return self.current == self.head


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply every pending migration (up to `revision`: tests of a migration stop before
    it) in one transaction."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def schema_state(engine: AsyncEngine) -> SchemaState:
    """The applied revision and the newest one shipped."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships no migration"
    async with engine.connect() as connection:
        current = await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
    return SchemaState(current=current, head=head)


async def schema_differences(engine: AsyncEngine) -> list[object]:
    """What the models declare that the migrated database lacks (empty when they agree)."""
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: list(
                compare_metadata(
                    MigrationContext.configure(sync, opts={"include_object": is_modelled}),
                    Base.metadata,
                )
            )
        )
