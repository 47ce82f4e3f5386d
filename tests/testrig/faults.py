"""Database faults as they come in production, made by real means: another writer holding
SQLite's write lock from its own connection and thread."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path


class SqliteWriteLock:
    """Another writer: a separate sqlite3 connection, in its own thread, that waits until
    `when` (an SQL query) gives a non-zero answer, then holds the write lock (BEGIN IMMEDIATE)
    for `hold_seconds` and releases it, as a backup or a second process would."""

    def __init__(
        self, database: Path, hold_seconds: float, when: str = "SELECT 1", wait_at_most: float = 60
    ) -> None:
        self.database = database
        self.hold_seconds = hold_seconds
        self.when = when
        self.wait_at_most = wait_at_most
        self.taken = threading.Event()
        self.released = threading.Event()
        self._release = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._hold, name="sqlite-write-lock", daemon=True)

    def start(self) -> SqliteWriteLock:
        """Start waiting for the condition in the background."""
        self._thread.start()
        return self

    def release(self) -> None:
        """Release the lock now rather than after `hold_seconds`."""
        self._release.set()

    def join(self, timeout: float = 120) -> None:
        """Wait until the lock was released; re-raise what went wrong in the thread."""
        self._thread.join(timeout)
        if self.error is not None:
            raise self.error
        assert self.released.is_set(), "the write lock was never taken and released"

    def _hold(self) -> None:
        try:
            db = sqlite3.connect(self.database, timeout=30, isolation_level=None)
            try:
                deadline = time.monotonic() + self.wait_at_most
                while not db.execute(self.when).fetchone()[0]:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"{self.when!r} stayed 0 for {self.wait_at_most}s")
                    time.sleep(0.005)
                db.execute("BEGIN IMMEDIATE")
                self.taken.set()
                self._release.wait(self.hold_seconds)
                db.execute("ROLLBACK")
            finally:
                db.close()
                self.released.set()
        except BaseException as exc:  # handed to join(), in the test's thread
            self.error = exc
