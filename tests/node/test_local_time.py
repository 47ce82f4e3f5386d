"""The territory's clock across the changes of summer time (Europe/Paris, 2026: forward on
29 March at 01:00 UTC, back on 25 October at 01:00 UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from node.domain.forms import SKIPPED_MOMENT, Form
from node.domain.local_time import (
    NonexistentLocalTime,
    from_local_input,
    local_day,
    local_iso,
    local_text,
)

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("utc", "shown"),
    [
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "2026-03-29T01:30:00+01:00"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "2026-03-29T03:30:00+02:00"),
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "2026-10-25T02:30:00+02:00"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "2026-10-25T02:30:00+01:00"),
    ],
)
def test_stored_utc_is_shown_on_the_territory_clock_across_the_changes(
    utc: datetime, shown: str
) -> None:
    assert local_iso(utc, PARIS) == shown
    assert local_text(utc, PARIS, "%H:%M") == shown[11:16]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("2026-03-29T01:30", datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        ("2026-03-29T03:30", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        # 02:30 happens twice on 25 October: the first one (still summer time) is meant
        ("2026-10-25T02:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("2026-10-25 03:30", datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),
        ("2026-07-01T08:00-04:00", datetime(2026, 7, 1, 12, 0, tzinfo=UTC)),  # offset given
    ],
)
def test_typed_local_time_is_stored_as_the_utc_moment_it_means(
    typed: str, stored: datetime
) -> None:
    moment = from_local_input(typed, PARIS)
    assert moment == stored and moment.utcoffset() is not None and not moment.utcoffset()


def test_a_skipped_local_time_and_nonsense_are_refused() -> None:
    with pytest.raises(NonexistentLocalTime):
        from_local_input("2026-03-29T02:30", PARIS)
    for bad in ("demain", "2026-13-01T10:00", "2026-07-01T08:00" + " " * 40 + "x"):
        with pytest.raises(ValueError):
            from_local_input(bad, PARIS)
    form = Form({"when": "2026-03-29T02:30", "other": "hier", "empty": ""})
    assert form.moment("when", PARIS) is None and form.errors["when"] == SKIPPED_MOMENT
    assert form.moment("other", PARIS) is None and "Entrez une date" in form.errors["other"]
    assert form.moment("empty", PARIS, required=False) is None and "empty" not in form.errors


def test_the_local_day_and_naive_datetimes() -> None:
    late = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)
    assert local_day(late, PARIS) == date(2026, 7, 1)  # already tomorrow in Paris
    assert local_day(late, ZoneInfo("America/Martinique")) == date(2026, 6, 30)
    with pytest.raises(ValueError, match="naive"):
        local_iso(datetime(2026, 6, 30, 22, 30), PARIS)
