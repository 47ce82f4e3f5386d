"""The one error type of the client API's use cases: an HTTP status and a reason, which the
web layer turns into Mastodon's `{"error": "..."}` body."""

from __future__ import annotations


class ApiError(Exception):
    """A refused client API call; `status` is 400, 401, 403, 404, 422 or 429."""

    def __init__(
        self, status: int, message: str, *, code: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        #: an OAuth error code (RFC 6749 5.2: invalid_grant...), sent with the description
        self.code = code
        #: with a 429: seconds before trying again (sent as Retry-After)
        self.retry_after = retry_after


def too_many(message: str, retry_after: int) -> ApiError:
    """Mastodon's 429 for a limit reached, with when to try again."""
    return ApiError(429, message, retry_after=retry_after)


def not_found(what: str = "Record not found") -> ApiError:
    """Mastodon's 404 for an unknown or hidden record."""
    return ApiError(404, what)


def unprocessable(message: str) -> ApiError:
    """Mastodon's 422 for a well-formed request it refuses (validation failed)."""
    return ApiError(422, f"Validation failed: {message}")
