"""Login throttling, per login name and per client address, counted in the database (so it
survives a restart and holds across processes): failures first make a login name wait
between attempts, then lock it, or lock the address; people are told when to retry.

Every password check goes through it: the login page (also the one /oauth/authorize sends
to), the OAuth password grant, and the account deletion's confirmation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from instance_config import InstanceConfig
from node.domain.local_time import local_text
from node.domain.texts import FilledText
from node.services.limits.refusals import RefusalLog
from node.storage.base import utcnow
from node.storage.limits import (
    clear_login_failures,
    count_login_failure,
    login_throttles,
    prune_login_throttles,
    set_login_wait,
)

ACCOUNT, ADDRESS = "account", "address"
#: the longest wait of the slow-down, whatever the doubling says
MAX_DELAY = timedelta(minutes=5)
MAX_LOGIN_KEY = 100

SLOWED = "Trop d'échecs de connexion : attendez %(seconds)s secondes avant de réessayer."
LOCKED = "Trop d'échecs de connexion : connexion bloquée jusqu'à %(time)s (dans %(minutes)s min)."


class LoginThrottled(Exception):
    """A login attempt refused before its password was checked; `message` says when to
    retry (French, translated by the pages), `retry_after` in whole seconds."""

    def __init__(self, message: FilledText, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def login_key(login: str) -> str:
    """The counter of a login name: trimmed and case-folded (Camille and camille are one)."""
    return login.strip().casefold()[:MAX_LOGIN_KEY]


class LoginLimiter:
    """The node's login counters, with the configuration's thresholds."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: InstanceConfig,
        refusals: RefusalLog,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._limits = config.limits
        self._zone = config.territory.zone
        self._refusals = refusals
        self.clock = clock

    async def check(self, login: str, address: str) -> None:
        """Raise LoginThrottled when the login name must wait or either is locked. An attempt
        refused while told to wait still counts as a failure, for the name and the address
        (hammering earns a longer wait and the lock sooner); one refused by a lock counts for
        the other side only."""
        now = self.clock()
        keys = {ACCOUNT: login_key(login), ADDRESS: address}
        waits, locked = await self._waits(keys, now)
        if not waits:
            return
        for scope in waits:
            self._refusals.note(f"login_{scope}", keys[scope])
        await self._count(now, {scope: key for scope, key in keys.items() if scope not in locked})
        waits, locked = await self._waits(keys, now)  # as lengthened by this attempt
        until = max(waits.values())
        seconds = max(1, math.ceil((until - now).total_seconds()))
        if locked:
            message = FilledText(
                LOCKED,
                time=local_text(until, self._zone, "%H:%M"),
                minutes=max(1, math.ceil(seconds / 60)),
            )
        else:
            message = FilledText(SLOWED, seconds=seconds)
        raise LoginThrottled(message, seconds)

    async def _waits(
        self, keys: dict[str, str], now: datetime
    ) -> tuple[dict[str, datetime], set[str]]:
        """Until when each scope must wait (if it must), and which scopes are locked."""
        async with self._sessions() as session:
            rows = await login_throttles(session, keys.items())
        waits: dict[str, datetime] = {}
        locked: set[str] = set()
        for row in rows:
            if row.locked_until is not None and row.locked_until > now:
                waits[row.scope] = row.locked_until
                locked.add(row.scope)
            elif row.next_attempt_at is not None and row.next_attempt_at > now:
                waits[row.scope] = row.next_attempt_at
        return waits, locked

    async def failed(self, login: str, address: str) -> None:
        """Count a wrong password (or an unknown login name) for the name and the address."""
        await self._count(self.clock(), {ACCOUNT: login_key(login), ADDRESS: address})

    async def succeeded(self, login: str) -> None:
        """A right password clears its login name's failures (not its address's)."""
        async with self._sessions.begin() as session:
            await clear_login_failures(session, ACCOUNT, login_key(login))

    async def prune(self) -> int:
        """Drop the counters whose window and lock are over; how many went."""
        limits = self._limits
        longest = max(limits.login_window_minutes, limits.login_lock_minutes)
        async with self._sessions.begin() as session:
            return await prune_login_throttles(session, self.clock() - timedelta(minutes=longest))

    async def _count(self, now: datetime, keys: dict[str, str]) -> None:
        limits = self._limits
        window = timedelta(minutes=limits.login_window_minutes)
        lock_after = {
            ACCOUNT: limits.login_lock_account_after,
            ADDRESS: limits.login_lock_address_after,
        }
        async with self._sessions.begin() as session:
            for scope, key in keys.items():
                if not key:
                    continue
                failures = await count_login_failure(session, scope, key, now, window)
                if failures >= lock_after[scope]:
                    lock = now + timedelta(minutes=limits.login_lock_minutes)
                    await set_login_wait(session, scope, key, locked_until=lock)
                elif scope == ACCOUNT and failures >= limits.login_slow_after:
                    doublings = failures - limits.login_slow_after
                    delay = timedelta(seconds=limits.login_delay_seconds * 2 ** min(doublings, 20))
                    await set_login_wait(
                        session, scope, key, next_attempt_at=now + min(delay, MAX_DELAY)
                    )
