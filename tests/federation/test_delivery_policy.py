"""Pure delivery decisions: classifying answers, backoff delays, superseded log entries."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from federation.delivery.policy import (
    BASE_DELAY,
    MAX_DELAY,
    MAX_UNANSWERED_DELAY,
    LoggedActivity,
    Verdict,
    classify,
    is_superseded,
    retry_delay,
)

NOTE = "https://saint-x.example/notes/1"
OTHER = "https://saint-x.example/notes/2"


# ----- classify -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.DELIVERED),
        (201, Verdict.DELIVERED),
        (202, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (299, Verdict.DELIVERED),
        # Redirects are not followed for deliveries; like Mastodon, they are retried.
        (301, Verdict.RETRY),
        (302, Verdict.RETRY),
        (308, Verdict.RETRY),
        # The receiver said no for good.
        (400, Verdict.PERMANENT_FAILURE),
        (403, Verdict.PERMANENT_FAILURE),
        (404, Verdict.PERMANENT_FAILURE),
        (405, Verdict.PERMANENT_FAILURE),
        (410, Verdict.PERMANENT_FAILURE),
        (413, Verdict.PERMANENT_FAILURE),
        (422, Verdict.PERMANENT_FAILURE),
        (451, Verdict.PERMANENT_FAILURE),
        (499, Verdict.PERMANENT_FAILURE),
        # The 4xx worth retrying: key not fetched yet, timeout, rate limit.
        (401, Verdict.RETRY),
        (408, Verdict.RETRY),
        (429, Verdict.RETRY),
        # Server trouble and no answer at all.
        (500, Verdict.RETRY),
        (502, Verdict.RETRY),
        (503, Verdict.RETRY),
        (504, Verdict.RETRY),
        (None, Verdict.RETRY),
    ],
)
def test_classify(status: int | None, verdict: Verdict) -> None:
    assert classify(status) is verdict


# ----- retry_delay ----------------------------------------------------------------------


def nominal(failures: int) -> float:
    """The delay before jitter: BASE_DELAY doubling per consecutive failure."""
    return BASE_DELAY.total_seconds() * 2 ** max(failures - 1, 0)


def test_retry_delay_without_jitter_grows_exponentially() -> None:
    class Middle(random.Random):
        """Always the middle of the jitter range: the nominal delay itself."""

        def uniform(self, a: float, b: float) -> float:
            return (a + b) / 2

    rng = Middle()
    assert retry_delay(1, rng=rng) == BASE_DELAY
    assert retry_delay(2, rng=rng) == BASE_DELAY * 2
    assert retry_delay(3, rng=rng) == BASE_DELAY * 4
    assert retry_delay(5, rng=rng) == BASE_DELAY * 16


def test_retry_delay_grows_with_failures() -> None:
    # Below the cap even the most unlucky jitter (125 % then 75 % of the doubled nominal)
    # still grows: 0.75 * 2 / 1.25 = 1.2 > 1, so every next delay is longer whatever the draw.
    rng = random.Random(3)
    delays = [retry_delay(failures, rng=rng) for failures in range(1, 11)]
    assert delays == sorted(delays)
    assert len(set(delays)) == len(delays)
    assert delays[-1] > delays[0] * 100


def test_unanswered_attempts_are_retried_within_minutes_whatever_the_count() -> None:
    """No answer may mean our own link is down: the peer is tried again soon after it returns."""
    rng = random.Random(5)
    for failures in (1, 5, 10, 30):
        unanswered = retry_delay(failures, rng=rng, answered=False)
        assert unanswered <= MAX_UNANSWERED_DELAY
    assert retry_delay(30, rng=rng) > MAX_UNANSWERED_DELAY  # answered failures keep backing off


def test_zero_failures_counts_as_the_first() -> None:
    for seed in range(20):
        assert retry_delay(0, rng=random.Random(seed)) == retry_delay(1, rng=random.Random(seed))


@pytest.mark.parametrize("failures", [1, 2, 3, 6, 10])
def test_retry_delay_jitter_stays_within_75_to_125_percent(failures: int) -> None:
    rng = random.Random(42)
    seen = [retry_delay(failures, rng=rng).total_seconds() / nominal(failures) for _ in range(500)]
    assert all(0.75 <= ratio <= 1.25 for ratio in seen)
    # It really is jitter: spread over the range, not a constant.
    assert min(seen) < 0.8 and max(seen) > 1.2


@pytest.mark.parametrize("failures", [11, 12, 20, 31, 64, 1000, 10**9])
def test_retry_delay_is_capped(failures: int) -> None:
    rng = random.Random(7)
    delays = [retry_delay(failures, rng=rng) for _ in range(200)]
    assert all(delay <= MAX_DELAY for delay in delays)
    if nominal(min(failures, 40)) * 0.75 >= MAX_DELAY.total_seconds():
        # Far beyond the cap, the wait is the cap (never shorter: the host stays quiet).
        assert all(delay == MAX_DELAY for delay in delays)
    else:
        assert all(delay >= MAX_DELAY / 2 for delay in delays)


def test_retry_after_raises_the_delay() -> None:
    rng = random.Random(1)
    assert retry_delay(1, retry_after=120, rng=rng) == timedelta(seconds=120)
    assert retry_delay(1, retry_after=3600.5, rng=rng) == timedelta(seconds=3600.5)


def test_a_short_retry_after_does_not_shorten_the_backoff() -> None:
    plain = retry_delay(6, rng=random.Random(5))
    with_hint = retry_delay(6, retry_after=1, rng=random.Random(5))
    assert with_hint == plain
    assert retry_delay(3, retry_after=0, rng=random.Random(5)) == retry_delay(
        3, rng=random.Random(5)
    )


def test_retry_after_is_clamped_to_the_cap() -> None:
    assert retry_delay(1, retry_after=10 * 365 * 86400, rng=random.Random(1)) == MAX_DELAY


def test_retry_delay_is_deterministic_with_a_seeded_random() -> None:
    first = [retry_delay(n, rng=random.Random(99)) for n in range(1, 15)]
    again = [retry_delay(n, rng=random.Random(99)) for n in range(1, 15)]
    other = [retry_delay(n, rng=random.Random(100)) for n in range(1, 15)]
    assert first == again
    assert first != other
    shared = random.Random(8)
    sequence = [retry_delay(3, rng=shared) for _ in range(5)]
    replay = random.Random(8)
    assert sequence == [retry_delay(3, rng=replay) for _ in range(5)]


def test_retry_delay_works_without_a_random() -> None:
    delay = retry_delay(2)
    assert BASE_DELAY * 2 * 0.75 <= delay <= BASE_DELAY * 2 * 1.25


# ----- is_superseded --------------------------------------------------------------------


def entry(kind: str, object_id: str | None = NOTE) -> LoggedActivity:
    return LoggedActivity(kind, object_id)


@pytest.mark.parametrize(
    ("current", "later", "superseded"),
    [
        # Several Updates: only the last one goes.
        (entry("Update"), [entry("Update")], True),
        (entry("Update"), [entry("Create", OTHER), entry("Update")], True),
        # Create or Update, then Delete: only the Delete goes.
        (entry("Create"), [entry("Delete")], True),
        (entry("Update"), [entry("Delete")], True),
        (entry("Create"), [entry("Update"), entry("Delete")], True),
        # A Create is never replaced by a later Update: the receiver must learn the object.
        (entry("Create"), [entry("Update")], False),
        (entry("Create"), [entry("Update"), entry("Update")], False),
        # Nothing later about the same object.
        (entry("Update"), [], False),
        (entry("Update"), [entry("Update", OTHER), entry("Delete", OTHER)], False),
        (entry("Create"), [entry("Delete", OTHER)], False),
        # The last Update, the Delete itself and unrelated kinds are never skipped.
        (entry("Delete"), [entry("Delete")], False),
        (entry("Delete"), [entry("Create")], False),
        (entry("Follow"), [entry("Undo")], False),
        (entry("Announce"), [entry("Delete")], False),
        (entry("Like"), [entry("Delete")], False),
        # Without an object id nothing can be matched.
        (entry("Update", None), [entry("Update", None)], False),
        (entry("Create", None), [entry("Delete", None)], False),
    ],
)
def test_is_superseded(
    current: LoggedActivity, later: list[LoggedActivity], superseded: bool
) -> None:
    assert is_superseded(current, later) is superseded


def test_a_chain_of_updates_then_delete_keeps_only_the_delete() -> None:
    log = [entry("Create", OTHER), entry("Update"), entry("Update"), entry("Delete")]
    kept = [item for i, item in enumerate(log) if not is_superseded(item, log[i + 1 :])]
    assert kept == [entry("Create", OTHER), entry("Delete")]


def test_a_chain_of_updates_keeps_only_the_last() -> None:
    log = [entry("Create"), entry("Update"), entry("Update"), entry("Update")]
    kept = [i for i, item in enumerate(log) if not is_superseded(item, log[i + 1 :])]
    assert kept == [0, 3]
