"""A background worker's liveness record: when it last made progress, whether work waits for
it, and its last error. Updating it costs a clock read; /healthz reads it to tell a worker
that is idle from one that is stuck with a backlog."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

#: How long an error message kept for /healthz may be.
MAX_ERROR_CHARS = 300


@dataclass(frozen=True, slots=True)
class Stall:
    """A worker that has made no progress for a while although work waits for it."""

    worker: str
    #: what the worker last saw waiting (a lower bound: it looks at one batch at a time)
    waiting: int
    seconds_without_progress: float
    #: the type of its last failed pass's error, "" when its passes do not fail (a slow peer)
    error: str
    #: consecutive failed passes
    failures: int
    #: the worker loop has ended (it should run for the life of the process)
    ended: bool = False


class Progress:
    """What one worker reports about itself, pass after pass."""

    def __init__(self, worker: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.worker = worker
        self._clock = clock
        self.waiting = 0
        self.failures = 0
        #: the last failed pass's error: its type, and its first line (for the logs: SQL
        #: errors go on with the statement and its parameters)
        self.error_type = ""
        self.error = ""
        self.ended = False
        #: the last progress, or when the current backlog began if that is later
        self._since = clock()

    def found(self, waiting: int) -> None:
        """The worker looked for work and found `waiting` items due (0: it is idle)."""
        if waiting and not self.waiting:
            self._since = self._clock()  # a backlog starts now, not when the last one ended
        self.waiting = waiting

    def advanced(self) -> None:
        """The worker completed one piece of work (an activity applied, an answer recorded)."""
        self._since = self._clock()

    def succeeded(self) -> None:
        """A pass ended without error."""
        self.failures = 0
        self.error_type = self.error = ""

    def failed(self, error: BaseException) -> None:
        """A pass failed: whatever it was doing still waits for it."""
        self.found(max(self.waiting, 1))
        self.failures += 1
        self.error_type = type(error).__name__
        first_line = next(iter(str(error).splitlines()), "")
        self.error = f"{self.error_type}: {first_line}"[:MAX_ERROR_CHARS]

    def stopped(self) -> None:
        """The worker loop is over (cancelled at shutdown, or it died)."""
        self.ended = True

    def stall(self, after_seconds: float) -> Stall | None:
        """The stall to report when work has waited `after_seconds` without progress, or
        when the loop has ended; None while the worker is idle or moving on."""
        quiet = self._clock() - self._since
        if not self.ended and (not self.waiting or quiet < after_seconds):
            return None
        return Stall(
            self.worker, self.waiting, round(quiet, 1), self.error_type, self.failures, self.ended
        )
