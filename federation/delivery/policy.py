"""Pure delivery decisions: how an answer is classified, how long to wait, what to skip."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

#: First retry after about this long, doubling each time up to MAX_DELAY.
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=12)
#: With no answer at all (no route, refused, timed out) the fault may be our own link: a
#: community server on an intermittent line must find its peers again minutes after the
#: line returns, not hours. A connection attempt every few minutes costs nothing.
MAX_UNANSWERED_DELAY = timedelta(minutes=10)
#: An entry still undelivered this long after it was logged is given up (Takahē: 3 days).
GIVE_UP_AFTER = timedelta(days=7)
#: 4xx answers that are worth retrying: auth hiccups (a key not yet fetched), timeouts,
#: rate limits; every other 4xx is the receiver saying no for good.
RETRYABLE_4XX = frozenset({401, 408, 429})


class Verdict(StrEnum):
    """What to do with a delivery after one attempt."""

    DELIVERED = "delivered"
    RETRY = "retry"
    PERMANENT_FAILURE = "permanent_failure"


def classify(status: int | None) -> Verdict:
    """2xx delivered; network errors, 5xx, 401/408/429 retried; other 4xx given up.

    >>> [classify(s).value for s in (202, None, 503, 429, 410, 403)]
    ['delivered', 'retry', 'retry', 'retry', 'permanent_failure', 'permanent_failure']
    """
    if status is None:
        return Verdict.RETRY
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if 400 <= status < 500 and status not in RETRYABLE_4XX:
        return Verdict.PERMANENT_FAILURE
    return Verdict.RETRY


def retry_delay(
    failures: int,
    retry_after: float | None = None,
    rng: random.Random | None = None,
    *,
    answered: bool = True,
) -> timedelta:
    """Exponential backoff with jitter (each wait 75-125 % of the nominal), capped, and never
    shorter than the receiver's Retry-After. Unanswered attempts are capped lower: the link
    may be what failed, and it must be found again soon after it returns."""
    cap = (MAX_DELAY if answered else MAX_UNANSWERED_DELAY).total_seconds()
    nominal = BASE_DELAY.total_seconds() * 2 ** min(max(failures - 1, 0), 30)
    seconds = min(nominal * (rng or random).uniform(0.75, 1.25), cap)
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, cap))
    return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class LoggedActivity:
    """The facts about a log entry that superseding looks at."""

    type: str
    object_id: str | None


def is_superseded(entry: LoggedActivity, later: list[LoggedActivity]) -> bool:
    """Whether a later entry for the same object and host makes this one pointless:
    several Updates -> only the last; Create (or Update) then Delete -> only the Delete.

    >>> note = "https://t.example/notes/1"
    >>> is_superseded(LoggedActivity("Update", note), [LoggedActivity("Update", note)])
    True
    >>> is_superseded(LoggedActivity("Create", note), [LoggedActivity("Update", note)])
    False
    >>> is_superseded(LoggedActivity("Create", note), [LoggedActivity("Delete", note)])
    True
    """
    if entry.object_id is None or entry.type not in ("Create", "Update"):
        return False
    for other in later:
        if other.object_id != entry.object_id:
            continue
        if other.type == "Delete" or (other.type == "Update" and entry.type == "Update"):
            return True
    return False
