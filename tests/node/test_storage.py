"""Storage on both backends: migrations, the node's own actors, UTC times, SQLite settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from node.domain.actors import ActorKind
from node.services.accounts.passwords import verify_password
from node.services.instance.setup import initialise_node
from node.storage.actors import count_accounts, get_account_by_username, get_actor_of_kind
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.migrate import (
    VERSIONS_DIR,
    alembic_config,
    schema_differences,
    schema_state,
    scripted_head,
    shipped_head,
    upgrade_database,
)
from node.storage.models import Account, LocalActor
from tests.conftest import config_for


async def test_migrations_create_the_schema_the_models_declare(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        before = await schema_state(engine)
        assert before.current is None and not before.is_current
        await upgrade_database(engine)
        assert (await schema_state(engine)).is_current
        assert await schema_differences(engine) == []
        await upgrade_database(engine)  # a second upgrade is a no-op
        assert (await schema_state(engine)).is_current
    finally:
        await engine.dispose()


def test_the_shipped_head_read_from_the_scripts_is_alembics() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripted_head(VERSIONS_DIR) == shipped_head() == scripts.get_current_head()


def _script(folder: Path, revision: str, parent: str) -> None:
    (folder / f"2026_12_10_{revision}_x.py").write_text(
        f'"""x"""\n\nrevision: str = "{revision}"\ndown_revision: str | None = {parent}\n'
    )


def test_scripts_not_in_one_plain_line_are_left_to_alembic(tmp_path: Path) -> None:
    _script(tmp_path, "aaa", "None")
    _script(tmp_path, "bbb", "'aaa'")
    assert scripted_head(tmp_path) == "bbb"
    _script(tmp_path, "ccc", "'aaa'")  # a branch: two heads
    assert scripted_head(tmp_path) is None
    _script(tmp_path, "ddd", "('bbb', 'ccc')")  # their merge
    assert scripted_head(tmp_path) is None
    (tmp_path / "2026_12_10_ddd_x.py").unlink()
    _script(tmp_path, "ccc", "'bbb'")
    assert scripted_head(tmp_path) == "ccc"
    _script(tmp_path, "eee", "'zzz'")  # revises a script that is not shipped
    assert scripted_head(tmp_path) is None


async def test_a_database_behind_the_scripts_is_not_current(database_url: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_revision(scripts.get_current_head())
    assert isinstance(head.down_revision, str)
    engine = make_engine(database_url)

    def upgrade_to_previous(connection: object) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, str(head.down_revision))

    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to_previous)
        state = await schema_state(engine)
        assert (state.current, state.head) == (head.down_revision, head.revision)
        assert not state.is_current
        await upgrade_database(engine)
        assert (await schema_state(engine)).current == head.revision
    finally:
        await engine.dispose()


async def test_initialise_creates_actors_and_one_admin_once(
    database_url: str, tmp_path: Path
) -> None:
    config = config_for(tmp_path, database={"url": database_url.replace("+asyncpg", "")})
    engine = make_engine(config.database.url)
    try:
        await upgrade_database(engine)
        sessions = make_sessionmaker(engine)
        credentials = await initialise_node(sessions, config)
        assert credentials is not None and credentials.username == "admin"
        assert await initialise_node(sessions, config) is None  # idempotent
        async with sessions() as session:
            instance = await get_actor_of_kind(session, ActorKind.INSTANCE)
            territory = await get_actor_of_kind(session, ActorKind.TERRITORY)
            admin = await get_account_by_username(session, "ADMIN")
            assert await count_accounts(session) == 1
        assert instance is not None and instance.username == "saint-x.example"
        assert territory is not None and territory.username == "territoire"
        assert admin is not None and admin.role == "admin" and admin.must_change_password
        assert verify_password(admin.password_hash, credentials.password)
        assert not verify_password(admin.password_hash, credentials.password + "x")
        assert territory.created_at.tzinfo is not None
    finally:
        await engine.dispose()


async def test_datetimes_come_back_aware_in_utc(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade_database(engine)
        sessions = make_sessionmaker(engine)
        moment = datetime(2026, 3, 1, 12, 30, tzinfo=UTC) + timedelta(microseconds=0)
        async with sessions.begin() as session:
            session.add(
                LocalActor(
                    kind="person",
                    username="camille",
                    display_name="Camille",
                    rsa_private_pem="-",
                    ed25519_private_pem="-",
                    created_at=moment,
                )
            )
        async with sessions() as session:
            actor = (await session.execute(text("SELECT id FROM local_actors"))).scalar_one()
            loaded = await session.get(LocalActor, actor)
        assert loaded is not None and loaded.created_at == moment
        assert loaded.created_at.utcoffset() == timedelta(0)
    finally:
        await engine.dispose()


async def test_unique_handles_and_foreign_keys_are_enforced(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade_database(engine)
        sessions = make_sessionmaker(engine)
        with pytest.raises(IntegrityError):
            async with sessions.begin() as session:
                for _ in range(2):
                    session.add(
                        LocalActor(
                            kind="person",
                            username="dup",
                            display_name="D",
                            rsa_private_pem="-",
                            ed25519_private_pem="-",
                        )
                    )
        with pytest.raises(IntegrityError):
            async with sessions.begin() as session:
                session.add(
                    Account(
                        username="x", password_hash="-", role="resident", actor_id="does-not-exist"
                    )
                )
    finally:
        await engine.dispose()


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/wal.sqlite3")
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
    finally:
        await engine.dispose()
