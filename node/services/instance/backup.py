"""Backups a volunteer admin can trust: one file with the database, configuration and keys.

The actors' keys live in the database, so a backup is the database (a consistent copy made
while the node runs) plus every file of the data folder (configuration, boundary, ...).
Restoring puts them in a new folder, on a new machine if need be, and brings the schema up to
date, so that `maillage check` passes and the node serves as before under the same name.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from instance_config import CONFIG_FILE_NAME, InstanceConfig, load_config
from node import __version__
from node.storage.engine import make_engine
from node.storage.migrate import upgrade_database
from node.storage.snapshot import (
    SQLITE,
    SnapshotFailed,
    database_kind,
    load_database,
    snapshot_database,
    sqlite_file,
)

FORMAT = "maillage-backup/1"
MANIFEST = "manifest.json"
FILES = "files/"
DATABASE = {SQLITE: "database.sqlite3", "postgresql": "database.pgdump"}
#: Files of the data folder a backup leaves out: the live database, and archives.
_SKIPPED = re.compile(r".*(\.sqlite3(-wal|-shm|-journal)?|\.tar\.gz|\.partial)$")


class BackupError(Exception):
    """A backup or a restore that cannot be done; the message says what to do."""


@dataclass(frozen=True, slots=True)
class BackupSummary:
    """What a backup holds."""

    path: Path
    database: str
    files: list[str]
    size: int


@dataclass(frozen=True, slots=True)
class RestoreSummary:
    """What a restore put where."""

    data_dir: Path
    database_url: str
    files: list[str]
    created: str


async def create_backup(config: InstanceConfig, data_dir: Path, out: Path) -> BackupSummary:
    """Write a backup of the running node to `out` (written beside it, then renamed)."""
    url = config.database.url
    kind = database_kind(url)
    live = sqlite_file(url) if kind == SQLITE else out
    files = await asyncio.to_thread(_data_files, data_dir, [live, out])
    names = [path.relative_to(data_dir).as_posix() for path in files]
    manifest = {
        "format": FORMAT,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "maillage": __version__,
        "base_url": config.node.base_url,
        "database": kind,
        "files": names,
    }
    with tempfile.TemporaryDirectory(dir=out.parent) as work:
        snapshot = Path(work) / DATABASE[kind]
        try:
            await snapshot_database(url, snapshot)
        except SnapshotFailed as failed:
            raise BackupError(str(failed)) from None
        size = await asyncio.to_thread(_write_archive, out, manifest, snapshot, files, names)
    return BackupSummary(out, kind, names, size)


def _data_files(data_dir: Path, leave_out: list[Path]) -> list[Path]:
    """The data folder's files a backup carries: not the live database, nor archives."""
    skipped = {path.resolve() for path in leave_out}
    return [
        path
        for path in sorted(data_dir.rglob("*"))
        if path.is_file() and not _SKIPPED.match(path.name) and path.resolve() not in skipped
    ]


def _write_archive(
    out: Path, manifest: dict[str, object], snapshot: Path, files: list[Path], names: list[str]
) -> int:
    """The archive, manifest first; returns its size in bytes."""
    partial = out.with_name(out.name + ".partial")
    with tarfile.open(partial, "w:gz") as archive:
        data = json.dumps(manifest, indent=2).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
        archive.add(snapshot, snapshot.name)
        for path, name in zip(files, names, strict=True):
            archive.add(path, FILES + name)
    partial.replace(out)
    return out.stat().st_size


