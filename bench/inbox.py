"""Inbox intake and apply: signed `Create(Note)` accepted and applied per second over HTTP,
against an independent floor.

The node is a real `maillage serve` subprocess on SQLite (the production entry point: its
inbox worker applies what arrives while the intake goes on, and it writes its access log).
N fake remote actors are served by the sender process on another loopback port; the node
fetches each key once (a warm-up request per actor, not timed) and then finds it in its
cache. Every request is signed before timing. The sender, a third process, keeps a fixed
number of requests in flight (the burst), or offers a steady rate (the sustained run).

The floor is `bench.inbox_floor`, written without the node's code: the same requests
parsed, digest-checked, RSA-verified with the key in memory and inserted with the standard
library's sqlite3, 500 per commit, in one process. It runs just before and just after the
HTTP runs (the machine may be shared: the two, averaged, follow its load).

While the node runs, the parent reads its database twice a second (read-only, WAL) to see
the backlog (pending and held items) and how many were applied.
"""

from __future__ import annotations

import json
import pickle
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Child, NodeProcess, free_port, query_db
from bench.inbox_floor import floor_rate
from bench.remote import Plan, create_note, make_actors, signed_post
from bench.sampler import print_samples

#: the intake over HTTP as a share of the floor: the goal, and the aim beyond it
GOAL, AIM = 0.25, 0.5
CONCURRENCY = 32
INBOX_PATH = "/inbox"  # the shared inbox, where Mastodon delivers public posts
#: the steady rate offered by the sustained run, requests per second
SUSTAINED_RATE = 333
#: a backlog empty this long after the intake stops has kept up
DRAINED_WITHIN_S = 5.0
SAMPLE_EVERY_S = 0.5

Request = tuple[str, dict[str, str], bytes]


@dataclass(frozen=True)
class Sample:
    at: float
    backlog: int
    done: int


class InboxWatch:
    """Reads the node's inbox states twice a second in a thread, while a phase runs."""

    def __init__(self, db_path: Path) -> None:
        self._db_path = db_path
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> Sample:
        rows = query_db(
            self._db_path,
            "SELECT state IN ('pending', 'held'), count(*) FROM inbox_items GROUP BY 1",
        )
        counts = {bool(waiting): int(count) for waiting, count in rows}
        return Sample(time.monotonic(), counts.get(True, 0), counts.get(False, 0))

    def __enter__(self) -> InboxWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self.samples.append(self.now())

    def drained_after(self, started: float, bound_s: float) -> float | None:
        """Seconds from `started` until the backlog is empty, None if not within `bound_s`."""
        while time.monotonic() - started < bound_s:
            if self.now().backlog == 0:
                return time.monotonic() - started
            time.sleep(0.2)
        return None


