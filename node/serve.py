"""Running the web server: start-up checks, listening, and a graceful stop on SIGTERM."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import signal
import socket

from aiohttp import web

from instance_config import InstanceConfig
from node.bootstrap import describe_created
from node.logs import AccessLogger, configure_logging
from node.services.instance.profile import publish_profile_changes
from node.services.instance.setup import initialise_node
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.errors import reporting_database_errors
from node.storage.keyring import KeyRing
from node.storage.migrate import schema_state, upgrade_database
from node.supervisor import supervise
from node.web.app import create_app

log = logging.getLogger(__name__)

#: Seconds in-flight requests get to finish after SIGTERM before the server closes them.
SHUTDOWN_GRACE_SECONDS = 20.0


class PortUnavailable(Exception):
    """The listening address is taken or not allowed; the message says what to do."""


class OneProcessOnly(Exception):
    """Several processes were asked for on a database only one process may write to."""


def serve(config: InstanceConfig) -> None:
    """Serve the node until SIGTERM or SIGINT, then finish in-flight requests and close.

    With `http.workers` above 1 (PostgreSQL only), the database is prepared once, then that
    many processes share the listening socket, each with its inbox and delivery workers;
    this process supervises them (see node.supervisor).
    """
    workers = config.http.workers
    if workers > 1 and config.database.is_sqlite:
        raise OneProcessOnly(
            f"--workers {workers} needs PostgreSQL: SQLite has one writer, so a node on SQLite "
            "runs one process. Serve with --workers 1, or move the node to PostgreSQL "
            "(database.url = postgresql://...)."
        )
    configure_logging()
    asyncio.run(_prepare_database(config))
    _keep_start_up_objects()
    if workers == 1:
        asyncio.run(_serve(config))
        return
    listening = _listen(config.http.host, config.http.port)
    _announce(config, f"{workers} processes")
    supervise(
        workers,
        lambda _number: asyncio.run(_serve(config, listening)) or 0,
        grace_seconds=SHUTDOWN_GRACE_SECONDS + 5,
    )
    listening.close()
    log.info("stopped")


def _keep_start_up_objects() -> None:
    """Move everything loaded so far (modules, classes, the ORM's mappings: what lives as long
    as the process) out of the garbage collector's scans, then make sure it runs.

    Python's documentation advises it before fork(): collections in the children then leave
    those pages alone, so they stay shared. A single process gains the same: each full
    collection skips the hundreds of thousands of start-up objects.
    """
    gc.freeze()
    gc.enable()


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket the server processes share (opened before they are forked)."""
    try:
        return socket.create_server(
            (host, port), family=_family(host), backlog=1024, reuse_port=False
        )
    except OSError as exc:
        raise PortUnavailable(_port_message(exc, host, port)) from None


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _announce(config: InstanceConfig, processes: str) -> None:
    """Say once where the node is served, and how to stop it."""
    host, port = config.http.host, config.http.port
    print(
        f"Maillage is serving {config.territory.name} at {config.node.base_url} "
        f"(listening on {host}:{port}, {processes}); stop it with Ctrl+C.",
        flush=True,
    )
    log.info(
        "serving",
        extra={
            "base_url": config.node.base_url,
            "host": host,
            "port": port,
            "processes": processes,
        },
    )


async def _prepare_database(config: InstanceConfig) -> None:
    """Apply pending migrations and make sure the node's own actors exist."""
    engine = make_engine(config.database.url)
    try:
        async with reporting_database_errors(config.database.url):
            state = await schema_state(engine)
            if not state.is_current:
                log.info("applying migrations", extra={"from": state.current, "to": state.head})
                await upgrade_database(engine)
            sessions = make_sessionmaker(engine)
            credentials = await initialise_node(sessions, config)
            if await publish_profile_changes(sessions, config, KeyRing()):
                log.info("territory profile changed: Update sent to followers")
    finally:
        await engine.dispose()
    if credentials is not None:
        for line in describe_created(config, credentials):
            print(line, flush=True)


async def _serve(config: InstanceConfig, listening: socket.socket | None = None) -> None:
    """Serve until SIGTERM or SIGINT: on the configured address, or on `listening`, a
    socket shared with the other server processes."""
    runner = web.AppRunner(
        create_app(config), access_log_class=AccessLogger, shutdown_timeout=SHUTDOWN_GRACE_SECONDS
    )
    await runner.setup()
    host, port = config.http.host, config.http.port
    site: web.BaseSite
    if listening is None:
        site = web.TCPSite(runner, host, port, shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
    else:
        site = web.SockSite(runner, listening, shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise PortUnavailable(_port_message(exc, host, port)) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if listening is None:
        _announce(config, "one process")
    await stop.wait()
    log.info("stopping: finishing in-flight requests", extra={"grace_s": SHUTDOWN_GRACE_SECONDS})
    await runner.cleanup()
    log.info("stopped")


def _port_message(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use. Stop the program using it, or choose "
            "another port with --port (or MAILLAGE_PORT)."
        )
    if exc.errno == errno.EACCES:
        return (
            f"not allowed to listen on {host}:{port}. Ports below 1024 need privileges: use a "
            "port such as 8080 behind a reverse proxy."
        )
    return f"cannot listen on {host}:{port} ({exc.strerror or exc}). Check --host and --port."
