"""The composition root: the one place where configuration, storage and routes are wired."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from federation.delivery.worker import DeliveryWorker
from federation.http import FederationClient
from federation.inbox.pacing import Pacing
from federation.inbox.worker import InboxWorker
from federation.worker_loop import BackgroundWorker, PeriodicJob
from instance_config import InstanceConfig
from node import __version__
from node.services.coordination.digest import publish_digest_when_due
from node.services.coordination.discovery import discover
from node.services.coordination.following import sync_allow_list
from node.services.coordination.index import is_coordinator
from node.services.federation.inbox_handlers import inbox_batch_handlers, inbox_handlers
from node.services.moderation.domain_blocks import adopt_configured_blocks
from node.services.moderation.policy import REFRESH_SECONDS, ModerationPolicy
from node.services.offline.backfill import backfill_followed
from node.services.participation.decisions import close_due_decisions
from node.services.runtime import Runtime, make_runtime
from node.storage.base import utcnow
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.errors import is_database_unavailable
from node.storage.group_commit import GroupCommitter
from node.storage.inbox import SqlInbox
from node.storage.keyring import KeyRing
from node.storage.outbox import SqlDeliveryStore
from node.storage.write_stamp import WriteStamp
from node.web.auth import session_middleware
from node.web.client_api import ROUTE_TABLES as CLIENT_API_ROUTES
from node.web.client_api.base import api_limits_key, client_api_middleware
from node.web.client_api.rate_limits import ApiRateLimits
from node.web.errors import error_middleware
from node.web.keys import (
    config_key,
    delivery_worker_key,
    engine_key,
    inbox_store_key,
    inbox_worker_key,
    keyring_key,
    lease_heartbeat_key,
    runtime_key,
    sessions_key,
    templates_key,
    watched_workers_key,
)
from node.web.read_cache import ReadCache, read_cache_key
from node.web.render import STATIC_DIR, make_templates
from node.web.routes import (
    account,
    actors,
    admin,
    circles,
    coordination,
    decisions,
    domain_blocks,
    experiments,
    feed,
    health,
    inbox,
    indicators,
    map,
    map_data,
    members,
    moderation,
    my_account,
    needs,
    notes,
    offers,
    open_data,
    pages,
    proposals,
    remote_decisions,
    wellknown,
)
from node.web.security_headers import (
    add_security_headers,
    security_headers,
    security_headers_key,
)

log = logging.getLogger(__name__)

#: Largest request body accepted, as Mastodon's inbox (MAX_JSON_SIZE): 1 MB.
MAX_BODY_BYTES = 1_000_000


def create_app(config: InstanceConfig, *, workers: bool = True) -> web.Application:
    """Build the node's web application for a configuration; resources open on start-up.

    `workers=False` leaves the inbox and delivery workers to the caller's `run_once()`
    (deterministic tests).
    """
    app = web.Application(
        middlewares=[error_middleware, client_api_middleware, session_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[config_key] = config
    app[keyring_key] = KeyRing()
    app[api_limits_key] = ApiRateLimits()
    app[templates_key] = make_templates(config.territory.zone)
    app[security_headers_key] = security_headers(config)
    app.on_response_prepare.append(add_security_headers)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_federation)
    if workers:
        app.cleanup_ctx.append(_workers)
    for module in (
        wellknown,
        actors,
        notes,
        inbox,
        pages,
        account,
        my_account,
        admin,
        health,
        members,
        circles,
        needs,
        proposals,
        decisions,
        remote_decisions,
        experiments,
        offers,
        feed,
        map_data,
        map,
        indicators,
        open_data,
        coordination,
        moderation,
        domain_blocks,
    ):
        app.add_routes(module.routes)
    for table in CLIENT_API_ROUTES:
        app.add_routes(table)
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    """Open the engine at start-up and dispose of it at shutdown (after in-flight requests);
    what is read most is kept until something is written through it."""
    engine = make_engine(app[config_key].database.url)
    app[engine_key] = engine
    app[read_cache_key] = ReadCache(WriteStamp().watch(engine))
    app[sessions_key] = make_sessionmaker(engine)
    yield
    await engine.dispose()


async def _federation(app: web.Application) -> AsyncIterator[None]:
    """The outbound client, the shared runtime and the two workers (not yet running)."""
    config = app[config_key]
    policy = ModerationPolicy()
    client = FederationClient.from_config(config, __version__, policy)
    await client.start()
    await adopt_configured_blocks(app[sessions_key], config)
    await policy.refresh(app[sessions_key])
    runtime = make_runtime(config, app[sessions_key], client, app[keyring_key], policy)
    await runtime.signers.warm_up()
    # One writer for the inbox and the delivery log: their writes share transactions
    # instead of fighting over SQLite's single write lock.
    committer = GroupCommitter(app[sessions_key])
    lease = timedelta(seconds=config.database.lease_seconds)
    inbox_store = SqlInbox(app[sessions_key], committer, lease=lease)
    delivery_store = SqlDeliveryStore(app[sessions_key], committer, lease=lease)
    if config.database.is_sqlite:  # one process only: what an earlier run held is free now
        await inbox_store.release_claims(everyone=True)
        await delivery_store.release_leases(everyone=True)
    await inbox_store.recount_backlog()  # backpressure counts what earlier runs left waiting
    delivery = DeliveryWorker(
        delivery_store,
        client,
        runtime.signers,
        utcnow,
        domains=policy,
    )
    runtime.wake_delivery = delivery.wakeup.set
    app[runtime_key] = runtime
    app[inbox_store_key] = inbox_store
    app[inbox_worker_key] = InboxWorker(
        inbox_store,
        inbox_handlers(runtime),
        utcnow,
        unavailable=is_database_unavailable,
        # SQLite has one write lock: the handlers and the intake's writer take turns
        write_turn=committer.write_turn if config.database.is_sqlite else None,
        batch_handlers=inbox_batch_handlers(runtime),
        # the intake goes first on the shared event loop; the backlog bounds the wait
        make_way=Pacing(inbox_store.backlog, config.federation.max_inbox_backlog).make_way,
    )
    app[delivery_worker_key] = delivery
    app[lease_heartbeat_key] = _lease_heartbeat(inbox_store, delivery_store, delivery, lease)
    yield
    # What was counted since the last write; and, the workers having stopped, the claims and
    # leases, so that the next process takes over at once instead of after the leases.
    for what, write in (
        ("refusal counts", runtime.refusals.flush),
        ("inbox claims", inbox_store.release_claims),
        ("delivery leases", delivery_store.release_leases),
    ):
        try:
            await write()
        except Exception:  # shutting down: say it, do not skip the rest of the shutdown
            log.exception("%s not written at shutdown", what)
    await client.close()


def _lease_heartbeat(
    inbox: SqlInbox, deliveries: SqlDeliveryStore, delivery: DeliveryWorker, lease: timedelta
) -> PeriodicJob:
    """The claims and leases this process holds are renewed three times a lease: an item
    slow to apply, or a peer slow to answer, stays this process's, and is not applied or
    sent a second time by another process on the same database."""

    async def renew() -> None:
        await inbox.renew_claims()
        await deliveries.renew_leases(delivery.busy_hosts)

    return PeriodicJob("leases", renew, every_seconds=lease.total_seconds() / 3)


#: A catch-up from the followed actors' outboxes runs at start, when the link returns, and
#: at least this often (each costs one fetch per followed actor when nothing was missed).
BACKFILL_EVERY_SECONDS = 6 * 3600


def _backfill(runtime: Runtime, inbox: SqlInbox, inbox_worker: InboxWorker) -> PeriodicJob:
    """Reading what the followed actors published while this node could not hear them."""

    async def catch_up() -> None:
        report = await backfill_followed(runtime, inbox, inbox_worker.wakeup.set)
        if report.new:
            log.info("caught up from outboxes", extra={"activities": report.new})

    return PeriodicJob("backfill", catch_up, every_seconds=BACKFILL_EVERY_SECONDS)


def _moderation_refresh(runtime: Runtime) -> PeriodicJob:
    """Blocks changed by another process (a `maillage blocks` command) reach this one."""
    return PeriodicJob(
        "moderation",
        lambda: runtime.moderation.refresh(runtime.sessions),
        every_seconds=REFRESH_SECONDS,
    )


#: how often the refusal counts are written and old login counters dropped
LIMITS_EVERY_SECONDS = 10.0


def _limits_upkeep(runtime: Runtime) -> PeriodicJob:
    """The refusals counted in memory reach the database (the admin page, other processes);
    login counters whose window and lock are over go."""

    async def upkeep() -> None:
        await runtime.refusals.flush()
        await runtime.refusals.prune()
        await runtime.login_limits.prune()

    return PeriodicJob("limits", upkeep, every_seconds=LIMITS_EVERY_SECONDS)


def _decision_clock(runtime: Runtime) -> PeriodicJob:
    """Time-driven work: decisions open and close on time (and publish their results)."""
    return PeriodicJob("decisions", lambda: close_due_decisions(runtime), every_seconds=20.0)


#: how often a coordinator checks whether its digest is due, and looks for new territories
DIGEST_CHECK_SECONDS = 3600
DISCOVERY_EVERY_SECONDS = 24 * 3600


def _coordinator_jobs(runtime: Runtime) -> tuple[PeriodicJob, ...]:
    """A coordinator's own work: follow its allow-list (at start, then every six hours),
    publish its digest when due, look for territories once a day."""
    if not is_coordinator(runtime.config):
        return ()

    async def follow_allowed() -> None:
        for result in await sync_allow_list(runtime):
            if result.problem:
                log.warning(
                    "allow-listed territory not followed",
                    extra={"target": result.target, "problem": result.problem},
                )

    async def discover_some() -> None:
        found = await discover(runtime)
        if found:
            log.info("territories discovered", extra={"count": len(found)})

    async def digest_when_due() -> None:
        await publish_digest_when_due(runtime)

    return (
        PeriodicJob("allow-list", follow_allowed, every_seconds=BACKFILL_EVERY_SECONDS),
        PeriodicJob("digest", digest_when_due, every_seconds=DIGEST_CHECK_SECONDS),
        PeriodicJob("discovery", discover_some, every_seconds=DISCOVERY_EVERY_SECONDS),
    )


async def _workers(app: web.Application) -> AsyncIterator[None]:
    """Run the inbox and delivery workers and the scheduled jobs for the life of the server;
    /healthz watches them."""
    backfill = _backfill(app[runtime_key], app[inbox_store_key], app[inbox_worker_key])
    app[delivery_worker_key].on_reconnect = backfill.wakeup.set
    workers: tuple[BackgroundWorker, ...] = (
        app[inbox_worker_key],
        app[delivery_worker_key],
        app[lease_heartbeat_key],
        _decision_clock(app[runtime_key]),
        _moderation_refresh(app[runtime_key]),
        _limits_upkeep(app[runtime_key]),
        backfill,
        *_coordinator_jobs(app[runtime_key]),
    )
    app[watched_workers_key] = workers
    tasks = []
    for worker in workers:
        task = asyncio.create_task(worker.run_forever(), name=f"{worker.progress.worker}-worker")
        task.add_done_callback(_report_unexpected_end)
        tasks.append(task)
    yield
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _report_unexpected_end(task: asyncio.Task[None]) -> None:
    """A worker loop only ends when cancelled at shutdown; say so loudly if it ever dies."""
    if not task.cancelled() and task.exception() is not None:
        log.critical(
            "background worker stopped", extra={"task": task.get_name()}, exc_info=task.exception()
        )
