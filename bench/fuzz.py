"""Property-based fuzzing at volume: every parser in protocols/ and the inbox endpoint of a real
node, with the generators of tests/testrig/fuzz_targets.py (the test suite runs a few hundred
cases of each; this runs ten thousand and more).

A problem is any case where a parser raised something other than its typed refusal, the inbox
answered 5xx or a refusal without a reason, or an accepted activity crashed its handler.
The inbox rate is compared with a floor: the same generated, signed requests posted to a bare
aiohttp server that only reads the body and parses it as JSON (no node code).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.node.test_fuzz_inbox import (
    FuzzedInbox,
    serve_fuzzed_inbox,
    signed_activities,
    unsigned_bodies,
)
from tests.testrig.fuzz_targets import PARSERS, check_parser
from tests.testrig.threaded import LoopThread


def _settings(cases: int) -> Any:
    return settings(
        max_examples=cases, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )


def _fuzz(
    strategy: st.SearchStrategy[Any], cases: int, check: Callable[[Any], None]
) -> tuple[int, float, str]:
    """Run `check` over `cases` generated inputs: how many ran, in how long, the first failure."""
    ran = 0

    @_settings(cases)
    @given(strategy)
    def feed(value: Any) -> None:
        nonlocal ran
        ran += 1
        check(value)

    started = time.perf_counter()
    try:
        feed()
    except Exception as failure:  # hypothesis re-raises the shrunk failing case
        return ran, time.perf_counter() - started, f"{type(failure).__name__}: {failure}"[:600]
    return ran, time.perf_counter() - started, ""


async def _bare_inbox(request: web.Request) -> web.Response:
    try:
        json.loads(await request.read())
    except ValueError:
        return web.json_response({"error": "not JSON"}, status=400)
    return web.json_response({}, status=202)


def _floor_rate(
    strategy_for: Callable[[FuzzedInbox], Any], inbox: FuzzedInbox, cases: int
) -> float:
    """Cases per second through generation, signing and HTTP to a server doing nothing else."""
    app = web.Application(client_max_size=20_000_000)
    app.router.add_post("/inbox", _bare_inbox)
    with LoopThread() as loop:
        bare = FuzzedInbox(loop.serve(app), inbox.actor, app, loop)
        ran, seconds, _ = _fuzz(strategy_for(inbox), cases, lambda request: bare.post(*request))
    return ran / seconds


def run(quick: bool, workdir: Path, profile: bool = False) -> dict[str, Any]:
    per_parser = 450 if quick else 3_000
    signed, unsigned = (1_000, 300) if quick else (8_000, 2_000)
    workdir.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    total = 0
    print(
        f"fuzz: {len(PARSERS)} parsers x {per_parser} cases, inbox {signed} signed + "
        f"{unsigned} unsigned requests to a real node (SQLite, real signatures)"
    )
    started = time.perf_counter()
    for parser in PARSERS:
        ran, _, failure = _fuzz(parser.inputs, per_parser, lambda v, p=parser: check_parser(p, v))
        total += ran
        if failure:
            problems.append(f"{parser.name}: {failure}")
    parsers_s = time.perf_counter() - started
    print(f"  parsers  {total} cases in {parsers_s:.1f} s ({total / parsers_s:.0f} cases/s)")

    statuses: Counter[int] = Counter()
    (workdir / "node").mkdir(exist_ok=True)
    with contextmanager(serve_fuzzed_inbox)(workdir / "node") as inbox:

        def check(request: tuple[bytes, dict[str, str]]) -> None:
            status, answer = inbox.post(*request)
            statuses[status] += 1
            assert status < 500 and (status < 400 or answer.get("error")), (status, answer)

        ran_signed, signed_s, failure = _fuzz(signed_activities(inbox), signed, check)
        if failure:
            problems.append(f"inbox, signed: {failure}")
        ran_unsigned, _, failure = _fuzz(unsigned_bodies(), unsigned, check)
        if failure:
            problems.append(f"inbox, unsigned: {failure}")
        crashed = inbox.failures()
        problems += [f"handler crashed: {note}" for note in crashed[:5]]
        floor = _floor_rate(signed_activities, inbox, min(signed, 1_000))
    total += ran_signed + ran_unsigned
    node_rate = ran_signed / signed_s
    answers = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
    print(
        f"  inbox    {ran_signed + ran_unsigned} requests ({answers}); "
        f"{statuses[202]} accepted, applied with {len(crashed)} handler crashes"
    )
    print(
        f"  inbox    signed: node {node_rate:.0f} requests/s   floor {floor:.0f}/s   "
        f"ratio {node_rate / floor:.2f}"
    )
    print(
        "  floor: the same generated and signed requests to a bare aiohttp server that parses "
        "the JSON and answers 202: no node code"
    )
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    return {
        "summary": f"{total} cases, {len(problems)} problems; "
        f"inbox {node_rate / floor:.2f} x floor",
        "problems": problems,
    }
