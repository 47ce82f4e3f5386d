"""Backups made while the node runs, restored into a new folder: everything acknowledged is
there, the keys and configuration too, and `maillage check` passes. Real `maillage serve`,
real signed deliveries from a loopback server, real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import tarfile
from pathlib import Path
from typing import Any

import aiohttp

from tests.testrig.nodes import MaillageNode
from tests.testrig.processes import run_maillage
from tests.testrig.remote import AS, FakeRemote, signed_post

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


async def intake(
    node: MaillageNode, remote: FakeRemote, acknowledged: list[str], stop: asyncio.Event
) -> None:
    """Signed Creates to the node's shared inbox until told to stop; records each 202."""
    author = remote.add_actor("poster")
    async with aiohttp.ClientSession() as session:
        for number in range(10_000):
            if stop.is_set():
                return
            activity_id = f"{author.uri}/activities/{number}"
            activity = {
                "@context": AS,
                "id": activity_id,
                "type": "Create",
                "actor": author.uri,
                "to": [PUBLIC],
                "object": {
                    "id": f"{author.uri}/notes/{number}",
                    "type": "Note",
                    "attributedTo": author.uri,
                    "to": [PUBLIC],
                    "content": f"<p>note {number}</p>",
                },
            }
            body, headers = signed_post(author, f"{node.base}/inbox", activity)
            async with session.post(f"{node.base}/inbox", data=body, headers=headers) as answer:
                if answer.status == 202:
                    acknowledged.append(activity_id)


async def test_a_backup_during_an_intake_restores_everything_acknowledged_before_it(
    tmp_path: Path, remote: FakeRemote
) -> None:
    node = MaillageNode(tmp_path, "Amont").start()
    try:
        acknowledged: list[str] = []
        stop = asyncio.Event()
        sending = asyncio.create_task(intake(node, remote, acknowledged, stop))
        for _ in range(300):  # let the intake get going
            if len(acknowledged) >= 30 or sending.done():
                break
            await asyncio.sleep(0.1)
        before = list(acknowledged)
        assert len(before) >= 30, node.stop()
        backup = tmp_path / "amont.tar.gz"
        made = await asyncio.to_thread(
            run_maillage, "backup", "--data", str(node.data), "--out", str(backup)
        )
        during = len(acknowledged) - len(before)
        stop.set()
        await sending
    finally:
        log = node.stop()
    assert made.returncode == 0, made.stderr + log
    assert "wrote" in made.stdout and "maillage restore --data NEW_FOLDER" in made.stdout
    assert during > 0  # the intake went on while the copy was made

    restored_dir = tmp_path / "restored"
    restored = run_maillage("restore", "--data", str(restored_dir), str(backup))
    assert restored.returncode == 0, restored.stderr
    check = run_maillage("check", "--data", str(restored_dir))
    assert check.returncode == 0, check.stdout + check.stderr

    database = restored_dir / "maillage.sqlite3"
    stored = {row[0] for row in rows(database, "SELECT activity_id FROM inbox_items")}
    assert set(before) <= stored
    original = node.data / "maillage.sqlite3"
    keys = "SELECT username, rsa_private_pem, ed25519_private_pem FROM local_actors ORDER BY 1"
    assert rows(database, keys) == rows(original, keys)
    assert (restored_dir / "maillage.toml").read_text() == (node.data / "maillage.toml").read_text()

    again = run_maillage("restore", "--data", str(restored_dir), str(backup))
    assert again.returncode == 2 and "already holds a node" in again.stderr

    # The restored node serves under the same name, with what it had.
    node.data = restored_dir
    node.start()
    try:
        status, actor = node.json("/actors/territoire")
        assert status == 200 and actor["id"] == node.territory
    finally:
        node.stop()


def test_what_is_not_a_backup_is_refused_with_a_reason(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"nothing like a backup")
    refused = run_maillage("restore", "--data", str(tmp_path / "new"), str(junk))
    assert refused.returncode == 2 and "is not a Maillage backup" in refused.stderr
    missing = run_maillage("restore", "--data", str(tmp_path / "new"), str(tmp_path / "none"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as archive:
        for name, data in (
            ("manifest.json", json.dumps({"format": "maillage-backup/1", "database": "sqlite"})),
            ("files/../../escaped.txt", "out of the folder"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data.encode())
            archive.addfile(info, io.BytesIO(data.encode()))
    unsafe = run_maillage("restore", "--data", str(tmp_path / "new2"), str(evil))
    assert unsafe.returncode == 2 and "unsafe entry" in unsafe.stderr
    assert not (tmp_path / "escaped.txt").exists()


def test_a_postgresql_node_is_backed_up_with_pg_dump_and_restored(
    tmp_path: Path, postgres_server: Any
) -> None:
    source_url = postgres_server.create_database("backup_source")
    target_url = postgres_server.create_database("backup_target")
    node = MaillageNode(tmp_path, "Pg", "--database-url", source_url)
    announced = node.cli("announce", "Sauvegardée avec pg_dump")
    backup = tmp_path / "pg.tar.gz"
    made = run_maillage("backup", "--data", str(node.data), "--out", str(backup))
    assert made.returncode == 0, made.stderr
    assert "postgresql database" in made.stdout

    restored_dir = tmp_path / "pg-restored"
    restored = run_maillage(
        "restore", "--data", str(restored_dir), str(backup), "--database-url", target_url
    )
    assert restored.returncode == 0, restored.stderr
    assert run_maillage("check", "--data", str(restored_dir)).returncode == 0
    node.data = restored_dir
    node.start()
    try:
        status, note = node.json(announced)
        assert status == 200 and "Sauvegardée avec pg_dump" in note["content"]
    finally:
        node.stop()
