"""The one exception every refusal in this package raises."""

from __future__ import annotations


class SignatureError(Exception):
    """A request's signature (or its digest, date or coverage) is refused.

    `reason` is a plain-words sentence meant for logs and for the 401 body, e.g.
    "Date header is 2 hours in the past; allowed skew is 1 hour".
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason
