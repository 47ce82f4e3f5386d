"""The inbox benchmark's view of a running node's inbox: how many items wait (pending or
held) and how many are done, read from its database twice a second in a thread (SQLite
read-only in WAL mode, PostgreSQL through `psql`: none of the node's code either way).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SAMPLE_EVERY_S = 0.5
#: one statement both engines run: (waiting, all)
_COUNTS = (
    "SELECT coalesce(sum(CASE WHEN state IN ('pending', 'held') THEN 1 ELSE 0 END), 0), "
    "count(*) FROM inbox_items"
)

Query = Callable[[str], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Sample:
    at: float
    backlog: int
    done: int


class InboxWatch:
    """Samples the node's inbox states while a phase runs (`with watch:`), and reads them
    on demand (`now()`)."""

    def __init__(self, query: Query) -> None:
        """`query` runs one SQL statement on the node's database (NodeProcess.query)."""
        self._query = query
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> Sample:
        """The inbox right now."""
        ((waiting, total),) = self._query(_COUNTS)
        return Sample(time.monotonic(), int(waiting), int(total) - int(waiting))

    def __enter__(self) -> InboxWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self.samples.append(self.now())

    def drained_after(self, started: float, bound_s: float) -> float | None:
        """Seconds from `started` until the backlog is empty, None if not within `bound_s`."""
        while time.monotonic() - started < bound_s:
            if self.now().backlog == 0:
                return time.monotonic() - started
            time.sleep(0.2)
        return None
