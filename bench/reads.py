"""Reads: what a node serves per second to 50 connections, against the machine's floor.

A real `maillage serve` (SQLite) holds the sample territory (`maillage demo`) plus a few
hundred more needs, proposals and received posts (bench.read_history). A load generator in
its own process (`wrk` when it is on PATH, else bench.load; the same one for the floor and
the node) keeps 50 connections busy on each URL in turn: WebFinger, the territory's actor
document (Accept: application/activity+json), the home page `/` and `/proposals`. The floor
is a trivial aiohttp handler in its own process (bench.trivial), measured before and after
the node. Printed: requests/s, the ratio to the floor, p50 and p99 latency; the node's RSS
when idle and after the load (from /proc); and the time from starting `maillage serve` to
its first 200 on /healthz (bytecode compiled first, as `pip install` does).
"""

from __future__ import annotations

import asyncio
import compileall
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import LOOPBACK, REPO, Child, NodeProcess, free_port
from bench.read_history import History, add_history
from instance_config import load_config
from tests.testrig.processes import clean_environment, run_maillage

CONNECTIONS = 50
#: The goals (issue 13): share of the floor's rate, and the home page's p99.
GOALS = {"webfinger": 0.3, "actor": 0.3, "proposals": 0.1, "home": 0.05}
HOME_P99_GOAL_MS = 200.0
IDLE_RSS_GOAL_MB = 100.0
LOADED_RSS_GOAL_MB = 160.0
START_GOAL_S = 1.0
ACTIVITY_JSON = "application/activity+json"


def rss_mb(pid: int) -> float:
    """The resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(url: str, seconds: float, headers: dict[str, str]) -> dict[str, Any]:
    """One load run on `url`: wrk if installed, else bench.load, in their own process."""
    wrk = shutil.which("wrk")
    if wrk is not None:
        return _wrk(wrk, url, seconds, headers)
    command = [sys.executable, "-m", "bench.load", url, "--connections", str(CONNECTIONS)]
    command += ["--seconds", str(seconds)]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        cwd=REPO,
        env=clean_environment(PYTHONPATH=str(REPO)),
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _wrk(wrk: str, url: str, seconds: float, headers: dict[str, str]) -> dict[str, Any]:
    """wrk's figures in bench.load's shape (its latency percentiles with --latency)."""
    command = [wrk, "-t2", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    figures: dict[str, Any] = {"statuses": {}}
    for line in out.splitlines():
        words = line.split()
        if words[:1] == ["Requests/sec:"]:
            figures["rate"] = float(words[1])
        elif words[:1] in (["50%"], ["99%"]):
            figures[f"p{words[0][:-1]}_ms"] = _milliseconds(words[1])
        elif "requests in" in line:
            figures["requests"] = int(words[0])
        elif words[:1] == ["Non-2xx"]:
            figures["statuses"]["non-2xx"] = int(words[-1])
    figures["statuses"].setdefault("200", figures.get("requests", 0))
    return figures


def _milliseconds(text: str) -> float:
    for unit, factor in (("ms", 1.0), ("us", 0.001), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def _floor(root: Path, seconds: float) -> dict[str, Any]:
    port = free_port()
    floor = Child("bench.trivial", ["--port", str(port)], root / "trivial.log")
    try:
        floor.receive(timeout=30)
        return measure(f"http://{LOOPBACK}:{port}/", seconds, {})
    finally:
        floor.close()


def _prepare(root: Path, quick: bool) -> NodeProcess:
    """A node with the sample territory and more history; bytecode compiled."""
    node = NodeProcess(root, "reads")
    demo = run_maillage("demo", "--data", str(node.data), timeout=600)
    if demo.returncode != 0:
        raise RuntimeError(f"maillage demo failed: {demo.stderr}")
    history = History(needs=120, proposals=60, received=120) if quick else History(400, 200, 400)
    # The history is written faster than a resident may post: lift the hourly limit for it.
    lifted = {"limits": {"needs_per_hour": 10_000}}
    asyncio.run(add_history(load_config(node.data, {}, lifted), history))
    print(
        f"  history: sample territory + {history.needs} needs ({history.proposals} made "
        f"proposals) + {history.received} received posts",
        flush=True,
    )
    for package in ("node", "federation", "protocols", "instance_config"):
        compileall.compile_dir(REPO / package, quiet=1)
    return node


def run(quick: bool, workdir: Path, profile: bool = False) -> dict[str, Any]:
    """Run the read benchmark; returns its figures, a summary line and any problems."""
    workdir.mkdir(parents=True, exist_ok=True)
    seconds = 4.0 if quick else 10.0
    node = _prepare(workdir, quick)
    problems: list[str] = []
    node.start(timeout=60).stop()  # a first start: files in the OS cache, as on a server
    started = time.monotonic()
    node.start(profile=workdir / "reads.samples.json" if profile else None, timeout=60)
    start_s = time.monotonic() - started
    time.sleep(1.0)
    idle_mb = rss_mb(node.pid)
    print(f"  start to the first 200 on /healthz: {start_s:.2f} s (goal <= {START_GOAL_S} s)")
    print(f"  node RSS idle: {idle_mb:.0f} MB (goal <= {IDLE_RSS_GOAL_MB:.0f} MB)", flush=True)
    domain = node.base.split("//", 1)[1]
    targets = {
        "webfinger": (f"/.well-known/webfinger?resource=acct:territoire@{domain}", {}),
        "actor": ("/actors/territoire", {"Accept": ACTIVITY_JSON}),
        "home": ("/", {}),
        "proposals": ("/proposals", {}),
    }
    try:
        before = _floor(workdir, seconds)
        results = {
            name: measure(node.base + path, seconds, headers)
            for name, (path, headers) in targets.items()
        }
        after = _floor(workdir, seconds)
        loaded_mb = rss_mb(node.pid)
    finally:
        node.stop()
    floor = (before["rate"] + after["rate"]) / 2
    print(
        f"  floor (trivial aiohttp handler, {CONNECTIONS} connections): "
        f"{before['rate']:.0f} req/s before, {after['rate']:.0f} after, "
        f"p50 {before['p50_ms']:.1f} ms, p99 {before['p99_ms']:.1f} ms"
    )
    for name, figures in results.items():
        ratio = figures["rate"] / floor if floor else 0.0
        figures["ratio"] = ratio
        print(
            f"  {name:10s} {figures['rate']:7.0f} req/s  {ratio:.2f} of the floor "
            f"(goal >= {GOALS[name]})  p50 {figures['p50_ms']:6.1f} ms  "
            f"p99 {figures['p99_ms']:6.1f} ms  statuses {figures['statuses']}"
        )
        if set(figures["statuses"]) - {"200"}:
            problems.append(f"{name}: answers other than 200: {figures['statuses']}")
    print(f"  node RSS after the load: {loaded_mb:.0f} MB (goal <= {LOADED_RSS_GOAL_MB:.0f} MB)")
    if profile:
        from bench.sampler import print_samples

        print_samples(workdir / "reads.samples.json", "the node under the read load")
    summary = (
        "  ".join(f"{name} {r['ratio']:.2f}" for name, r in results.items())
        + f"  (home p99 {results['home']['p99_ms']:.0f} ms); RSS {idle_mb:.0f}/{loaded_mb:.0f} MB;"
        f" start {start_s:.2f} s"
    )
    return {
        "floor": floor,
        "results": results,
        "idle_mb": idle_mb,
        "loaded_mb": loaded_mb,
        "start_s": start_s,
        "summary": summary,
        "problems": problems,
    }
