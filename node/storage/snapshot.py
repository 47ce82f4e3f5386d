"""Consistent copies of the database while the node runs, and their loading on a new machine.

SQLite: `VACUUM INTO` copies one read snapshot (WAL lets the node go on writing meanwhile)
into a compact file. PostgreSQL: `pg_dump` in its custom format, loaded by `pg_restore`.
"""

from __future__ import annotations

import asyncio
import glob
import shutil
import sqlite3
from pathlib import Path

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


class SnapshotFailed(Exception):
    """The database could not be copied or loaded; the message says what to do."""


def database_kind(url: str) -> str:
    """sqlite or postgresql, from an SQLAlchemy URL."""
    return SQLITE if url.startswith("sqlite") else POSTGRESQL


def sqlite_file(url: str) -> Path:
    """The file of a sqlite+aiosqlite:///path URL."""
    path = url.split(":///", 1)[1]
    if path in ("", ":memory:"):
        raise SnapshotFailed("an in-memory database has nothing to back up")
    return Path(path)


def libpq_url(url: str) -> str:
    """The postgresql+asyncpg:// URL as pg_dump and pg_restore spell it."""
    return "postgresql://" + url.split("://", 1)[1]


async def snapshot_database(url: str, target: Path) -> str:
    """Copy the database into `target` (which must not exist); returns its kind."""
    kind = database_kind(url)
    if kind == SQLITE:
        await asyncio.to_thread(_vacuum_into, sqlite_file(url), target)
    else:
        await _run(
            _tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--file",
            str(target),
            "--dbname",
            libpq_url(url),
        )
    return kind


async def load_database(kind: str, source: Path, url: str) -> None:
    """Load a snapshot made by `snapshot_database` into the (new, empty) database at `url`."""
    if kind != database_kind(url):
        raise SnapshotFailed(
            f"the backup holds a {kind} database but the target is {database_kind(url)}: "
            "give a --database-url of the same kind"
        )
    if kind == SQLITE:
        target = sqlite_file(url)
        if target.exists():
            raise SnapshotFailed(f"{target} already exists: restore into an empty folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return
    await _run(
        _tool("pg_restore"),
        "--no-owner",
        "--exit-on-error",
        "--dbname",
        libpq_url(url),
        str(source),
    )


def _vacuum_into(source: Path, target: Path) -> None:
    if not source.exists():
        raise SnapshotFailed(f"the database file {source} does not exist")
    connection = sqlite3.connect(source, timeout=30)
    try:
        connection.execute("VACUUM INTO ?", (str(target),))
    except sqlite3.Error as error:
        raise SnapshotFailed(f"cannot copy {source}: {error}") from None
    finally:
        connection.close()


def _tool(name: str) -> str:
    """A PostgreSQL client program: on the PATH, else in Debian's versioned folders."""
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise SnapshotFailed(
            f"{name} is needed for a PostgreSQL backup: install the PostgreSQL client "
            "(apt install postgresql-client)"
        )
    return found


async def _run(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        message = stderr.decode(errors="replace").strip().splitlines()
        raise SnapshotFailed(
            f"{Path(command[0]).name} failed: {message[-1] if message else process.returncode}"
        )
