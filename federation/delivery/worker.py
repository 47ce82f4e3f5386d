"""The delivery worker: per host, walk the log from the host's cursor in order, sign at send
time, advance the cursor after each answer, back off when the host fails.

Crash safety: the cursor moves after each answer and is committed before the host's next
delivery, so after `kill -9` every entry is sent from the last committed cursor on: only the
one delivery per host in flight at the crash is sent a second time (receivers drop it by
activity id); nothing acknowledged is sent again, nothing is lost. A failing store (the
database locked or gone) is the same: the pass ends once every host has stopped, and the
worker loop retries from the committed cursors after a backoff.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from federation.delivery.policy import (
    GIVE_UP_AFTER,
    LoggedActivity,
    Verdict,
    classify,
    is_superseded,
    retry_delay,
)
from federation.domain_policy import suspends
from federation.http import DeliveryOutcome
from federation.liveness import Progress
from federation.ports import DomainPolicy
from federation.signing import Signer
from federation.worker_loop import keep_running

log = logging.getLogger(__name__)

#: Outage guard: network failures on this many distinct hosts, with no success at all in the
#: window, mean the node itself is offline: pause instead of counting failures against peers.
OUTAGE_HOSTS = 3
OUTAGE_WINDOW = timedelta(seconds=60)
OUTAGE_PAUSE = timedelta(seconds=30)
BATCH = 200
#: Deliveries read at once for each host that waits for a turn beyond `parallel_hosts`.
WAITING_PEEK = 4


def _nothing() -> None:
    """Default reconnect hook: nothing to catch up."""


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """One inbox to deliver one log entry to."""

    target_id: int
    host: str
    inbox: str
    activity_id: str
    type: str
    object_id: str | None
    actor_id: str
    body: bytes
    logged_at: datetime


class DeliveryStore(Protocol):
    """The outbox log and the per-host cursors, as the worker sees them."""

    async def due_hosts(self, now: datetime, limit: int) -> list[str]:
        """Hosts with entries beyond their cursor and no backoff in force that this process
        may deliver to: with several processes on one database, each host is leased to one
        of them at a time, and only its holder gets it here."""
        ...

    async def pending_for_host(self, host: str, limit: int) -> list[PendingDelivery]:
        """The host's next deliveries beyond its cursor, in log order; none once this
        process no longer holds the host."""
        ...

    async def pending_for_hosts(
        self, hosts: list[str], limit: int
    ) -> dict[str, list[PendingDelivery]]:
        """The next deliveries of several hosts at once (at most `limit` each), in log order:
        one query for a whole fan-out instead of one per host."""
        ...

    async def advance(
        self,
        host: str,
        target_id: int,
        *,
        delivered: int = 0,
        given_up: int = 0,
        answer: DeliveryOutcome | None = None,
    ) -> bool:
        """Move the host's cursor past a target, counting what was delivered and given up
        since the last move (the rest was superseded); False when this process no longer
        holds the host (another took it over): the cursor is the new holder's, stop there."""
        ...

    async def postpone(
        self, host: str, count_failure: bool, until: datetime, answer: DeliveryOutcome
    ) -> int:
        """Keep the cursor, wait until `until`; returns the host's consecutive failures."""
        ...

    async def count_due(self, now: datetime) -> int:
        """How many deliveries are due now: beyond their host's cursor, no backoff in force."""
        ...


class Poster(Protocol):
    """Sends one signed POST (federation.http.FederationClient does)."""

    async def post_activity(
        self, inbox_url: str, body: bytes, signer: Signer
    ) -> DeliveryOutcome: ...


class SignerSource(Protocol):
    """The signing key of a local actor, loaded once."""

    async def signer_for(self, actor_id: str) -> Signer: ...


