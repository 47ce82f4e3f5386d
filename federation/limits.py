"""Rate limits for what remote servers make the node do: a small interface and its in-memory
implementation (token buckets per key, with an injectable clock).

In memory per process. A node served by N processes (`maillage serve --workers N`) gives
each process 1/N of every configured rate and burst (`process_share`), so the whole node
admits about the configured budget however the requests spread over the processes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

#: keys remembered at once; past it the least recently charged go first (a flood of
#: invented host names cannot grow memory without bound)
MAX_KEYS = 50_000


class RateLimiter(Protocol):
    """Charges one unit of work to a key, or says how long to wait."""

    def charge(self, key: str) -> float:
        """0 when allowed (one unit taken), else the seconds until one unit is available
        (nothing taken)."""
        ...


class TokenBuckets:
    """A bucket of `burst` tokens per key, refilled at `per_minute` tokens a minute.

    >>> now = [0.0]
    >>> buckets = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0])
    >>> [buckets.charge("a"), buckets.charge("a"), buckets.charge("a"), buckets.charge("b")]
    [0.0, 0.0, 1.0, 0.0]
    >>> now[0] = 1.0
    >>> buckets.charge("a")
    0.0
    """

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        """`per_minute` > 0 and `burst` >= 1; `clock` gives seconds (monotonic)."""
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._max_keys = max_keys
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def charge(self, key: str) -> float:
        """Take one token from the key's bucket, or say when one will be there."""
        now = self.clock()
        tokens, at = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if tokens >= 1.0:
            tokens -= 1.0
            wait = 0.0
        else:
            wait = (1.0 - tokens) / self._rate
        if len(self._buckets) >= self._max_keys:
            self._buckets.pop(next(iter(self._buckets)))
        self._buckets[key] = (tokens, now)  # re-inserted: the dict stays in charge order
        return wait


@dataclass(frozen=True, slots=True)
class InboxLimits:
    """The inbox's limits: per remote host (charged before any signature is verified) and
    per remote actor (once its signature is)."""

    hosts: RateLimiter
    actors: RateLimiter


def process_share(value: int, workers: int) -> int:
    """One process's share of a node-wide rate or burst when `workers` processes serve the
    node: each keeps its own buckets, so without sharing they would admit `workers` times
    the configured budget. Rounded down (the node never admits more than configured), and
    at least 1 (a bucket must hold one token).

    >>> process_share(600, 1), process_share(600, 3), process_share(100, 3), process_share(2, 3)
    (600, 200, 33, 1)
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    return max(1, value // workers)


def retry_after_seconds(wait: float) -> int:
    """A Retry-After value: whole seconds, at least 1.

    >>> retry_after_seconds(0.2), retry_after_seconds(2.5)
    (1, 3)
    """
    return max(1, math.ceil(wait))
