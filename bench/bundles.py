"""Signed bundles: `maillage bundle export` and `maillage bundle import`, against the bare work.

Node A (a real `maillage init` folder) holds N public Create(Note) entries in its outbox log
(written with the outbox's own append, as announcements would be). The timed runs are the
real commands, each a separate process as an admin would run them:
- export: `maillage bundle export` on A (reads the log, signs every entry with eddsa-jcs-2022,
  writes the tar.gz);
- import: `maillage bundle import` on a node B that follows nobody (verifies every entry,
  stores it in the inbox, runs the inbox worker over it).

The floor is the same cryptographic and serialising work written without the node's code:
JCS (rfc8785) + SHA-256 + Ed25519 sign, JSON Lines into a tar.gz; and read back, JCS +
SHA-256 + Ed25519 verify of each line. Ratios are node rate / floor rate; the node also
pays for its process start, the database and the inbox pipeline.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import sqlite3
import tarfile
import time
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric import ed25519

from bench.common import NodeProcess, query_db
from tests.testrig.processes import run_maillage

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def run(quick: bool, workdir: Path, profile: bool = False) -> dict[str, Any]:
    count = 2_000 if quick else 20_000
    workdir.mkdir(parents=True, exist_ok=True)
    a = NodeProcess(workdir, "bundle-a")
    b = NodeProcess(workdir, "bundle-b")
    asyncio.run(_fill_outbox(a, count))
    out = workdir / "a.tar.gz"

    started = time.perf_counter()
    exported = run_maillage("bundle", "export", "--data", str(a.data), "--out", str(out))
    export_s = time.perf_counter() - started
    if exported.returncode != 0:
        raise RuntimeError(f"export failed: {exported.stderr}")

    started = time.perf_counter()
    imported = run_maillage("bundle", "import", "--data", str(b.data), str(out))
    import_s = time.perf_counter() - started
    if imported.returncode != 0:
        raise RuntimeError(f"import failed: {imported.stdout}{imported.stderr}")
    stored = query_db(b.db_path, "SELECT count(*) FROM inbox_items")[0][0]

    bodies = [row[0] for row in query_db(a.db_path, "SELECT body FROM outbox_entries")]
    floor_export_s, floor_file = _floor_export(bodies, workdir / "floor.tar.gz")
    floor_import_s = _floor_import(floor_file)

    export_rate, import_rate = count / export_s, count / import_s
    floor_export_rate, floor_import_rate = count / floor_export_s, count / floor_import_s
    problems = [] if stored == count else [f"{stored} of {count} activities stored by import"]
    print(
        f"bundles: {count} Create(Note) activities, `maillage bundle export` on A then "
        f"`maillage bundle import` on B (each a real process on a SQLite file)"
    )
    print(
        f"  export  node {export_rate:7.0f} activities/s ({export_s:.2f} s, "
        f"{out.stat().st_size // 1024} KiB)   floor {floor_export_rate:7.0f}/s   "
        f"ratio {export_rate / floor_export_rate:.2f}"
    )
    print(
        f"  import  node {import_rate:7.0f} activities/s ({import_s:.2f} s, {stored} stored and "
        f"applied)   floor {floor_import_rate:7.0f}/s   ratio {import_rate / floor_import_rate:.2f}"
    )
    print(
        "  floor: rfc8785 + sha256 + Ed25519 sign (verify), JSON Lines in a tar.gz, and for the "
        "import one SQLite insert per line: no node code"
    )
    if problems:
        print(f"  PROBLEM: {problems[0]}")
    return {
        "summary": f"export {export_rate / floor_export_rate:.2f} x floor, "
        f"import {import_rate / floor_import_rate:.2f} x floor ({count} activities)",
        "problems": problems,
    }


async def _fill_outbox(node: NodeProcess, count: int) -> None:
    """N public announcements in the outbox log, as `maillage announce` would log them."""
    from sqlalchemy import select

    from node.storage.engine import make_engine, make_sessionmaker
    from node.storage.models import LocalActor
    from node.storage.outbox import append_to_outbox

    engine = make_engine(node.database_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions.begin() as session:
            territory = (
                await session.scalars(select(LocalActor).where(LocalActor.kind == "territory"))
            ).one()
            for number in range(count):
                note = f"{node.base}/notes/bench-{number}"
                activity = {
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": f"{node.base}/activities/bench-{number}",
                    "type": "Create",
                    "actor": node.territory,
                    "to": [PUBLIC],
                    "object": {
                        "id": note,
                        "type": "Note",
                        "attributedTo": node.territory,
                        "to": [PUBLIC],
                        "content": f"<p>Nouvelle {number} du territoire, pour le banc d'essai.</p>",
                        "published": "2026-12-07T10:00:00Z",
                    },
                }
                await append_to_outbox(session, activity, territory.id, [], public=True)
    finally:
        await engine.dispose()


def _hash(options: dict[str, Any], document: dict[str, Any]) -> bytes:
    return (
        hashlib.sha256(rfc8785.dumps(options)).digest()
        + hashlib.sha256(rfc8785.dumps(document)).digest()
    )


def _floor_export(bodies: list[str], path: Path) -> tuple[float, Path]:
    key = ed25519.Ed25519PrivateKey.generate()
    started = time.perf_counter()
    lines = io.BytesIO()
    for body in bodies:
        document = json.loads(body)
        options = {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": "2026-12-07T10:00:00Z",
            "verificationMethod": "k",
            "proofPurpose": "assertionMethod",
        }
        signature = key.sign(_hash(options, document))
        document["proof"] = {**options, "proofValue": signature.hex()}
        lines.write(json.dumps(document, separators=(",", ":")).encode() + b"\n")
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("activities.jsonl")
        info.size = lines.tell()
        lines.seek(0)
        archive.addfile(info, lines)
    _floor_export.key = key.public_key()  # type: ignore[attr-defined]
    return time.perf_counter() - started, path


def _floor_import(path: Path) -> float:
    """Verify every line, then store them in one SQLite transaction (what an import must do)."""
    public_key = _floor_export.key  # type: ignore[attr-defined]
    database = sqlite3.connect(path.with_suffix(".sqlite3"))
    database.execute("CREATE TABLE items (id TEXT PRIMARY KEY, raw TEXT)")
    started = time.perf_counter()
    rows = []
    with tarfile.open(path, "r|gz") as archive:
        for member in archive:
            stream = archive.extractfile(member)
            assert stream is not None
            for line in stream:
                document = json.loads(line)
                proof = document.pop("proof")
                signature = bytes.fromhex(proof.pop("proofValue"))
                public_key.verify(signature, _hash(proof, document))
                rows.append((document["id"], json.dumps(document)))
    with database:
        database.executemany("INSERT INTO items VALUES (?, ?)", rows)
    elapsed = time.perf_counter() - started
    database.close()
    return elapsed
