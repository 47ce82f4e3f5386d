"""The inbox benchmark's independent floor: the least work an inbox must do, written without
the node's code (no import from node/, federation/ or protocols/).

For each pre-signed request, in one process: parse the JSON body, check its Digest header,
rebuild the draft-cavage signing string, verify the RSA signature with the key already in
memory, and insert the raw activity into a table whose activity id is unique, with the
standard library's sqlite3 in batched transactions (WAL, synchronous=NORMAL, as the node).
What the node does beyond this (HTTP, policy, origin checks, asyncio) is its overhead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

#: activities per commit
BATCH = 500
_PARAM = re.compile(r'(\w+)="([^"]*)"')

Request = tuple[str, dict[str, str], bytes]


def floor_rate(
    requests: list[Request],
    node_base: str,
    keys: dict[str, rsa.RSAPublicKey],
    database: Path,
    max_seconds: float,
) -> dict[str, Any]:
    """Accept `requests` as fast as the minimal work allows; counts, seconds and rate."""
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS inbox (activity_id TEXT PRIMARY KEY, raw TEXT NOT NULL)"
    )
    done = refused = 0
    batch: list[tuple[str, str]] = []
    started = time.perf_counter()
    for path, headers, body in requests:
        activity = _accepted(node_base + path, headers, body, keys)
        if activity is None:
            refused += 1
        else:
            batch.append((activity["id"], body.decode()))
        if len(batch) >= BATCH:
            _commit(connection, batch)
        done += 1
        if time.perf_counter() - started > max_seconds:
            break
    _commit(connection, batch)
    seconds = time.perf_counter() - started
    stored = connection.execute("SELECT count(*) FROM inbox").fetchone()[0]
    connection.close()
    return {
        "done": done,
        "refused": refused,
        "stored": stored,
        "seconds": seconds,
        "rate": done / seconds,
    }


def _accepted(
    url: str, headers: dict[str, str], body: bytes, keys: dict[str, rsa.RSAPublicKey]
) -> dict[str, Any] | None:
    """The activity when the request is well signed and its body is a JSON object, else None."""
    fields = {name.lower(): value for name, value in headers.items()}
    try:
        activity = json.loads(body)
    except ValueError:
        return None
    if not isinstance(activity, dict) or not isinstance(activity.get("id"), str):
        return None
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    if fields.get("digest") != digest:
        return None
    params = dict(_PARAM.findall(fields.get("signature", "")))
    key = keys.get(params.get("keyId", ""))
    if key is None:
        return None
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = []
    for name in params.get("headers", "date").split():
        if name == "(request-target)":
            lines.append(f"(request-target): post {target}")
        elif name in fields:
            lines.append(f"{name}: {fields[name]}")
        else:
            return None
    try:
        key.verify(
            base64.b64decode(params.get("signature", "")),
            "\n".join(lines).encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return None
    return activity


def _commit(connection: sqlite3.Connection, batch: list[tuple[str, str]]) -> None:
    """One transaction for the whole batch; known ids are ignored. Empties the batch."""
    if not batch:
        return
    connection.execute("BEGIN")
    connection.executemany("INSERT OR IGNORE INTO inbox (activity_id, raw) VALUES (?, ?)", batch)
    connection.execute("COMMIT")
    batch.clear()
