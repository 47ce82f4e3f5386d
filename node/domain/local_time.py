"""The territory's clock: moments are stored and federated in UTC, and people read and type
them in the territory's own time zone (`territory.timezone`). Every page, feed, CSV export and
form converts here, so that they all agree, including across the changes of summer time.

>>> from zoneinfo import ZoneInfo
>>> paris = ZoneInfo("Europe/Paris")
>>> local_text(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), paris)  # just after the spring change
'29/03/2026 03:30'
>>> local_iso(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), paris)  # just after the autumn change
'2026-10-25T02:30:00+01:00'
>>> from_local_input("2026-07-01T08:00", ZoneInfo("America/New_York")).isoformat()
'2026-07-01T12:00:00+00:00'
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

#: How pages show a moment (day first, as in French) and a day.
DAY_TIME = "%d/%m/%Y %H:%M"
DAY = "%d/%m/%Y"
#: What <input type="datetime-local"> sends and shows: local time, minutes, no offset.
INPUT = "%Y-%m-%dT%H:%M"
#: Longest text read as a moment from a form (a datetime-local value is 16 characters).
MAX_INPUT = 40


class NonexistentLocalTime(ValueError):
    """A local time the clocks skip: the hour that summer time jumps over."""


def local(moment: datetime, zone: tzinfo) -> datetime:
    """A stored (aware) moment on the territory's clock; a naive one is a bug, refused."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: stored moments are aware UTC datetimes")
    return moment.astimezone(zone)


def local_text(moment: datetime, zone: tzinfo, pattern: str = DAY_TIME) -> str:
    """A moment as people read it: on the territory's clock, in `pattern` (strftime)."""
    return local(moment, zone).strftime(pattern)


def local_iso(moment: datetime, zone: tzinfo) -> str:
    """ISO 8601 on the territory's clock with its offset, to the second, e.g.
    2026-07-01T08:00:00-04:00: what feeds, CSV cells and <time datetime> carry."""
    return local(moment, zone).replace(microsecond=0).isoformat()


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The day a moment falls on in the territory (a moment at 23:30 UTC is already the next
    day in Paris)."""
    return local(moment, zone).date()


def today(zone: tzinfo, now: datetime | None = None) -> date:
    """Today on the territory's clock (`now` defaults to the current time)."""
    return local_day(now or datetime.now(UTC), zone)


def from_local_input(raw: str, zone: tzinfo) -> datetime:
    """The UTC moment a typed local date and time means (what <input type="datetime-local">
    sends, "2026-07-01T08:00"; a space instead of the T is accepted).

    A text with an explicit offset is taken as it says. A local time that the clocks skip
    (02:30 on the spring change day in Paris) raises NonexistentLocalTime rather than being
    shifted silently; a time that happens twice (the autumn change) means its first occurrence.
    Raises ValueError for anything that is not a date and time.
    """
    text = raw.strip()
    if len(text) > MAX_INPUT:
        raise ValueError("too long for a date and time")
    typed = datetime.fromisoformat(text.replace(" ", "T", 1))
    if typed.tzinfo is not None:
        return typed.astimezone(UTC)
    moment = typed.replace(tzinfo=zone, fold=0)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != typed:
        raise NonexistentLocalTime(f"{text} does not exist on the territory's clock")
    return moment.astimezone(UTC)
