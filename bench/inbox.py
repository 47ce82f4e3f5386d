"""Inbox intake: signed `Create(Note)` activities accepted per second over HTTP.

The node is a real `maillage serve` subprocess on SQLite (the production entry point: its
inbox worker applies what arrives while the intake goes on, and it writes its access log).
N fake remote actors are served by the sender process on another loopback port; the node
fetches each key once (a warm-up request per actor, not timed) and then finds it in its
cache. Every request is signed before timing. The sender, a third process, keeps a fixed
number of requests in flight.

The limit is the same work without HTTP, in one process: the pipeline of
`federation.inbox.receive.receive` (parse JSON, read and verify the signature with the key
already in memory, the origin checks) and the node's real `SqlInbox.add_if_new` on a fresh
SQLite file, one activity after the other.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import Child, NodeProcess, free_port, query_db
from bench.remote import FakeActor, Plan, create_note, make_actors, signed_post
from bench.sampler import print_samples
from federation.inbox.receive import (
    InboxRequest,
    check_domain,
    check_origins,
    check_signer_is_actor,
    check_size,
    parse_activity,
    read_jsonld,
    read_request_signature,
    receive,
    verified_key,
)
from federation.ports import ActorKey, ReceivedActivity
from instance_config import FederationConfig, load_config
from node.storage.base import utcnow
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.inbox import SqlInbox
from node.storage.migrate import upgrade_database
from protocols.activitystreams import id_of, type_of

GOAL = 0.5
CONCURRENCY = 32
INBOX_PATH = "/inbox"  # the shared inbox, where Mastodon delivers public posts


class MemoryKeys:
    """A key cache already warm: what the node's cache holds after the first fetch."""

    def __init__(self, actors: list[FakeActor]) -> None:
        self._keys = {a.key_id: ActorKey(a.key_id, a.uri, a.key.public_key()) for a in actors}

    async def get_key(self, key_id: str, *, refresh: bool = False) -> ActorKey | None:
        return self._keys.get(key_id)


async def _fresh_store(path: Path) -> tuple[SqlInbox, Any]:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade_database(engine)
    return SqlInbox(make_sessionmaker(engine)), engine


async def limit_rate(
    requests: list[tuple[str, dict[str, str], bytes]],
    node_base: str,
    keys: MemoryKeys,
    policy: FederationConfig,
    database: Path,
    max_seconds: float,
) -> dict[str, Any]:
    """`receive()` on each request, one after the other, on a fresh database."""
    store, engine = await _fresh_store(database)
    done = new = 0
    started = time.perf_counter()
    for path, headers, body in requests:
        request = InboxRequest("POST", node_base + path, headers, body)
        receipt = await receive(request, policy=policy, keys=keys, store=store, now=utcnow())
        done += 1
        new += receipt.new
        if time.perf_counter() - started > max_seconds:
            break
    seconds = time.perf_counter() - started
    await engine.dispose()
    return {"done": done, "new": new, "seconds": seconds, "rate": done / seconds}


async def limit_steps(
    requests: list[tuple[str, dict[str, str], bytes]],
    node_base: str,
    keys: MemoryKeys,
    policy: FederationConfig,
    database: Path,
) -> dict[str, float]:
    """Where the limit's time goes: the steps of `receive()`, each timed on its own, in
    microseconds per activity."""
    store, engine = await _fresh_store(database)
    steps: Counter[str] = Counter()
    for path, headers, body in requests:
        t0 = time.perf_counter()
        request = InboxRequest("POST", node_base + path, headers, body)
        check_size(body)
        document = parse_activity(body)
        check_domain(document["actor"], policy)
        t1 = time.perf_counter()
        signature = read_request_signature(request, utcnow())
        check_domain(signature.key_id, policy)
        t2 = time.perf_counter()
        key = await verified_key(signature, keys)
        check_signer_is_actor(key, document["actor"])
        t3 = time.perf_counter()
        document = read_jsonld(document)
        check_origins(document)
        t3b = time.perf_counter()
        await store.add_if_new(
            ReceivedActivity(
                activity_id=document["id"],
                type=type_of(document) or "",
                actor=document["actor"],
                object_id=id_of(document.get("object")),
                raw=document,
            )
        )
        t4 = time.perf_counter()
        steps["parse JSON"] += t1 - t0
        steps["read signature (digest, window)"] += t2 - t1
        steps["verify RSA"] += t3 - t2
        steps["JSON-LD check + origins"] += t3b - t3
        steps["SqlInbox.add_if_new"] += t4 - t3b
    await engine.dispose()
    return {name: 1e6 * total / max(len(requests), 1) for name, total in steps.items()}


