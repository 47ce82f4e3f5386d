"""Inbox intake and apply: signed `Create(Note)` accepted and applied per second over HTTP,
against an independent floor, on SQLite and on PostgreSQL with one and three processes.

Each node is a real `maillage serve` subprocess (the production entry point: its inbox
worker applies what arrives while the intake goes on, and it writes its access log): on
SQLite; then on a PostgreSQL server started in a temporary folder (tests.testrig.postgres:
initdb and pg_ctl, durability off as in the tests), served by one process, then by
`maillage serve --workers 3` (three processes sharing the port, each with its own inbox
worker claiming items through the database). The nodes run one after the other on the
same port, so one set of signed requests serves all three.

N fake remote actors are served by the sender process on another loopback port; each node
fetches each key once (a warm-up request per actor, not timed) and then finds it in its
cache. Every request is signed before timing. The sender, a third process, keeps a fixed
number of requests in flight (the burst), or offers a steady rate (the sustained run).

The floor is `bench.inbox_floor`, written without the node's code: the same requests
parsed, digest-checked, RSA-verified with the key in memory and inserted with the standard
library's sqlite3, 500 per commit, in one process. It runs just before and just after the
HTTP runs (the machine may be shared: the two, averaged, follow its load).

While a node runs, the parent reads its database twice a second (bench.inbox_watch) to see
the backlog (pending and held items) and how many were applied. The node's per-host and
per-actor rate limits are lifted: one sender measures the capacity here, not a flood.
"""

from __future__ import annotations

import json
import pickle
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Child, NodeProcess, free_port
from bench.inbox_floor import floor_rate
from bench.inbox_watch import InboxWatch, Sample
from bench.remote import Plan, create_note, make_actors, signed_post
from bench.sampler import print_samples
from tests.testrig.postgres import PostgresServer, PostgresUnavailable, start_postgres

#: the intake over HTTP as a share of the floor: the goal, and the aim beyond it
GOAL, AIM = 0.25, 0.5
CONCURRENCY = 32
INBOX_PATH = "/inbox"  # the shared inbox, where Mastodon delivers public posts
#: the steady rate offered by the sustained run, requests per second
SUSTAINED_RATE = 333
#: a backlog empty this long after the intake stops has kept up
DRAINED_WITHIN_S = 5.0
#: the processes of the second PostgreSQL run
FLEET = 3

Request = tuple[str, dict[str, str], bytes]


@dataclass(frozen=True)
class Setup:
    """One node the benchmark runs: its label, database (None: SQLite) and processes."""

    name: str
    label: str
    postgres: bool = False
    workers: int = 1


SETUPS = (
    Setup("sqlite", "SQLite, 1 process"),
    Setup("postgres-1", "PostgreSQL, 1 process", postgres=True),
    Setup("postgres-3", f"PostgreSQL, {FLEET} processes", postgres=True, workers=FLEET),
)


@dataclass
class Measured:
    """What one node did: the sender's figures and the inbox around each phase."""

    setup: Setup
    burst: dict[str, Any]
    at_start: Sample
    at_end: Sample
    later: Sample
    before_steady_drain: float | None
    steady: dict[str, Any]
    steady_start: Sample
    steady_end: Sample
    backlog_max: int
    drained: float | None
    #: (missing, stored twice, unexpected rows)
    stored: tuple[int, int, int]
    expected: int
    #: the sustained run's planned length
    sustained_s: int


