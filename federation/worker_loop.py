"""Keeping a background worker alive: the loop every worker runs, which survives its own
failures (the database locked, full, unreachable or restarting), logs them, backs off
(bounded, exponential, with jitter) and resumes by itself, and never loses a wake-up.

The wake-up event is cleared just before a pass, never after: a signal given while a pass
runs, or while the loop waits after an error, always leads to one more pass.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Protocol

from federation.liveness import Progress

log = logging.getLogger(__name__)

#: First wait after a failed pass, and the longest, in seconds.
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 30.0


class BackgroundWorker(Protocol):
    """A worker that runs for the life of the process, as /healthz watches it."""

    progress: Progress

    async def run_forever(self) -> None:
        """Work until cancelled."""
        ...

    async def count_waiting(self) -> int:
        """How many items are due for the worker now (asked only when it looks stuck, so
        it may cost a query)."""
        ...


class Backoff:
    """Waits that double after each consecutive failure up to a cap, each drawn between half
    and all of its bound, so that several processes do not retry in step."""

    def __init__(
        self,
        first: float = FIRST_RETRY_SECONDS,
        cap: float = MAX_RETRY_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        self._first = first
        self._cap = cap
        self._rng = rng or random.Random()
        self._failures = 0

    def next_delay(self) -> float:
        """The wait before the next try, one failure later than the last call."""
        bound = min(self._cap, self._first * 2 ** min(self._failures, 32))
        self._failures += 1
        return self._rng.uniform(bound / 2, bound)

    def reset(self) -> None:
        """After a success: the next failure waits the first delay again."""
        self._failures = 0


async def keep_running(
    one_pass: Callable[[], Awaitable[bool]],
    progress: Progress,
    *,
    idle_seconds: float,
    wakeup: asyncio.Event | None = None,
    backoff: Backoff | None = None,
) -> None:
    """Run `one_pass` until cancelled: again at once while it returns True (more may be due),
    else after `wakeup` is set or `idle_seconds` have passed. An exception ends the pass, not
    the loop: it is logged, recorded in `progress` and retried after a backoff."""
    backoff = backoff or Backoff()
    try:
        while True:
            if wakeup is not None:
                wakeup.clear()
            try:
                more = await one_pass()
            except Exception as exc:  # the worker boundary: log, wait, try again
                progress.failed(exc)
                delay = backoff.next_delay()
                _log_failure(progress, exc, delay)
                await asyncio.sleep(delay)
                continue
            if progress.failures:
                log.info(
                    "worker resumed",
                    extra={"worker": progress.worker, "failed_passes": progress.failures},
                )
            progress.succeeded()
            backoff.reset()
            if not more:
                await _idle(wakeup, idle_seconds)
    finally:
        progress.stopped()


def _log_failure(progress: Progress, error: Exception, delay: float) -> None:
    """The first failure of a streak with its traceback, the next ones in one line each."""
    context = {
        "worker": progress.worker,
        "error": progress.error,
        "failed_passes": progress.failures,
        "retry_in_s": round(delay, 2),
    }
    if progress.failures == 1:
        log.error("worker pass failed; retrying", extra=context, exc_info=error)
    else:
        log.warning("worker pass failed again; retrying", extra=context)


async def _idle(wakeup: asyncio.Event | None, seconds: float) -> None:
    """Wait for the wake-up signal, at most `seconds`."""
    if wakeup is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(wakeup.wait(), seconds)
    except TimeoutError:
        pass


class PeriodicJob:
    """Time-driven work (decisions that open and close on time): run every `every_seconds`,
    a failed run retried after a backoff rather than a whole period later; setting `wakeup`
    runs it at once (a catch-up when the link returns)."""

    def __init__(
        self, worker: str, job: Callable[[], Awaitable[object]], every_seconds: float
    ) -> None:
        self._job = job
        self._every = every_seconds
        self.progress = Progress(worker)
        self.wakeup = asyncio.Event()

    async def count_waiting(self) -> int:
        """1 while the job's last run failed (its work is still to do), else 0."""
        return self.progress.waiting

    async def run_forever(self) -> None:
        """Run the job on schedule until cancelled."""
        await keep_running(
            self._run, self.progress, idle_seconds=self._every, wakeup=self.wakeup
        )

    async def _run(self) -> bool:
        await self._job()
        self.progress.advanced()
        self.progress.found(0)
        return False
