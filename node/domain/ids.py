"""Opaque, time-sortable identifiers for everything that gets a URL (ULIDs)."""

import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    """A new ULID: 48 bits of milliseconds then 80 random bits, in 26 Crockford base32 chars.

    Unguessable and sortable by creation time, so URLs leak neither counts nor order gaps.
    """
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, rest = divmod(value, 32)
        chars.append(_CROCKFORD[rest])
    return "".join(reversed(chars)).lower()
