"""The inbox worker makes way for other tasks on the event loop (the intake) while they keep
it busy, and not at all once the backlog has reached half its limit, or when they are idle.
Counted in turns of the loop that the other task got, not in time."""

from __future__ import annotations

import asyncio
import time

from federation.inbox.pacing import Pacing

#: CPU time the busy task spends in each of its turns, in seconds.
BUSY_TURN_SECONDS = 0.002


async def turns_given(pacing: Pacing, worked_seconds: float, busy: bool) -> int:
    """How many turns another task got while the worker made way after working."""
    turns = 0
    stop = False

    async def other() -> None:
        nonlocal turns
        while not stop:
            if busy:
                until = time.perf_counter() + BUSY_TURN_SECONDS
                while time.perf_counter() < until:
                    pass
            turns += 1
            await asyncio.sleep(0 if busy else 3600)

    task = asyncio.create_task(other())
    await asyncio.sleep(0)  # the other task starts
    turns = 0
    await pacing.make_way(worked_seconds)
    stop = True
    task.cancel()
    return turns


async def test_the_worker_makes_way_while_the_others_are_busy() -> None:
    pacing = Pacing(lambda: 0, 1000)
    # 50 ms of work at a share of 0.25 owes the others 150 ms: several of their 2 ms turns
    # (fewer than 75: a loaded machine stretches them)
    assert await turns_given(pacing, 0.05, busy=True) >= 3


async def test_a_half_full_backlog_gives_the_worker_the_whole_loop() -> None:
    pacing = Pacing(lambda: 500, 1000)
    assert pacing.share() == 1.0
    assert await turns_given(pacing, 0.05, busy=True) == 1  # one turn each, as without pacing


async def test_the_worker_goes_on_at_once_when_the_others_are_idle() -> None:
    pacing = Pacing(lambda: 0, 1000)
    assert await turns_given(pacing, 0.05, busy=False) == 0
