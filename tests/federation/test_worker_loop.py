"""The worker loop and the liveness record: failures are logged, backed off and survived; a
wake-up given during a pass or during a backoff always leads to another pass; a worker with
work waiting and no progress is reported, an idle one is not."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

import pytest

from federation.liveness import Progress
from federation.worker_loop import Backoff, PeriodicJob, keep_running

#: Longer than any test lasts: a pass that comes sooner was asked for by a wake-up.
NEVER = 3600.0
#: Bound on every wait in these tests (they finish in milliseconds).
BOUND = 10.0


class Clock:
    """Monotonic seconds that only the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def quick_backoff() -> Backoff:
    return Backoff(first=0.001, cap=0.004, rng=random.Random(7))


async def run_until(
    one_pass: Callable[[], Awaitable[bool]],
    done: asyncio.Event,
    progress: Progress,
    wakeup: asyncio.Event | None = None,
) -> None:
    """Run the loop until `done` is set (at most BOUND seconds), then cancel it."""
    task = asyncio.create_task(
        keep_running(one_pass, progress, idle_seconds=NEVER, wakeup=wakeup, backoff=quick_backoff())
    )
    try:
        await asyncio.wait_for(done.wait(), BOUND)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_backoff_doubles_up_to_its_cap_with_jitter_below_each_bound() -> None:
    backoff = Backoff(first=0.5, cap=30.0, rng=random.Random(1))
    bounds = [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    delays = [backoff.next_delay() for _ in bounds]
    assert all(b / 2 <= d <= b for d, b in zip(delays, bounds, strict=True)), delays
    backoff.reset()
    assert 0.25 <= backoff.next_delay() <= 0.5
    many = Backoff(first=0.5, cap=30.0)
    assert max(many.next_delay() for _ in range(2000)) <= 30.0  # no overflow after a long outage


async def test_a_failing_pass_is_logged_backed_off_and_the_loop_resumes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="federation.worker_loop")
    progress = Progress("inbox")
    passes: list[str] = []
    done = asyncio.Event()

    async def one_pass() -> bool:
        passes.append("pass")
        if len(passes) <= 3:
            raise OSError("database is locked")
        done.set()
        return False

    await run_until(one_pass, done, progress)
    assert len(passes) == 4
    messages = [(r.levelname, r.getMessage(), getattr(r, "worker", None)) for r in caplog.records]
    assert messages == [
        ("ERROR", "worker pass failed; retrying", "inbox"),
        ("WARNING", "worker pass failed again; retrying", "inbox"),
        ("WARNING", "worker pass failed again; retrying", "inbox"),
        ("INFO", "worker resumed", "inbox"),
    ]
    first = caplog.records[0]
    assert first.exc_info is not None and first.error == "OSError: database is locked"  # type: ignore[attr-defined]
    assert progress.failures == 0 and progress.error == ""  # recovered


async def test_a_wakeup_during_a_pass_leads_to_another_pass() -> None:
    wakeup = asyncio.Event()
    passes = 0
    done = asyncio.Event()

    async def one_pass() -> bool:
        nonlocal passes
        passes += 1
        if passes == 1:
            wakeup.set()  # new work committed while this pass was already past its query
        else:
            done.set()
        return False  # this pass found nothing: the loop goes idle, the signal wakes it

    await run_until(one_pass, done, Progress("inbox"), wakeup)
    assert passes == 2


async def test_a_wakeup_during_the_backoff_after_an_error_leads_to_another_pass() -> None:
    wakeup = asyncio.Event()
    passes = 0
    done = asyncio.Event()

    async def one_pass() -> bool:
        nonlocal passes
        passes += 1
        if passes == 1:
            asyncio.get_running_loop().call_soon(wakeup.set)  # given while the loop backs off
            raise OSError("connection refused")
        done.set()
        return False

    await run_until(one_pass, done, Progress("delivery"), wakeup)
    assert passes == 2


async def test_cancellation_ends_the_loop_and_the_record_says_so() -> None:
    progress = Progress("delivery")
    started = asyncio.Event()

    async def one_pass() -> bool:
        started.set()
        return False

    task = asyncio.create_task(keep_running(one_pass, progress, idle_seconds=NEVER))
    await asyncio.wait_for(started.wait(), BOUND)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert progress.ended and progress.stall(after_seconds=60) is not None


async def test_a_periodic_job_is_retried_after_a_failure_not_a_period_later() -> None:
    runs = 0
    done = asyncio.Event()

    async def close_decisions() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise OSError("disk I/O error")
        done.set()

    job = PeriodicJob("decisions", close_decisions, every_seconds=NEVER)
    task = asyncio.create_task(job.run_forever())
    try:
        await asyncio.wait_for(done.wait(), BOUND)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert runs == 2 and await job.count_waiting() == 0


def test_an_idle_worker_is_never_stalled() -> None:
    clock = Clock()
    progress = Progress("inbox", clock)
    progress.found(0)
    clock.now += 10_000
    assert progress.stall(after_seconds=60) is None


def test_a_backlog_without_progress_is_a_stall_counted_from_the_backlog_start() -> None:
    clock = Clock()
    progress = Progress("inbox", clock)
    clock.now += 10_000  # idle for hours: the backlog that starts now is not hours old
    progress.found(100)
    clock.now += 30
    assert progress.stall(after_seconds=60) is None
    progress.advanced()
    clock.now += 59
    assert progress.stall(after_seconds=60) is None
    clock.now += 2
    stall = progress.stall(after_seconds=60)
    assert stall is not None and (stall.worker, stall.waiting) == ("inbox", 100)
    assert stall.seconds_without_progress == 61.0 and stall.error == ""


def test_failing_passes_count_as_work_waiting() -> None:
    clock = Clock()
    progress = Progress("decisions", clock)
    progress.failed(OSError("no space left on device\n[SQL: INSERT ... secret parameters]"))
    clock.now += 61
    stall = progress.stall(after_seconds=60)
    assert stall is not None and stall.waiting == 1 and stall.failures == 1
    assert stall.error == "OSError"  # only the type leaves the process (/healthz is public)
    assert progress.error == "OSError: no space left on device"  # its first line, for the log
    progress.succeeded()
    progress.found(0)
    assert progress.stall(after_seconds=60) is None
