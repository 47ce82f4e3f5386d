"""Fan-out: one announcement to 1,000 followers on 100 hosts.

100 sink inboxes on distinct loopback ports (distinct hosts) run in their own process,
10 followers each, written straight into the node's database as cached remote actors with
accepted follows. The node is `create_app(config)` served exactly as `maillage serve` does
(workers on) in its own process (`bench.node_driver`), where `announce()` is called as the
web interface would: the time runs from the call until the sinks have every delivery.
First without shared inboxes (1,000 POSTs: the headline), then with (100 POSTs).

The baseline: the same requests (same body, same inboxes) signed with `sign_cavage` and the
same RSA key at send time, POSTed by a bare aiohttp client with the same concurrency shape
as the delivery worker (32 hosts at a time, in order within a host).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import (
    LOOPBACK,
    Child,
    NodeProcess,
    http_json,
    insert_followers,
    query_db,
    set_shared_inboxes,
)
from bench.sampler import print_samples
from federation.delivery.worker import DeliveryWorker
from protocols.httpsig import sign_cavage
from protocols.keys import load_private_key

#: the node's rate as a share of the bare client's, for both fan-outs (issue 13)
GOAL = 0.8
PER_HOST = 10
#: the delivery worker's `parallel_hosts` default: the baseline uses the same
PARALLEL_HOSTS = int(inspect.signature(DeliveryWorker).parameters["parallel_hosts"].default)
ACTIVITY_JSON = "application/activity+json"


def wait_for_sinks(control: str, expected: int, timeout: float) -> dict[str, Any]:
    """Poll the sinks until they have `expected` distinct (inbox, activity) pairs."""
    deadline = time.monotonic() + timeout
    while True:
        stats = http_json(f"{control}/_stats")
        if stats["pairs"] >= expected or time.monotonic() > deadline:
            return dict(stats)
        time.sleep(0.005)


def node_fanout(driver: Child, control: str, expected: int, timeout: float) -> dict[str, Any]:
    http_json(f"{control}/_reset", "POST")
    driver.send({"cmd": "announce", "text": "Fête du village samedi : venez nombreux !"})
    announced = driver.receive(timeout=30)
    stats = wait_for_sinks(control, expected, timeout)
    time.sleep(0.2)  # late repeats, if any
    stats = http_json(f"{control}/_stats") | {"t0": announced["t0"]}
    return _figures(stats, expected) | {"announce_ms": 1000 * (announced["t1"] - announced["t0"])}


def _figures(stats: dict[str, Any], expected: int) -> dict[str, Any]:
    complete = stats["pairs"] >= expected
    end = stats["last_new"] if complete else stats["now"]
    seconds = end - stats["t0"]
    return {
        "expected": expected,
        "pairs": stats["pairs"],
        "repeats": stats["repeats"],
        "unsigned": stats["unsigned"],
        "seconds": seconds,
        "first_ms": 1000 * ((stats["first_arrival"] or end) - stats["t0"]),
        "rate": stats["pairs"] / seconds if seconds > 0 else 0.0,
        "complete": complete,
    }


async def bare_client(
    inboxes: list[str], body: bytes, key_pem: str, key_id: str, control: str
) -> dict[str, Any]:
    """The baseline: sign at send time, POST, 32 hosts at a time, in order within a host."""
    key = load_private_key(key_pem)
    by_host: dict[str, list[str]] = defaultdict(list)
    for inbox in inboxes:
        by_host[inbox.split("/")[2]].append(inbox)
    slots = asyncio.Semaphore(PARALLEL_HOSTS)
    statuses: dict[int, int] = defaultdict(int)
    connector = aiohttp.TCPConnector()  # aiohttp's defaults, as the node's client
    timeout = aiohttp.ClientTimeout(total=15, connect=5)
    http_json(f"{control}/_reset", "POST")
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def host(targets: list[str]) -> None:
            async with slots:
                for inbox in targets:
                    headers = {"Content-Type": ACTIVITY_JSON}
                    headers |= sign_cavage(
                        "POST", inbox, headers, body, key, key_id, datetime.now(UTC)
                    )
                    async with session.post(inbox, data=body, headers=headers) as answer:
                        await answer.read()
                        statuses[answer.status] += 1

        started = time.monotonic()
        await asyncio.gather(*(host(targets) for targets in by_host.values()))
    stats = http_json(f"{control}/_stats") | {"t0": started}
    return _figures(stats, len(inboxes)) | {"statuses": dict(statuses)}


def _median_of_3(
    inboxes: list[str], body: bytes, key_pem: str, key_id: str, control: str
) -> dict[str, Any]:
    """The baseline is short (well under a second): the median of three runs."""
    runs = [asyncio.run(bare_client(inboxes, body, key_pem, key_id, control)) for _ in range(3)]
    return sorted(runs, key=lambda r: float(r["rate"]))[1]


def run(quick: bool, workdir: Path, profile: bool = False) -> dict[str, Any]:
    hosts = 40 if quick else 100
    followers = hosts * PER_HOST
    workdir.mkdir(parents=True, exist_ok=True)
    sinks = Child("bench.sinks", ["--hosts", str(hosts)], workdir / "sinks.log")
    driver: Child | None = None
    node = NodeProcess(workdir, "fanout-node")
    profile_path = workdir / "fanout-node.samples.json" if profile else None
    try:
        ready = sinks.receive(timeout=30)
        control = f"http://{LOOPBACK}:{ready['control']}"
        asyncio.run(insert_followers(node.database_url, node.territory, ready["ports"], PER_HOST))
        args = ["--data", str(node.data)]
        if profile_path is not None:
            args += ["--profile", str(profile_path)]
        driver = Child("bench.node_driver", args, workdir / "fanout-node.log")
        driver.receive(timeout=30)
        personal = node_fanout(driver, control, followers, timeout=45)
        set_shared_inboxes(node.db_path, True)
        shared = node_fanout(driver, control, hosts, timeout=20)
        driver.send({"cmd": "quit"})
        driver.close()
        driver = None

        # The baseline: same body, same key, same inboxes.
        rows = query_db(node.db_path, "SELECT body FROM outbox_entries ORDER BY seq")
        body = rows[0][0].encode()  # the first announcement: the personal-inbox run
        key_pem = query_db(
            node.db_path, "SELECT rsa_private_pem FROM local_actors WHERE kind = 'territory'"
        )[0][0]
        key_id = f"{node.territory}#main-key"
        personal_inboxes = [
            f"http://{LOOPBACK}:{port}/users/f{i}/inbox"
            for port in ready["ports"]
            for i in range(PER_HOST)
        ]
        shared_inboxes = [f"http://{LOOPBACK}:{port}/inbox" for port in ready["ports"]]
        base_personal = _median_of_3(personal_inboxes, body, key_pem, key_id, control)
        base_shared = _median_of_3(shared_inboxes, body, key_pem, key_id, control)
        cursors = query_db(
            node.db_path,
            "SELECT sum(delivered), sum(given_up), sum(failures) FROM delivery_cursors",
        )[0]
    finally:
        if driver is not None:
            driver.close()
        sinks.close()

    ratio = personal["rate"] / base_personal["rate"]
    ratio_shared = shared["rate"] / base_shared["rate"]
    goal = "met" if ratio >= GOAL else "MISSED"
    goal_shared = "met" if ratio_shared >= GOAL else "MISSED"
    print(
        f"fanout: node = create_app(config) with workers, served as `maillage serve` in its own "
        f"process, announce() called inside it; {followers} followers on {hosts} sink hosts "
        f"(separate process); delivery worker: {PARALLEL_HOSTS} hosts in parallel"
    )
    for label, node_run, base in (
        (f"personal inboxes ({followers} POSTs)", personal, base_personal),
        (f"shared inboxes   ({hosts} POSTs)", shared, base_shared),
    ):
        print(f"  {label}:")
        print(
            f"    node      {node_run['rate']:7.0f} deliveries/s   ({node_run['pairs']}/"
            f"{node_run['expected']} in {node_run['seconds']:.2f} s from announce(), which took "
            f"{node_run['announce_ms']:.0f} ms; first delivery after {node_run['first_ms']:.0f} ms;"
            f" repeats {node_run['repeats']}, unsigned {node_run['unsigned']})"
        )
        print(
            f"    baseline  {base['rate']:7.0f} deliveries/s   ({base['pairs']}/{base['expected']}"
            f" in {base['seconds']:.2f} s, median of 3; sign_cavage + bare aiohttp, same key, "
            f"body and concurrency)"
        )
    print(f"  ratio (personal, headline) {ratio:.2f}   (goal >= {GOAL}: {goal})")
    print(f"  ratio (shared)             {ratio_shared:.2f}   (goal >= {GOAL}: {goal_shared})")
    print(
        f"  node's cursors: delivered {cursors[0]}, given up {cursors[1]}, "
        f"failures {cursors[2]} (expected delivered {followers + hosts})"
    )
    if profile_path is not None:
        print_samples(profile_path, "the node during both fan-outs")
    problems = (not personal["complete"]) + (not shared["complete"])
    problems += personal["repeats"] + shared["repeats"]
    return {
        "deliveries_per_s": personal["rate"],
        "baseline_per_s": base_personal["rate"],
        "ratio": ratio,
        "summary": f"{personal['rate']:.0f} deliveries/s vs bare client "
        f"{base_personal['rate']:.0f}/s: ratio {ratio:.2f} (goal >= {GOAL}: {goal}); "
        f"shared inboxes ratio {ratio_shared:.2f} ({goal_shared})",
        "problems": problems,
    }
