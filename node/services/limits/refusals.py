"""What the limits refused, for the admin: counted in memory per (kind, key, minute) and
written now and then as one upsert per counter, so that a flood of refused requests costs
a few writes, not one each. Several processes add to the same stored counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.storage.base import utcnow
from node.storage.limits import RefusalTotal, add_refusals, prune_refusals, refusal_totals

#: refusal kinds, as the admin page names them
KIND_LABELS = {
    "login_account": "Connexion : identifiant bloqué ou ralenti",
    "login_address": "Connexion : adresse bloquée",
    "inbox_host": "Boîte de réception : serveur trop rapide",
    "inbox_actor": "Boîte de réception : compte distant trop rapide",
    "posting_need": "Publication : trop de besoins",
    "posting_comment": "Publication : trop de commentaires ou de messages",
    "posting_offer": "Publication : trop d'offres et de demandes",
}
#: distinct counters kept between two writes; past it, refusals go under one overflow key
MAX_PENDING = 10_000
OVERFLOW_KEY = "…"
MAX_KEY = 255
#: how long the counts are kept, and how far back the admin page looks
KEEP = timedelta(days=30)
SHOWN = timedelta(days=7)


class RefusalLog:
    """Counts refusals in memory until `flush` writes them."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._sessions = sessions
        self.clock = clock
        self._pending: dict[tuple[str, str, datetime], tuple[int, datetime]] = {}

    def note(self, kind: str, key: str) -> None:
        """Count one refusal of `kind` for `key` (an account, an address, a host...)."""
        now = self.clock()
        minute = now.replace(second=0, microsecond=0)
        counter = (kind, key[:MAX_KEY], minute)
        if counter not in self._pending and len(self._pending) >= MAX_PENDING:
            counter = (kind, OVERFLOW_KEY, minute)
        count, _ = self._pending.get(counter, (0, now))
        self._pending[counter] = (count + 1, now)

    async def flush(self) -> int:
        """Write the counts gathered since the last flush; how many counters were written.
        Kept for the next flush if the database fails."""
        pending, self._pending = self._pending, {}
        if not pending:
            return 0
        try:
            async with self._sessions.begin() as session:
                await add_refusals(
                    session,
                    [
                        (kind, key, minute, n, at)
                        for (kind, key, minute), (n, at) in pending.items()
                    ],
                )
        except Exception:
            for counter, (count, at) in pending.items():
                more, _ = self._pending.get(counter, (0, at))
                self._pending[counter] = (count + more, at)
            raise
        return len(pending)

    async def prune(self) -> None:
        """Drop the counts older than KEEP."""
        async with self._sessions.begin() as session:
            await prune_refusals(session, self.clock() - KEEP)

    async def recent(self, limit: int = 200) -> list[RefusalTotal]:
        """The refusals of the last days per kind and key, the most recent first (what is
        still in memory included)."""
        await self.flush()
        async with self._sessions() as session:
            return await refusal_totals(session, self.clock() - SHOWN, limit)