def run(quick: bool, workdir: Path, profile: bool = False) -> dict[str, Any]:
    actor_count = 8 if quick else 32
    burst_count = 2000 if quick else 5000
    sustained_seconds = 15 if quick else 60
    workdir.mkdir(parents=True, exist_ok=True)
    node_port, actor_port = free_port(), free_port()
    base = f"http://127.0.0.1:{node_port}"
    territory = f"{base}/actors/territoire"
    began = time.monotonic()
    actors = make_actors(actor_count, actor_port)
    run_tag = uuid.uuid4().hex[:8]

    def signed(prefix: str, count: int) -> list[Request]:
        return [
            signed_post(
                base,
                INBOX_PATH,
                actors[i % actor_count],
                create_note(actors[i % actor_count], i, territory, f"{prefix}{run_tag}-"),
            )
            for i in range(count)
        ]

    warmup = [
        signed_post(base, INBOX_PATH, a, create_note(a, i, territory, f"w{run_tag}-"))
        for i, a in enumerate(actors)
    ]
    burst = signed("b", burst_count)
    sustained = signed("s", SUSTAINED_RATE * sustained_seconds)
    prepare_seconds = time.monotonic() - began
    documents = {f"/users/u{i}": a.document for i, a in enumerate(actors)}
    plans = (
        Plan(actor_port, base, CONCURRENCY, 60, documents, warmup, burst),
        Plan(actor_port, base, 64, sustained_seconds + 5, documents, [], sustained, SUSTAINED_RATE),
    )
    body_bytes = sum(len(b) for _, _, b in burst) / burst_count
    keys = {a.key_id: a.key.public_key() for a in actors}

    def floor(name: str) -> dict[str, Any]:
        return floor_rate(burst, base, keys, workdir / f"{name}.sqlite3", 20)

    floor_before = floor("floor-before")
    profile_path = workdir / "inbox-node.samples.json" if profile else None
    runs: list[Measured] = []
    postgres: PostgresServer | None = None
    skipped = ""
    try:
        for setup in SETUPS:
            database_url = None
            if setup.postgres:
                if postgres is None and not skipped:
                    try:
                        postgres = start_postgres()
                    except PostgresUnavailable as exc:
                        skipped = str(exc)
                if postgres is None:
                    continue
                database_url = postgres.create_database(setup.name.replace("-", "_"))
            node = NodeProcess(
                workdir, setup.name, node_port, database_url=database_url, workers=setup.workers
            )
            _lift_rate_limits(node)
            sampled = profile_path if setup.workers == 1 and not setup.postgres else None
            node.start(profile=sampled)
            try:
                runs.append(_measure(setup, node, plans, workdir, quick))
            finally:
                node.stop()
    finally:
        if postgres is not None:
            postgres.stop()
    floor_after = floor("floor-after")
    floor_per_s = (floor_before["rate"] + floor_after["rate"]) / 2

    print(
        f"inbox: node = `maillage serve` subprocess (inbox and delivery workers on); "
        f"{actor_count} remote actors; signed Create(Note) (~{body_bytes:.0f} B each) to "
        f"{INBOX_PATH} from a separate process; signing ({prepare_seconds:.1f} s) done before "
        f"timing"
    )
    print(
        f"  floor/s      {floor_per_s:8.0f}   (bench.inbox_floor, none of the node's code: JSON, "
        f"Digest, RSA verify with the key in memory, stdlib sqlite3 500 per commit, one "
        f"process; {floor_before['rate']:.0f}/s before the HTTP runs, "
        f"{floor_after['rate']:.0f}/s after)"
    )
    summaries, problems, first = [], 0, None
    for measured in runs:
        figures = _report(measured, floor_per_s, quick)
        first = first or figures
        summaries.append(figures["summary"])
        problems += figures["problems"]
    if skipped:
        print(f"  PostgreSQL runs skipped: {skipped}")
        summaries.append("PostgreSQL skipped")
    if profile_path is not None:
        print_samples(profile_path, "maillage serve (SQLite) during the inbox runs")
    assert first is not None
    return {
        "accepted_per_s": first["rate"],
        "floor_per_s": floor_per_s,
        "ratio": first["ratio"],
        "summary": f"floor/s {floor_per_s:.0f}; " + "; ".join(summaries),
        "problems": problems,
    }


def _measure(
    setup: Setup, node: NodeProcess, plans: tuple[Plan, Plan], workdir: Path, quick: bool
) -> Measured:
    """The burst, a pause, then the sustained run, against the started node."""
    burst_plan, steady_plan = plans
    after_s = 3 if quick else 10  # the backlog is read again this long after the burst
    watch = InboxWatch(node.query)
    burst, at_start, at_end = _phase(burst_plan, workdir / f"{setup.name}-sender.log", watch)
    time.sleep(after_s)
    later = watch.now()
    before_steady_drain = watch.drained_after(time.monotonic(), 30 if quick else 60)
    with watch:
        steady, steady_start, steady_end = _phase(
            steady_plan, workdir / f"{setup.name}-sender-2.log", watch
        )
    drained = watch.drained_after(steady_end.at, 30 if quick else 60)
    during = [s for s in watch.samples if steady_start.at <= s.at <= steady_end.at]
    expected = (
        burst_plan.warmup + burst_plan.timed[: burst["sent"]] + steady_plan.timed[: steady["sent"]]
    )
    return Measured(
        setup,
        burst,
        at_start,
        at_end,
        later,
        before_steady_drain,
        steady,
        steady_start,
        steady_end,
        max([s.backlog for s in during] + [steady_end.backlog]),
        drained,
        _stored_once(node, expected),
        len(expected),
        len(steady_plan.timed) // SUSTAINED_RATE,
    )