async def restore_backup(
    archive_path: Path, data_dir: Path, database_url: str | None = None
) -> RestoreSummary:
    """Bring a backup back into `data_dir`, a new folder; `database_url` chooses where its
    database goes (default: the same place as before, inside the folder for SQLite)."""
    if (data_dir / CONFIG_FILE_NAME).exists():
        raise BackupError(
            f"{data_dir} already holds a node: restore into a new folder (--data NEW_FOLDER)"
        )
    try:
        archive = tarfile.open(archive_path, "r:gz")
    except FileNotFoundError:
        raise BackupError(f"{archive_path} does not exist") from None
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(f"{archive_path} is not a Maillage backup: {error}") from None
    with archive, tempfile.TemporaryDirectory() as work:
        manifest = _manifest(archive)
        kind = manifest["database"]
        files = _extract_files(archive, data_dir)
        if CONFIG_FILE_NAME not in files:
            raise BackupError("the backup has no configuration file: it is incomplete")
        snapshot = Path(work) / DATABASE[kind]
        _extract_member(archive, DATABASE[kind], snapshot)
        url = _place_database(data_dir, kind, database_url)
        try:
            await load_database(kind, snapshot, url)
        except SnapshotFailed as failed:
            raise BackupError(str(failed)) from None
    engine = make_engine(url)
    try:
        await upgrade_database(engine)  # a backup made by an older version
    finally:
        await engine.dispose()
    return RestoreSummary(data_dir, url, files, str(manifest.get("created", "")))


def _manifest(archive: tarfile.TarFile) -> dict[str, object]:
    member = archive.next()
    stream = archive.extractfile(member) if member and member.name == MANIFEST else None
    try:
        manifest = json.loads(stream.read(100_000)) if stream else None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("the file is not a Maillage backup (no backup manifest)")
    if manifest.get("database") not in DATABASE:
        raise BackupError("the backup names an unknown kind of database")
    return manifest


def _extract_files(archive: tarfile.TarFile, data_dir: Path) -> list[str]:
    """The data folder's files, each checked to stay inside the folder."""
    names = []
    for member in archive.getmembers():
        if not member.name.startswith(FILES):
            continue
        relative = PurePosixPath(member.name[len(FILES) :])
        if not member.isfile() or relative.is_absolute() or ".." in relative.parts:
            raise BackupError(f"the backup holds an unsafe entry {member.name!r}: not restored")
        _extract_member(archive, member.name, data_dir / relative)
        names.append(relative.as_posix())
    return names


def _extract_member(archive: tarfile.TarFile, name: str, target: Path) -> None:
    try:
        stream = archive.extractfile(name)
    except KeyError:
        raise BackupError(f"the backup lacks {name}: it is incomplete") from None
    if stream is None:
        raise BackupError(f"{name} in the backup is not a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        while chunk := stream.read(1 << 20):
            out.write(chunk)


def _place_database(data_dir: Path, kind: str, database_url: str | None) -> str:
    """Where the restored database goes, written into the restored configuration.

    A SQLite database goes inside the new folder unless told otherwise, so that a restore
    on the same machine never overwrites the node it was made from.
    """
    config_path = data_dir / CONFIG_FILE_NAME
    placed = load_config(data_dir, {}).database.url
    if database_url is None and kind == SQLITE:
        inside = sqlite_file(placed).resolve().parent == data_dir.resolve()
        database_url = None if inside else "sqlite:///maillage.sqlite3"
    if database_url is None:
        return placed
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(_with_database_url(text, database_url), encoding="utf-8")
    return load_config(data_dir, {}).database.url


def _with_database_url(text: str, url: str) -> str:
    """The configuration text with [database] url set to `url` (its comment kept)."""
    value = json.dumps(url)
    section = re.search(r"^\[database\][^\[]*", text, flags=re.MULTILINE)
    if section is None:
        return text.rstrip("\n") + f"\n\n[database]\nurl = {value}\n"
    body, count = re.subn(
        r"^(url\s*=\s*)(\"[^\"]*\"|'[^']*')",
        lambda m: m.group(1) + value,
        section.group(0),
        count=1,
        flags=re.MULTILINE,
    )
    if not count:
        body = body.replace("[database]\n", f"[database]\nurl = {value}\n", 1)
    return text[: section.start()] + body + text[section.end() :]
