"""Crash during a fan-out: `kill -9` a real `maillage serve` in the middle, restart it on
the same data, and count what the sinks got.

1,000 followers on 100 sink hosts whose answers are slowed a little, so that the fan-out
lasts a few seconds; `maillage announce` logs the announcement; when the sinks have seen
about half of the (inbox, activity id) pairs (always between 20% and 80%), the node gets
SIGKILL; `maillage serve` starts again on the same folder; the run ends when every pair
has arrived or at a time limit.

Figures, from what the sinks recorded (each POST with its arrival time):
- lost: pairs never received.
- re-sent after the crash: repeated POSTs of the pair each host was at when the node died
  (received before the kill, its cursor not yet moved past it): the delivery log's
  at-least-once contract allows these, and receivers drop them by activity id.
- duplicated: any other repeated POST: a pair sent again although its host's cursor had
  already moved past it, or sent twice without a crash between. Receivers would still drop
  them, but the node should never send them.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import LOOPBACK, Child, NodeProcess, http_json, insert_followers, query_db
from tests.testrig.processes import run_maillage

PER_HOST = 10
KILL_AT = 0.5
WINDOW = (0.2, 0.8)


def run(quick: bool, workdir: Path) -> dict[str, Any]:
    hosts = 20 if quick else 100
    delay_ms = 150 if quick else 80
    expected_count = hosts * PER_HOST
    workdir.mkdir(parents=True, exist_ok=True)
    sinks = Child(
        "bench.sinks", ["--hosts", str(hosts), "--delay-ms", str(delay_ms)], workdir / "sinks.log"
    )
    node = NodeProcess(workdir, "crash-node")
    try:
        ready = sinks.receive(timeout=30)
        ports: list[int] = ready["ports"]
        control = f"http://{LOOPBACK}:{ready['control']}"
        asyncio.run(insert_followers(node.database_url, node.territory, ports, PER_HOST))
        node.start()
        announced = run_maillage(
            "announce", "--data", str(node.data), "Conseil de quartier jeudi à 18 h 30."
        )
        if announced.returncode != 0:
            raise RuntimeError(f"maillage announce failed: {announced.stderr}")
        logged_at = time.monotonic()

        # Kill when about half the pairs have arrived.
        deadline = time.monotonic() + 30
        seen = 0
        while time.monotonic() < deadline:
            seen = http_json(f"{control}/_stats")["pairs"]
            if seen >= KILL_AT * expected_count:
                break
            time.sleep(0.005)
        first_run_seconds = time.monotonic() - logged_at
        node.kill9()
        killed_at = time.monotonic()
        at_kill = http_json(f"{control}/_stats")
        restarted = time.monotonic()
        node.start()
        restart_seconds = time.monotonic() - restarted

        # Wait for every pair (bounded), then for late repeats.
        deadline = time.monotonic() + 40
        stats = at_kill
        while time.monotonic() < deadline:
            stats = http_json(f"{control}/_stats")
            if stats["pairs"] >= expected_count:
                break
            time.sleep(0.02)
        finished = time.monotonic()
        quiet_until = time.monotonic() + 5
        posts = stats["posts"]
        while time.monotonic() < quiet_until:
            time.sleep(0.5)
            latest = http_json(f"{control}/_stats")
            if latest["posts"] == posts and latest["open"] == 0:
                break
            posts = latest["posts"]
        detail = http_json(f"{control}/_detail")["posts"]
        node.stop()
        activity_ids = [
            row[0] for row in query_db(node.db_path, "SELECT activity_id FROM outbox_entries")
        ]
        cursors = query_db(
            node.db_path, "SELECT sum(delivered), sum(given_up) FROM delivery_cursors"
        )[0]
    finally:
        node.stop()
        sinks.close()

    figures = analyse(detail, ports, activity_ids, killed_at)
    fraction = at_kill["pairs"] / expected_count
    in_window = WINDOW[0] <= fraction <= WINDOW[1]
    print(
        f"crash: real `maillage serve` (SQLite), {expected_count} deliveries to {hosts} sink "
        f"hosts answering after {delay_ms:.0f} ms; SIGKILL when the sinks had "
        f"{at_kill['pairs']}/{expected_count} ({100 * fraction:.0f}%, "
        f"{'inside' if in_window else 'OUTSIDE'} the 20-80% window) "
        f"{first_run_seconds:.1f} s after `maillage announce`, restart took "
        f"{restart_seconds:.1f} s, complete {finished - killed_at:.1f} s after the kill"
    )
    print(f"  lost                     {figures['lost']:5d}   (goal 0)")
    print(f"  duplicated               {figures['duplicated']:5d}   (goal 0)")
    print(
        f"  re-sent after the crash  {figures['resent']:5d}   (the pair each host was at when "
        f"the node died: {figures['resent'] - figures['resent_answered']} not yet answered, "
        f"{figures['resent_answered']} answered but the cursor not yet committed; "
        f"{figures['in_flight']} requests were open at the sinks, {figures['hosts_mid']} hosts "
        f"mid-way; the sinks dropped them by activity id)"
    )
    print(
        f"  received {figures['received']}/{expected_count} pairs in {figures['posts']} POSTs; "
        f"unexpected pairs {figures['unexpected']}; node's cursors after: delivered "
        f"{cursors[0]}, given up {cursors[1]}"
    )
    problems = figures["lost"] + figures["duplicated"] + figures["unexpected"]
    ok = "met" if figures["lost"] == figures["duplicated"] == 0 else "MISSED"
    return {
        **figures,
        "kill_fraction": fraction,
        "summary": f"lost {figures['lost']}, duplicated {figures['duplicated']} (goal 0/0: {ok}); "
        f"re-sent after the crash {figures['resent']} (killed at {100 * fraction:.0f}%)",
        "problems": problems + (not in_window),
    }


def analyse(
    posts: list[list[Any]], ports: list[int], activity_ids: list[str], killed_at: float
) -> dict[str, int]:
    """Split the repeated POSTs into allowed re-sends and real duplicates."""
    expected = {
        (f"http://{LOOPBACK}:{port}/users/f{i}/inbox", activity_id)
        for port in ports
        for i in range(PER_HOST)
        for activity_id in activity_ids
    }
    arrivals: dict[tuple[str, str], list[float]] = defaultdict(list)
    for inbox, activity_id, arrived, _answered, _signed in posts:
        arrivals[(inbox, activity_id)].append(arrived)
    # Per host, the last pair that arrived before the kill: the one its cursor may not
    # have passed yet (the answer not back, or its cursor update not committed).
    at_crash: dict[str, tuple[float, tuple[str, str]]] = {}
    for pair, times in arrivals.items():
        host = pair[0].split("/")[2]
        before = [t for t in times if t < killed_at]
        if before and (host not in at_crash or min(before) > at_crash[host][0]):
            at_crash[host] = (min(before), pair)
    allowed = {pair for _, pair in at_crash.values()}
    answered_before: set[tuple[str, str]] = {
        (inbox, activity_id)
        for inbox, activity_id, arrived, answered, _ in posts
        if arrived < killed_at and answered is not None and answered < killed_at
    }
    resent = duplicated = resent_answered = 0
    for pair, times in arrivals.items():
        extra = len(times) - 1
        if extra <= 0:
            continue
        before = sum(t < killed_at for t in times)
        if pair in allowed and before == 1 and extra == 1:
            resent += 1
            resent_answered += pair in answered_before
        else:
            duplicated += extra
    in_flight = sum(
        1
        for _, _, arrived, answered, _ in posts
        if arrived < killed_at and (answered is None or answered > killed_at)
    )
    done_before: dict[str, int] = defaultdict(int)
    for pair, times in arrivals.items():
        if min(times) < killed_at:
            done_before[pair[0].split("/")[2]] += 1
    per_host = PER_HOST * len(activity_ids)
    hosts_mid = sum(1 for count in done_before.values() if 0 < count < per_host)
    return {
        "lost": len(expected - arrivals.keys()),
        "duplicated": duplicated,
        "resent": resent,
        "resent_answered": resent_answered,
        "unexpected": len(arrivals.keys() - expected),
        "received": len(expected & arrivals.keys()),
        "posts": len(posts),
        "in_flight": in_flight,
        "hosts_mid": hosts_mid,
    }
