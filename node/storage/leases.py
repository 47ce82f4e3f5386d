"""Who holds a claim in the database, and for how long: the names processes lease inbox items
and delivery hosts under, so that several processes (or machines) on one PostgreSQL never
work on the same thing at once, and a dead one's claims expire."""

from __future__ import annotations

import os
import secrets
import socket
from datetime import timedelta

#: How long a claim lasts without renewal unless the configuration says otherwise
#: (database.lease_seconds).
DEFAULT_LEASE = timedelta(seconds=60)


def process_identity() -> str:
    """A name for this process in lease rows: machine, process id and a random part (a
    process id is reused after a restart, and may be the same on two machines)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"