def run(quick: bool, workdir: Path, profile: bool = False) -> dict[str, Any]:
    actor_count = 8 if quick else 32
    count = 1000 if quick else 5000
    limit_count = count // 2
    max_seconds = 10 if quick else 30
    workdir.mkdir(parents=True, exist_ok=True)
    node = NodeProcess(workdir, "inbox-node")
    policy = load_config(node.data, {}).federation
    actor_port = free_port()
    began = time.monotonic()
    actors = make_actors(actor_count, actor_port)
    keys = MemoryKeys(actors)
    run_tag = uuid.uuid4().hex[:8]
    warmup = [
        signed_post(node.base, INBOX_PATH, a, create_note(a, i, node.territory, f"w{run_tag}-"))
        for i, a in enumerate(actors)
    ]
    timed = [
        signed_post(
            node.base,
            INBOX_PATH,
            actors[i % actor_count],
            create_note(actors[i % actor_count], i, node.territory, f"t{run_tag}-"),
        )
        for i in range(count)
    ]
    prepare_seconds = time.monotonic() - began
    plan = Plan(actor_port, node.base, CONCURRENCY, max_seconds, warmup=warmup, timed=timed)
    plan.actors = {f"/users/u{i}": a.document for i, a in enumerate(actors)}
    plan_path = workdir / "inbox-plan.pickle"
    plan_path.write_bytes(pickle.dumps(plan))
    body_bytes = sum(len(b) for _, _, b in timed) / count

    # The limit is measured just before and just after the HTTP run (the machine may be
    # shared: two measurements around it, averaged, follow its load).
    def limit(name: str) -> dict[str, Any]:
        return asyncio.run(
            limit_rate(
                timed[:limit_count], node.base, keys, policy, workdir / f"{name}.sqlite3", 20
            )
        )

    limit_before = limit("limit-before")
    profile_path = workdir / "inbox-node.samples.json" if profile else None
    node.start(profile=profile_path)
    try:
        sent, worker_states = _send(plan_path, workdir / "inbox-sender.log", max_seconds, node)
        # How fast the inbox worker applies the backlog once the intake has stopped.
        drain_started = time.monotonic()
        time.sleep(1.5 if quick else 4)
        drained = _states(node)
        drain_seconds = time.monotonic() - drain_started
    finally:
        node.stop()
    limit_after = limit("limit-after")

    # The same intake with nothing else running in the node: create_app(workers=False),
    # served in-process as `maillage serve` does, on a fresh node at the same address.
    bare = NodeProcess(workdir, "inbox-node-no-workers", port=node.port)
    driver = Child("bench.node_driver", ["--data", str(bare.data), "--no-workers"], bare.log_path)
    try:
        driver.receive(timeout=30)
        sent_bare, _ = _send(plan_path, workdir / "inbox-sender-2.log", max_seconds, bare)
    finally:
        driver.send({"cmd": "quit"})
        driver.close()
    bare_stored = _stored_once(bare, warmup, timed, sent_bare)
    steps = asyncio.run(
        limit_steps(timed[:1000], node.base, keys, policy, workdir / "limit-steps.sqlite3")
    )

    # Stored exactly once: every id answered 202 is in inbox_items, once.
    missing, twice, extra, expected_count = _stored_once(node, warmup, timed, sent)
    accepted = sent["statuses"].get("202", 0)
    accepted_bare = sent_bare["statuses"].get("202", 0)
    rate_bare = accepted_bare / sent_bare["seconds"]

    rate = accepted / sent["seconds"]
    limit_per_s = (limit_before["rate"] + limit_after["rate"]) / 2
    ratio = rate / limit_per_s
    applied_during = sum(v for k, v in worker_states.items() if k != "pending")
    pending_after = drained.get("pending", 0)
    worker_rate = (worker_states.get("pending", 0) - pending_after) / drain_seconds
    others = {k: v for k, v in sent["statuses"].items() if k != "202"}
    print(
        f"inbox: node = `maillage serve` subprocess (SQLite, inbox and delivery workers on); "
        f"{actor_count} remote actors; {sent['sent']} signed Create(Note) "
        f"(~{body_bytes:.0f} B each) to {INBOX_PATH}; {CONCURRENCY} in flight from a "
        f"separate process; signing ({prepare_seconds:.1f} s) done before timing"
    )
    print(
        f"  accepted/s   {rate:8.0f}   ({accepted} x 202 in {sent['seconds']:.2f} s; "
        f"latency p50 {sent['p50_ms']:.0f} ms, p99 {sent['p99_ms']:.0f} ms; "
        f"other answers {others or 'none'}, client errors {sent['errors']})"
    )
    print(
        f"  limit/s      {limit_per_s:8.0f}   (receive() with the key in memory + "
        f"SqlInbox.add_if_new, one process, no HTTP, {limit_count} activities: "
        f"{limit_before['rate']:.0f}/s before the HTTP run, {limit_after['rate']:.0f}/s after)"
    )
    goal = "met" if ratio >= GOAL else "MISSED"
    print(f"  ratio        {ratio:8.2f}   (goal >= {GOAL}: {goal})")
    print(
        f"  stored once  {expected_count - missing - twice}/{expected_count}   "
        f"(missing {missing}, stored twice {twice}, unexpected rows {extra}; "
        f"remote key fetches {sent['key_fetches']} for {actor_count} actors)"
    )
    print(
        f"  without workers: {rate_bare:.0f}/s accepted, ratio {rate_bare / limit_per_s:.2f} "
        f"(create_app(config, workers=False) served in-process by bench.node_driver: the same "
        f"intake with no inbox worker applying in the same process; p50 "
        f"{sent_bare['p50_ms']:.0f} ms, p99 {sent_bare['p99_ms']:.0f} ms; stored once "
        f"{bare_stored[3] - bare_stored[0] - bare_stored[1]}/{bare_stored[3]})"
    )
    print(
        f"  inbox worker: had applied {applied_during} of {sum(worker_states.values())} when the "
        f"intake ended; then {worker_rate:.0f}/s with no intake "
        f"({pending_after} still pending after {drain_seconds:.0f} s)"
    )
    print("  limit per activity: " + ", ".join(f"{name} {us:.0f} us" for name, us in steps.items()))
    if profile_path is not None:
        print_samples(profile_path, "maillage serve during the inbox run")
    return {
        "accepted_per_s": rate,
        "limit_per_s": limit_per_s,
        "ratio": ratio,
        "summary": f"accepted/s {rate:.0f}, limit/s {limit_per_s:.0f}, "
        f"ratio {ratio:.2f} (goal >= {GOAL}: {goal}); stored once "
        f"{expected_count - missing - twice}/{expected_count}; without workers "
        f"{rate_bare:.0f}/s (ratio {rate_bare / limit_per_s:.2f})",
        "problems": missing
        + twice
        + (accepted != sent["sent"])
        + bare_stored[0]
        + bare_stored[1]
        + (accepted_bare != sent_bare["sent"]),
    }