def run(quick: bool, workdir: Path, profile: bool = False) -> dict[str, Any]:
    actor_count = 8 if quick else 32
    burst_count = 2000 if quick else 5000
    sustained_seconds = 15 if quick else 60
    after_s = 3 if quick else 10  # the backlog is read again this long after the burst
    workdir.mkdir(parents=True, exist_ok=True)
    node = NodeProcess(workdir, "inbox-node")
    actor_port = free_port()
    began = time.monotonic()
    actors = make_actors(actor_count, actor_port)
    run_tag = uuid.uuid4().hex[:8]

    def signed(prefix: str, count: int) -> list[Request]:
        return [
            signed_post(
                node.base,
                INBOX_PATH,
                actors[i % actor_count],
                create_note(actors[i % actor_count], i, node.territory, f"{prefix}{run_tag}-"),
            )
            for i in range(count)
        ]

    warmup = [
        signed_post(node.base, INBOX_PATH, a, create_note(a, i, node.territory, f"w{run_tag}-"))
        for i, a in enumerate(actors)
    ]
    burst = signed("b", burst_count)
    sustained = signed("s", SUSTAINED_RATE * sustained_seconds)
    prepare_seconds = time.monotonic() - began
    documents = {f"/users/u{i}": a.document for i, a in enumerate(actors)}
    burst_plan = Plan(actor_port, node.base, CONCURRENCY, 60, documents, warmup, burst)
    steady_plan = Plan(
        actor_port, node.base, 64, sustained_seconds + 5, documents, [], sustained, SUSTAINED_RATE
    )
    body_bytes = sum(len(b) for _, _, b in burst) / burst_count
    keys = {a.key_id: a.key.public_key() for a in actors}

    def floor(name: str) -> dict[str, Any]:
        return floor_rate(burst, node.base, keys, workdir / f"{name}.sqlite3", 20)

    floor_before = floor("floor-before")
    profile_path = workdir / "inbox-node.samples.json" if profile else None
    node.start(profile=profile_path)
    try:
        watch = InboxWatch(node.db_path)
        sent, at_start, at_end = _phase(burst_plan, workdir / "inbox-sender.log", watch)
        time.sleep(after_s)
        later = watch.now()
        before_steady_drain = watch.drained_after(time.monotonic(), 60)
        with watch:
            steady, steady_start, steady_end = _phase(
                steady_plan, workdir / "inbox-sender-2.log", watch
            )
        drained = watch.drained_after(steady_end.at, 30 if quick else 60)
        steady_samples = [s for s in watch.samples if steady_start.at <= s.at <= steady_end.at]
    finally:
        node.stop()
    floor_after = floor("floor-after")

    expected = warmup + burst[: sent["sent"]] + sustained[: steady["sent"]]
    missing, twice, extra = _stored_once(node, expected)
    accepted = sent["statuses"].get("202", 0)
    rate = accepted / sent["seconds"]
    floor_per_s = (floor_before["rate"] + floor_after["rate"]) / 2
    ratio = rate / floor_per_s
    intake_s = at_end.at - at_start.at
    applied_during = (at_end.done - at_start.done) / intake_s
    applied_after = (later.done - at_end.done) / (later.at - at_end.at)
    others = {k: v for k, v in sent["statuses"].items() if k != "202"}

    steady_accepted = steady["statuses"].get("202", 0)
    steady_rate = steady_accepted / steady["seconds"]
    steady_applied = (steady_end.done - steady_start.done) / (steady_end.at - steady_start.at)
    backlog_max = max([s.backlog for s in steady_samples] + [steady_end.backlog])
    keeps_up = (
        steady_applied >= 0.95 * steady_rate and drained is not None and drained <= DRAINED_WITHIN_S
    )
    steady_others = {k: v for k, v in steady["statuses"].items() if k != "202"}
    verdict = "met" if ratio >= AIM else "goal met, aim missed" if ratio >= GOAL else "MISSED"

    print(
        f"inbox: node = `maillage serve` subprocess (SQLite, inbox and delivery workers on); "
        f"{actor_count} remote actors; signed Create(Note) (~{body_bytes:.0f} B each) to "
        f"{INBOX_PATH} from a separate process; signing ({prepare_seconds:.1f} s) done before "
        f"timing"
    )
    print(f"  burst: {sent['sent']} requests, {CONCURRENCY} in flight")
    print(
        f"  floor/s      {floor_per_s:8.0f}   (bench.inbox_floor, none of the node's code: JSON, "
        f"Digest, RSA verify with the key in memory, stdlib sqlite3 500 per commit, one "
        f"process; {floor_before['rate']:.0f}/s before the HTTP runs, "
        f"{floor_after['rate']:.0f}/s after)"
    )
    print(
        f"  accepted/s   {rate:8.0f}   ({accepted} x 202 in {sent['seconds']:.2f} s; latency "
        f"p50 {sent['p50_ms']:.0f} ms, p99 {sent['p99_ms']:.0f} ms; other answers "
        f"{others or 'none'}, client errors {sent['errors']})"
    )
    print(f"  ratio        {ratio:8.2f}   (goal >= {GOAL}, aim {AIM}: {verdict})")
    print(
        f"  applied/s    {applied_during:8.0f}   during the intake, {applied_after:.0f}/s after "
        f"it; backlog {at_end.backlog} when the intake ended, {later.backlog} {after_s} s later"
        f" (empty after {_seconds(before_steady_drain)} more)"
    )
    print(f"  sustained: {SUSTAINED_RATE}/s offered for {sustained_seconds} s")
    print(
        f"  accepted/s   {steady_rate:8.0f}   ({steady_accepted} x 202; p50 "
        f"{steady['p50_ms']:.0f} ms, p99 {steady['p99_ms']:.0f} ms; other answers "
        f"{steady_others or 'none'}, client errors {steady['errors']})"
    )
    print(
        f"  applied/s    {steady_applied:8.0f}   (backlog at most {backlog_max}, "
        f"{steady_end.backlog} when the intake stopped, empty {_seconds(drained)} after it)"
    )
    print(
        f"  keeps up     {'yes' if keeps_up else 'NO':>8s}   (goal: applied/s >= accepted/s and "
        f"the backlog empty within {DRAINED_WITHIN_S:.0f} s of the end)"
    )
    print(
        f"  stored once  {len(expected) - missing - twice}/{len(expected)}   (missing "
        f"{missing}, stored twice {twice}, unexpected rows {extra}; remote key fetches "
        f"{sent['key_fetches'] + steady['key_fetches']} for {actor_count} actors)"
    )
    if profile_path is not None:
        print_samples(profile_path, "maillage serve during the inbox runs")
    return {
        "accepted_per_s": rate,
        "floor_per_s": floor_per_s,
        "ratio": ratio,
        "summary": f"accepted/s {rate:.0f}, floor/s {floor_per_s:.0f}, ratio {ratio:.2f} "
        f"({verdict}); applied/s {applied_during:.0f} during, {applied_after:.0f} after; "
        f"sustained {SUSTAINED_RATE}/s: applied {steady_applied:.0f}/s, keeps up "
        f"{'yes' if keeps_up else 'NO'}; stored once {len(expected) - missing - twice}/"
        f"{len(expected)}",
        "problems": missing
        + twice
        + (accepted != sent["sent"])
        + (steady_accepted != steady["sent"]),
    }


def _seconds(value: float | None) -> str:
    return "not within the wait" if value is None else f"{value:.1f} s"


def _phase(plan: Plan, log_path: Path, watch: InboxWatch) -> tuple[dict[str, Any], Any, Any]:
    """Run a sender against the started node: its figures, and the inbox just before the
    first request and just after the last answer."""
    plan_path = log_path.with_suffix(".pickle")
    plan_path.write_bytes(pickle.dumps(plan))
    sender = Child("bench.remote", ["--plan", str(plan_path)], log_path)
    try:
        sender.receive(timeout=30)
        first = watch.now()
        sender.send({"cmd": "go"})
        sent = sender.receive(timeout=plan.max_seconds + 60)
        return sent, first, watch.now()
    finally:
        sender.close()


def _stored_once(node: NodeProcess, expected: list[Request]) -> tuple[int, int, int]:
    """(missing, stored twice, unexpected rows) for what the sender sent."""
    ids = [activity_id(body) for _, _, body in expected]
    stored = Counter(
        row[0] for row in query_db(node.db_path, "SELECT activity_id FROM inbox_items")
    )
    missing = sum(1 for i in ids if stored[i] == 0)
    twice = sum(1 for i in ids if stored[i] > 1)
    return missing, twice, sum(stored.values()) - len(ids)


def activity_id(body: bytes) -> str:
    """The activity id of a request body."""
    return str(json.loads(body)["id"])