def _report(m: Measured, floor_per_s: float, quick: bool) -> dict[str, Any]:
    """Print one node's lines; its rate, ratio, summary and problems."""
    after_s = 3 if quick else 10
    sent, steady = m.burst, m.steady
    accepted = sent["statuses"].get("202", 0)
    rate = accepted / sent["seconds"]
    ratio = rate / floor_per_s
    intake_s = m.at_end.at - m.at_start.at
    applied_during = (m.at_end.done - m.at_start.done) / intake_s
    applied_after = (m.later.done - m.at_end.done) / (m.later.at - m.at_end.at)
    others = {k: v for k, v in sent["statuses"].items() if k != "202"}
    steady_accepted = steady["statuses"].get("202", 0)
    steady_rate = steady_accepted / steady["seconds"]
    steady_applied = (m.steady_end.done - m.steady_start.done) / (
        m.steady_end.at - m.steady_start.at
    )
    keeps_up = (
        steady_applied >= 0.95 * steady_rate
        and m.drained is not None
        and m.drained <= DRAINED_WITHIN_S
    )
    steady_others = {k: v for k, v in steady["statuses"].items() if k != "202"}
    verdict = "met" if ratio >= AIM else "goal met, aim missed" if ratio >= GOAL else "MISSED"
    missing, twice, extra = m.stored

    print(f"  {m.setup.label}: burst of {sent['sent']} requests, {CONCURRENCY} in flight")
    print(
        f"  accepted/s   {rate:8.0f}   ({accepted} x 202 in {sent['seconds']:.2f} s; latency "
        f"p50 {sent['p50_ms']:.0f} ms, p99 {sent['p99_ms']:.0f} ms; other answers "
        f"{others or 'none'}, client errors {sent['errors']})"
    )
    print(f"  ratio        {ratio:8.2f}   (goal >= {GOAL}, aim {AIM}: {verdict})")
    if m.later.backlog:
        after = (
            f"{applied_after:.0f}/s after it; backlog {m.at_end.backlog} when the intake ended, "
            f"{m.later.backlog} {after_s} s later (empty after "
            f"{_seconds(m.before_steady_drain)} more)"
        )
    elif m.at_end.backlog:  # the rate after is only what was left: say when it was done
        after = f"the {m.at_end.backlog} left when it ended were applied within {after_s} s"
    else:
        after = "nothing was left when it ended"
    print(f"  applied/s    {applied_during:8.0f}   during the intake; {after}")
    print(f"  sustained: {SUSTAINED_RATE}/s offered for {m.sustained_s} s")
    print(
        f"  accepted/s   {steady_rate:8.0f}   ({steady_accepted} x 202; p50 "
        f"{steady['p50_ms']:.0f} ms, p99 {steady['p99_ms']:.0f} ms; other answers "
        f"{steady_others or 'none'}, client errors {steady['errors']})"
    )
    print(
        f"  applied/s    {steady_applied:8.0f}   (backlog at most {m.backlog_max}, "
        f"{m.steady_end.backlog} when the intake stopped, empty {_seconds(m.drained)} after it)"
    )
    print(
        f"  keeps up     {'yes' if keeps_up else 'NO':>8s}   (goal: applied/s >= accepted/s and "
        f"the backlog empty within {DRAINED_WITHIN_S:.0f} s of the end)"
    )
    print(
        f"  stored once  {m.expected - missing - twice}/{m.expected}   (missing "
        f"{missing}, stored twice {twice}, unexpected rows {extra}; remote key fetches "
        f"{sent['key_fetches'] + steady['key_fetches']})"
    )
    summary = (
        f"{m.setup.label}: accepted/s {rate:.0f} (ratio {ratio:.2f}, {verdict}), applied/s "
        f"{applied_during:.0f} during the burst; sustained applied {steady_applied:.0f}/s, "
        f"keeps up {'yes' if keeps_up else 'NO'}; stored once "
        f"{m.expected - missing - twice}/{m.expected}"
    )
    problems = missing + twice + (accepted != sent["sent"]) + (steady_accepted != steady["sent"])
    return {"rate": rate, "ratio": ratio, "summary": summary, "problems": problems}


def _lift_rate_limits(node: NodeProcess) -> None:
    """The per-host and per-actor inbox limits (`[limits]`) at their highest: they guard
    against one sender's flood, and this benchmark is one sender measuring the capacity."""
    config = node.data / "maillage.toml"
    text = config.read_text()
    for key in ("host_per_minute", "host_burst", "actor_per_minute", "actor_burst"):
        text = re.sub(rf"(?m)^inbox_{key} = \d+", f"inbox_{key} = 1000000", text)
    config.write_text(text)


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
    stored = Counter(row[0] for row in node.query("SELECT activity_id FROM inbox_items"))
    missing = sum(1 for i in ids if stored[i] == 0)
    twice = sum(1 for i in ids if stored[i] > 1)
    return missing, twice, sum(stored.values()) - len(ids)


def activity_id(body: bytes) -> str:
    """The activity id of a request body."""
    return str(json.loads(body)["id"])
