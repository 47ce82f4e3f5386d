"""Fake remote actors for the inbox benchmark, and the sender process.

The parent makes N actors (RSA-2048 keys, Mastodon-shaped documents), builds signed
`Create(Note)` requests to the node's shared inbox and writes them to a file; the sender
(`python -m bench.remote --plan FILE`) serves the actor documents on its own loopback port
(so the node fetches each key once and caches it), sends one warm-up request per actor,
then sends the timed requests with a fixed number in flight, and prints what it measured.
Signing happens before timing: it is the sender's cost, not the node's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pickle
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.common import LOOPBACK, emit, stdin_lines
from protocols.httpsig import sign_cavage
from protocols.keys import public_key_to_pem

ACTIVITY_JSON = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
#: the inline context Mastodon puts after the ActivityStreams one in a Create(Note)
MASTODON_TERMS = {
    "ostatus": "http://ostatus.org#",
    "atomUri": "ostatus:atomUri",
    "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
    "conversation": "ostatus:conversation",
    "sensitive": "as:sensitive",
    "toot": "http://joinmastodon.org/ns#",
    "votersCount": "toot:votersCount",
}
#: a sentence repeated to give posts a realistic size (Mastodon's are often 1-3 KB)
_TEXT = (
    "Réunion publique du conseil de quartier jeudi à 18 h 30 à la salle des fêtes : "
    'jardins partagés, horaires de la navette et <a href="https://example.org/x">le compte '
    "rendu</a> de la dernière séance. "
)


@dataclass
class Plan:
    """Everything the sender needs: actor documents and pre-signed requests."""

    actor_port: int
    node_base: str
    concurrency: int
    max_seconds: float
    actors: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> document
    #: (path, headers, body)
    warmup: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    timed: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    #: requests per second offered at a steady pace (None: as fast as `concurrency` allows)
    rate: float | None = None


@dataclass
class FakeActor:
    uri: str
    key_id: str
    key: rsa.RSAPrivateKey
    document: dict[str, Any]


def make_actors(count: int, port: int) -> list[FakeActor]:
    """`count` Mastodon-like Person actors served at http://127.0.0.1:port/users/uN."""
    actors = []
    for index in range(count):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        uri = f"http://{LOOPBACK}:{port}/users/u{index}"
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": uri,
            "type": "Person",
            "preferredUsername": f"u{index}",
            "name": f"Remote {index}",
            "summary": "<p>Habitante d'un territoire voisin.</p>",
            "inbox": f"{uri}/inbox",
            "outbox": f"{uri}/outbox",
            "followers": f"{uri}/followers",
            "following": f"{uri}/following",
            "endpoints": {"sharedInbox": f"http://{LOOPBACK}:{port}/inbox"},
            "url": f"http://{LOOPBACK}:{port}/@u{index}",
            "publicKey": {
                "id": f"{uri}#main-key",
                "owner": uri,
                "publicKeyPem": public_key_to_pem(key.public_key()),
            },
        }
        actors.append(FakeActor(uri, f"{uri}#main-key", key, document))
    return actors


def create_note(actor: FakeActor, serial: int, territory: str, run: str) -> dict[str, Any]:
    """A Mastodon-shaped public Create(Note) mentioning the territory (~1.5 KB)."""
    note_id = f"{actor.uri}/statuses/{run}{serial}"
    published = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    content = f"<p>Message {serial} : {_TEXT * 3}</p>"
    note = {
        "id": note_id,
        "type": "Note",
        "summary": None,
        "inReplyTo": None,
        "published": published,
        "url": f"{actor.uri.replace('/users/', '/@')}/{run}{serial}",
        "attributedTo": actor.uri,
        "to": [PUBLIC],
        "cc": [f"{actor.uri}/followers", territory],
        "sensitive": False,
        "atomUri": note_id,
        "conversation": f"tag:bench,2026:objectId={run}{serial}:objectType=Conversation",
        "content": content,
        "contentMap": {"fr": content},
        "attachment": [],
        "tag": [{"type": "Mention", "href": territory, "name": "@territoire"}],
        "replies": {
            "id": f"{note_id}/replies",
            "type": "Collection",
            "first": {
                "type": "CollectionPage",
                "next": f"{note_id}/replies?page=true",
                "partOf": f"{note_id}/replies",
                "items": [],
            },
        },
    }
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", MASTODON_TERMS],
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": actor.uri,
        "published": published,
        "to": [PUBLIC],
        "cc": [f"{actor.uri}/followers", territory],
        "object": note,
    }


def signed_post(
    node_base: str, path: str, actor: FakeActor, activity: dict[str, Any]
) -> tuple[str, dict[str, str], bytes]:
    """A POST as Mastodon signs it (draft-cavage, rsa-sha256, Digest), ready to send."""
    body = json.dumps(activity, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": ACTIVITY_JSON}
    headers |= sign_cavage(
        "POST", node_base + path, headers, body, actor.key, actor.key_id, datetime.now(UTC)
    )
    return path, headers, body


# ----- the sender process ---------------------------------------------------------------


async def _serve_actors(plan: Plan) -> web.AppRunner:
    fetches: Counter[str] = Counter()

    async def actor(request: web.Request) -> web.Response:
        document = plan.actors.get(request.path)
        fetches[request.path] += 1
        if document is None:
            return web.Response(status=404)
        return web.json_response(document, content_type=ACTIVITY_JSON)

    app = web.Application()
    app["fetches"] = fetches
    app.router.add_get("/users/{name}", actor)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, LOOPBACK, plan.actor_port).start()
    return runner


async def _send(
    session: aiohttp.ClientSession,
    plan: Plan,
    requests: list[tuple[str, dict[str, str], bytes]],
    concurrency: int,
    deadline: float,
    rate: float | None = None,
) -> tuple[Counter[int], list[float], int]:
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    errors = 0
    pending = iter(enumerate(requests))
    began = time.monotonic()

    async def worker() -> None:
        nonlocal errors
        for index, (path, headers, body) in pending:
            if rate is not None:  # request `index` leaves at its slot, never earlier
                await asyncio.sleep(max(0.0, began + index / rate - time.monotonic()))
            if time.monotonic() > deadline:
                return
            started = time.monotonic()
            try:
                async with session.post(plan.node_base + path, data=body, headers=headers) as r:
                    await r.read()
                    statuses[r.status] += 1
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
            latencies.append(time.monotonic() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses, latencies, errors


async def sender(plan: Plan) -> None:
    runner = await _serve_actors(plan)
    emit({"ready": True})
    lines = stdin_lines()
    await asyncio.wait_for(lines.get(), 60)  # "go"
    connector = aiohttp.TCPConnector(limit=plan.concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        deadline = time.monotonic() + plan.max_seconds
        warm, _, warm_errors = await _send(session, plan, plan.warmup, 1, deadline)
        started = time.monotonic()
        statuses, latencies, errors = await _send(
            session, plan, plan.timed, plan.concurrency, started + plan.max_seconds, plan.rate
        )
        finished = time.monotonic()
    latencies.sort()
    emit(
        {
            "warmup": {str(k): v for k, v in warm.items()},
            "warmup_errors": warm_errors,
            "statuses": {str(k): v for k, v in statuses.items()},
            "errors": errors,
            "sent": sum(statuses.values()) + errors,
            "seconds": finished - started,
            "started": started,
            "finished": finished,
            "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else None,
            "key_fetches": sum(runner.app["fetches"].values()),
        }
    )
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plan", type=Path, required=True)
    asyncio.run(sender(pickle.loads(parser.parse_args().plan.read_bytes())))
