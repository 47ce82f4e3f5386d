"""The time window a signature's creation time must fall in, shared by both schemes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from protocols.httpsig.errors import SignatureError

# Mastodon's HttpSignature#matches_time_window? refuses a creation time more than
# CLOCK_SKEW_MARGIN (1 hour) in the future; we also refuse one more than an hour old
# (Mastodon: 5-minute default expiry + 1 hour margin, i.e. ~65 minutes).
ALLOWED_SKEW = timedelta(hours=1)


def require_aware(now: datetime) -> datetime:
    """Return `now` in UTC; a naive datetime is a programming error (ValueError)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now.astimezone(UTC)


def parse_http_date(value: str, what: str = "Date header") -> datetime:
    """Parse an RFC 9110 HTTP date (IMF-fixdate, or the obsolete forms) into UTC."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise SignatureError(f"{what} {value!r} is not a valid HTTP date") from None
    if parsed.tzinfo is None:  # "-0000": UTC by RFC 5322
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_unix(value: int, what: str) -> datetime:
    """Turn a Unix timestamp from a signature parameter into a UTC datetime."""
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise SignatureError(f"{what} {value} is not a usable Unix time") from None


def describe(delta: timedelta) -> str:
    """Say a positive duration in words: "45 seconds", "61 minutes", "2 hours", "3 days"."""
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    if seconds % 3600 == 0 and seconds < 2 * 86400:
        hours = seconds // 3600
        return f"{hours} hour{'' if hours == 1 else 's'}"
    if seconds < 2 * 3600:
        return f"{seconds // 60} minutes"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} hours"
    return f"{seconds // 86400} days"


def check_time_window(
    created: datetime, now: datetime, what: str, expires: datetime | None = None
) -> None:
    """Refuse a signature created over an hour ago, over an hour ahead, or already expired.

    `what` names the source of `created` in the message ("Date header", "created
    parameter"). An `expires` the signer set is honoured as is: past it, the signature
    is refused (Mastodon adds its hour of clock skew on top; we do not).
    """
    now = require_aware(now)
    if created > now + ALLOWED_SKEW:
        raise SignatureError(
            f"{what} is {describe(created - now)} in the future; "
            f"allowed skew is {describe(ALLOWED_SKEW)}"
        )
    if now - created > ALLOWED_SKEW:
        raise SignatureError(
            f"{what} is {describe(now - created)} in the past; "
            f"allowed skew is {describe(ALLOWED_SKEW)}"
        )
    if expires is not None and now > expires:
        raise SignatureError(f"signature expired {describe(now - expires)} ago")