def _send(
    plan_path: Path, log_path: Path, max_seconds: float, node: NodeProcess
) -> tuple[dict[str, Any], dict[str, int]]:
    """Run the sender against a started node; its figures and the inbox states at the end."""
    sender = Child("bench.remote", ["--plan", str(plan_path)], log_path)
    try:
        sender.receive(timeout=30)
        sender.send({"cmd": "go"})
        sent = sender.receive(timeout=max_seconds + 60)
        return sent, _states(node)
    finally:
        sender.close()


def _stored_once(
    node: NodeProcess,
    warmup: list[tuple[str, dict[str, str], bytes]],
    timed: list[tuple[str, dict[str, str], bytes]],
    sent: dict[str, Any],
) -> tuple[int, int, int, int]:
    """(missing, stored twice, unexpected rows, expected) for what the sender sent."""
    expected = [activity_id(b) for _, _, b in warmup]
    expected += [activity_id(b) for _, _, b in timed[: sent["sent"]]]
    stored = Counter(
        row[0] for row in query_db(node.db_path, "SELECT activity_id FROM inbox_items")
    )
    missing = sum(1 for i in expected if stored[i] == 0)
    twice = sum(1 for i in expected if stored[i] > 1)
    return missing, twice, sum(stored.values()) - len(expected), len(expected)


def _states(node: NodeProcess) -> dict[str, int]:
    rows = query_db(node.db_path, "SELECT state, count(*) FROM inbox_items GROUP BY state")
    return {str(state): int(count) for state, count in rows}


def activity_id(body: bytes) -> str:
    """The activity id of a request body."""
    return str(json.loads(body)["id"])
