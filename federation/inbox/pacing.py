"""The inbox worker's share of the event loop: the intake goes first, the backlog stays bounded.

The intake (signature checks, storing, answering 202) and the worker (applying what was
stored) run on one event loop. Left alone they share it evenly, so a burst of deliveries is
accepted at about half the rate the loop allows. After each stretch of work the worker
therefore makes way: it yields turn after turn of the loop while other tasks keep it busy,
until they have had their share or have nothing left to do (then it goes on at once: when
the intake is quiet the worker runs at full speed).

Its share grows with the backlog, from LEAST_SHARE when nothing waits to all of the loop at
half the configured backlog limit, so the backlog cannot grow without bound: past that point
the worker takes every turn it can, and past the limit itself the inbox answers 503.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

#: The worker's share of a busy loop when nothing waits to be applied.
LEAST_SHARE = 0.25
#: The worker takes the whole loop once the backlog reaches this share of its limit.
FULL_SHARE_AT = 0.5
#: A turn of the loop this short ran nothing else: the others have nothing to do.
IDLE_TURN_SECONDS = 0.0002
#: Longest the worker makes way after one stretch of work, in seconds.
MAX_WAIT_SECONDS = 0.5


class Pacing:
    """Decides how long the worker makes way, from the backlog and its limit."""

    def __init__(self, backlog: Callable[[], int], limit: int) -> None:
        """`backlog` says how many stored activities wait (no query: asked after every
        stretch of work); `limit` is the backlog past which the inbox answers 503."""
        self._backlog = backlog
        self._limit = max(1, limit)

    def share(self) -> float:
        """The worker's share of a busy loop now: LEAST_SHARE with an empty backlog, rising
        linearly to 1 when the backlog reaches FULL_SHARE_AT of its limit.

        >>> pacing = Pacing(lambda: 0, 1000)
        >>> pacing.share()
        0.25
        >>> Pacing(lambda: 250, 1000).share(), Pacing(lambda: 900, 1000).share()
        (0.625, 1.0)
        """
        filled = min(1.0, self._backlog() / (self._limit * FULL_SHARE_AT))
        return LEAST_SHARE + (1.0 - LEAST_SHARE) * filled

    async def make_way(self, worked_seconds: float) -> float:
        """After the worker worked `worked_seconds`, yield turns of the event loop while
        other tasks use them, until they had their share of the time or ran out of work
        (bounded by MAX_WAIT_SECONDS); returns how long the worker waited."""
        share = self.share()
        started = time.monotonic()
        owed = min(MAX_WAIT_SECONDS, worked_seconds * (1.0 - share) / share)
        deadline = started + owed
        while True:
            turn = time.monotonic()
            await asyncio.sleep(0)  # one turn of the loop: every ready task runs once
            now = time.monotonic()
            if now - turn < IDLE_TURN_SECONDS or now >= deadline:
                return now - started


async def never_wait(_worked_seconds: float) -> float:
    """The worker without pacing (deterministic tests, one-off drains): no wait."""
    return 0.0
