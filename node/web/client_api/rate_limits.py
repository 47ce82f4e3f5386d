"""Mastodon's API rate limits: per token, or per address without one, a number of requests in
a five-minute window (Mastodon's defaults), told in X-RateLimit-* headers; above it, 429."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

#: Mastodon's defaults (config/initializers/rack_attack.rb): 300 requests per 5 minutes
REQUESTS_PER_WINDOW = 300
WINDOW_SECONDS = 300
#: callers remembered at once; the oldest windows go first beyond this
MAX_CALLERS = 50_000


@dataclass(frozen=True, slots=True)
class Allowance:
    """What is left of a caller's window, as the headers say it."""

    allowed: bool
    limit: int
    remaining: int
    resets_at: float

    def headers(self) -> dict[str, str]:
        """X-RateLimit-Limit, -Remaining and -Reset (an ISO 8601 time, as Mastodon sends)."""
        reset = datetime.fromtimestamp(self.resets_at, UTC).isoformat(timespec="milliseconds")
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": reset.replace("+00:00", "Z"),
        }


@dataclass
class ApiRateLimits:
    """Fixed windows per caller (a token id, or an address), in memory."""

    limit: int = REQUESTS_PER_WINDOW
    window: float = WINDOW_SECONDS
    clock: Callable[[], float] = time.time
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    def charge(self, caller: str) -> Allowance:
        """Count one request of `caller`; whether it may go on, and what is left."""
        now = self.clock()
        started, used = self._windows.get(caller, (now, 0))
        if now - started >= self.window:
            started, used = now, 0
        if used >= self.limit:
            return Allowance(False, self.limit, 0, started + self.window)
        if caller not in self._windows and len(self._windows) >= MAX_CALLERS:
            self._windows.pop(next(iter(self._windows)))
        self._windows[caller] = (started, used + 1)
        return Allowance(True, self.limit, self.limit - used - 1, started + self.window)
