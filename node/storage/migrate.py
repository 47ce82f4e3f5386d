"""Apply and inspect alembic migrations on an async engine, from the CLI or at start-up.

alembic (with mako and pygments: about 170 ms and 12 MB) is imported only when a migration
runs or the schema is compared: a start on an up-to-date database only reads the applied
revision and the revisions shipped in migrations/versions/.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import column, inspect, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from node.storage import models  # noqa: F401  (registers every table on Base.metadata)
from node.storage.base import Base, is_modelled

if TYPE_CHECKING:
    from alembic.config import Config

#: Where alembic keeps the applied revision (its default; env.py does not change it).
VERSION_TABLE = "alembic_version"
VERSIONS_DIR = Path(__file__).with_name("migrations") / "versions"
#: `revision = "id"` and `down_revision = "id" | None` as alembic's script template writes
#: them (with or without a type annotation); anything else makes alembic read the scripts.
_ASSIGNMENT = re.compile(
    r"^(?P<name>revision|down_revision)\b[^=\n]*=\s*(?:None|(['\"])(?P<id>\w+)\2)\s*$",
    re.MULTILINE,
)


def alembic_config() -> Config:
    """Alembic configuration pointing at the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config

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
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def schema_state(engine: AsyncEngine) -> SchemaState:
    """The applied revision and the newest one shipped."""
    head = shipped_head()
    async with engine.connect() as connection:
        current = await connection.run_sync(applied_revision)
    return SchemaState(current=current, head=head)


@functools.cache
def shipped_head() -> str:
    """The newest revision shipped in migrations/versions/: read from the scripts' text (a
    millisecond) rather than by importing alembic and every script, unless the scripts are
    not one line of plain revisions (a merge, a branch), when alembic decides."""
    return scripted_head(VERSIONS_DIR) or _alembic_head()


def scripted_head(versions: Path) -> str | None:
    """The one revision of the scripts in `versions` that no other script revises, when
    each script names its revision and parent plainly; None when alembic must tell."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        found = {m["name"]: m["id"] for m in _ASSIGNMENT.finditer(script.read_text("utf-8"))}
        if found.get("revision") is None or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        if found["down_revision"] is not None:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def _alembic_head() -> str:
    """The head revision as alembic computes it (raises if the scripts have several)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships no migration"
    return head


def applied_revision(connection: Connection) -> str | None:
    """The revision the database is at (None before the first migration), read from
    alembic's version table with one query; alembic reads it when there are several."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = table(VERSION_TABLE, column("version_num"))
    revisions = list(connection.execute(select(versions.c.version_num)).scalars())
    if len(revisions) <= 1:
        return revisions[0] if revisions else None
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


async def schema_differences(engine: AsyncEngine) -> list[object]:
    """What the models declare that the migrated database lacks (empty when they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: list(
                compare_metadata(
                    MigrationContext.configure(sync, opts={"include_object": is_modelled}),
                    Base.metadata,
                )
            )
        )