class DeliveryWorker:
    """Drains the outbox log host by host, in parallel across hosts, in order within one."""

    def __init__(
        self,
        store: DeliveryStore,
        poster: Poster,
        signers: SignerSource,
        clock: Callable[[], datetime],
        parallel_hosts: int = 64,
        rng: random.Random | None = None,
        domains: DomainPolicy | None = None,
    ) -> None:
        """`domains`: the node's domain blocks; a suspended host's deliveries are skipped
        (its cursor moves past them, nothing is signed or sent)."""
        self._store = store
        self._domains = domains
        self._poster = poster
        self._signers = signers
        self._clock = clock
        self._parallel_hosts = parallel_hosts
        self._parallel = asyncio.Semaphore(parallel_hosts)
        self._rng = rng or random.Random()
        self._recent: deque[tuple[datetime, str, bool]] = deque(maxlen=256)
        self._paused_until: datetime | None = None
        self._busy: set[str] = set()
        self.wakeup = asyncio.Event()
        self.progress = Progress("delivery")
        #: called when a peer answers again after attempts that got no answer at all: the
        #: link is back, and what the peers published meanwhile can be caught up
        self.on_reconnect: Callable[[], None] = _nothing
        self._unanswered = False

    @property
    def busy_hosts(self) -> frozenset[str]:
        """The hosts being delivered to right now (their leases must stay this process's)."""
        return frozenset(self._busy)

    @property
    def paused(self) -> bool:
        """True while the outage guard holds sending back."""
        return self._paused_until is not None and self._clock() < self._paused_until

    async def run_once(self) -> int:
        """Deliver everything due now on every host; returns how many hosts were drained.

        When a host's drain fails (the store, not the peer), the others still finish theirs
        before the error is raised: no host is left half-drained and marked busy.
        """
        if self.paused:
            self.progress.found(0)  # the node is offline: nothing can be sent, none is stuck
            return 0
        hosts = [h for h in await self._store.due_hosts(self._clock(), 1000) if h not in self._busy]
        self.progress.found(len(hosts))
        # The hosts that start at once get their first batch in one query, the others their
        # first few deliveries in a second one (a fan-out is one each): no query per host
        # while they wait for a turn, and little memory however many hosts wait. The lease
        # heartbeat keeps a waiting host this process's.
        starting, waiting = hosts[: self._parallel_hosts], hosts[self._parallel_hosts :]
        first = {
            host: (batch, BATCH)
            for host, batch in (await self._store.pending_for_hosts(starting, BATCH)).items()
        }
        if waiting:
            peeked = await self._store.pending_for_hosts(waiting, WAITING_PEEK)
            first |= {host: (batch, WAITING_PEEK) for host, batch in peeked.items()}
        drained = await asyncio.gather(
            *(self._drain(host, *first.get(host, ([], BATCH))) for host in hosts),
            return_exceptions=True,
        )
        for outcome in drained:
            if isinstance(outcome, BaseException):
                raise outcome
        return len(hosts)

    async def run_forever(self, idle_seconds: float = 1.0) -> None:
        """Work until cancelled; woken when something is logged in this process, else every
        second (entries logged by another process, such as `maillage announce`, and hosts
        whose backoff is over); a failed pass is logged and retried after a backoff."""

        async def one_pass() -> bool:
            return await self.run_once() > 0

        await keep_running(one_pass, self.progress, idle_seconds=idle_seconds, wakeup=self.wakeup)

    async def count_waiting(self) -> int:
        """How many deliveries are due now (for /healthz)."""
        return await self._store.count_due(self._clock())

    async def _drain(self, host: str, batch: list[PendingDelivery], limit: int) -> None:
        """Send the host's first batch (read with at most `limit` deliveries), then the next
        ones while each came full."""
        self._busy.add(host)
        try:
            async with self._parallel:
                while await self._drain_batch(host, batch) and len(batch) == limit:
                    batch, limit = await self._store.pending_for_host(host, BATCH), BATCH
        finally:
            self._busy.discard(host)

    async def _drain_batch(self, host: str, batch: list[PendingDelivery]) -> bool:
        """Send one batch in order; False when the host must wait (or is no longer this
        process's)."""
        for index, delivery in enumerate(batch):
            if self.paused:
                return False
            # Later entries only: the same entry's other inboxes on this host are not
            # "a later Update", each of them gets it.
            later = [
                LoggedActivity(d.type, d.object_id)
                for d in batch[index + 1 :]
                if d.activity_id != delivery.activity_id
            ]
            superseded = is_superseded(LoggedActivity(delivery.type, delivery.object_id), later)
            if superseded:
                moved_on = await self._store.advance(host, delivery.target_id)
            else:
                moved_on = await self._deliver(delivery)
            self.progress.advanced()  # an answer recorded, even a failure: not stuck
            if not moved_on:
                return False
        return True

    async def _deliver(self, delivery: PendingDelivery) -> bool:
        """One attempt; True when the cursor moved on (committed before the host's next
        delivery, so a crash re-sends only what was in flight); False when the host must
        wait, or is no longer this process's."""
        if suspends(self._domains, delivery.host):
            # Mastodon delivers nothing to a suspended domain; nothing is kept for later either
            return await self._store.advance(delivery.host, delivery.target_id, given_up=1)
        signer = await self._signers.signer_for(delivery.actor_id)
        answer = await self._poster.post_activity(delivery.inbox, delivery.body, signer)
        verdict = Verdict.PERMANENT_FAILURE if answer.refused else classify(answer.status)
        now = self._clock()
        self._recent.append((now, delivery.host, answer.status is not None))
        self._note_link(answered=answer.status is not None)
        if verdict is Verdict.DELIVERED:
            return await self._store.advance(
                delivery.host, delivery.target_id, delivered=1, answer=answer
            )
        if verdict is Verdict.PERMANENT_FAILURE or self._too_old(delivery, answer, now):
            log.warning(
                "delivery given up",
                extra={
                    "inbox": delivery.inbox,
                    "activity": delivery.activity_id,
                    "status": answer.status,
                    "error": answer.error,
                },
            )
            return await self._store.advance(
                delivery.host, delivery.target_id, given_up=1, answer=answer
            )
        if answer.status is None and self._looks_like_local_outage(now):
            self._paused_until = now + OUTAGE_PAUSE
            log.warning("every peer unreachable: pausing deliveries", extra={"for_s": 30})
            await self._store.postpone(delivery.host, False, self._paused_until, answer)
            return False
        failures = await self._store.postpone(delivery.host, True, now, answer)
        delay = retry_delay(
            failures, answer.retry_after, self._rng, answered=answer.status is not None
        )
        await self._store.postpone(delivery.host, False, now + delay, answer)
        return False

    def _note_link(self, *, answered: bool) -> None:
        """Track whether peers answer; the first answer after silence means the link is back."""
        if not answered:
            self._unanswered = True
        elif self._unanswered:
            self._unanswered = False
            log.info("a peer answers again: link back")
            self.on_reconnect()

    def _too_old(self, delivery: PendingDelivery, answer: DeliveryOutcome, now: datetime) -> bool:
        """Undelivered for longer than GIVE_UP_AFTER, and the peer is to blame: it answered,
        or other peers answered us lately. With no answer at all the node itself may be
        offline (after a long power cut, say), and an offline node keeps what it owes: the
        outage guard decides, not the age."""
        if now - delivery.logged_at <= GIVE_UP_AFTER:
            return False
        return answer.status is not None or any(answered for _, answered in self._window(now))

    def _looks_like_local_outage(self, now: datetime) -> bool:
        """No answer from several distinct hosts, and none answered, within the window."""
        recent = self._window(now)
        if any(answered for _, answered in recent):
            return False
        return len({host for host, _ in recent}) >= OUTAGE_HOSTS

    def _window(self, now: datetime) -> list[tuple[str, bool]]:
        """(host, answered) of the attempts made within the outage window."""
        return [
            (host, answered) for at, host, answered in self._recent if now - at <= OUTAGE_WINDOW
        ]
