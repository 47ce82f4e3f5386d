"""The `maillage` command: set up, check, migrate and serve a territory node.

Every option can also come from the environment (MAILLAGE_DATA, MAILLAGE_PORT, ...), for
containers. Errors say what to do next and exit with a non-zero code:
2 for a usage or configuration problem, 3 for a problem of the machine (port, folder, database).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from instance_config import CONFIG_FILE_NAME, ConfigError, InstanceConfig, load_config, parse_config
from node import __version__
from node.domain.block_lists import BLOCK_LIST_HEADER

# Each command imports what it runs inside its handler: `maillage serve` then loads only what
# serving needs (not the demo, backups, bundles, alembic...), with the garbage collector paused
# while it does, which keeps its start short and its memory small
# (tests/node/test_serve_imports.py checks it).
if TYPE_CHECKING:
    from node.services.moderation.block_lists import ImportSummary as BlockImportSummary
    from node.services.offline.bundles import ImportSummary
    from node.services.offline.link import LinkReport
    from node.services.offline.server_health import ServerHealth
    from node.storage.models import DomainBlock

EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
DEFAULT_DATA = "maillage-data"
#: The territories are French first: metropolitan France's zone unless told otherwise.
DEFAULT_TIMEZONE = "Europe/Paris"


class ProgressLine:
    """Progress of a long command on stderr: one line rewritten on a terminal, a line every
    10 % (or every 1,000 when the total is unknown) in a log."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._live = stream.isatty()
        self._shown = False
        self._last_step = -1

    def show(self, unit: str) -> Callable[[int, int], None]:
        """A progress callback counting `unit`."""

        def report(done: int, total: int) -> None:
            step = done * 10 // total if total else done // 1000
            if not self._live and step == self._last_step:
                return
            self._last_step = step
            text = f"{done}/{total} {unit}" if total else f"{done} {unit}"
            self._stream.write(f"\r{text}" if self._live else f"{text}\n")
            self._stream.flush()
            self._shown = True

        return report

    def end(self) -> None:
        """Close the rewritten line, if any."""
        if self._live and self._shown:
            self._stream.write("\n")


class CliError(Exception):
    """A problem to tell the user in plain words, with the exit code to leave with."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _env(name: str, default: Any = None) -> Any:
    return os.environ.get(f"MAILLAGE_{name}", default)


def _env_flag(name: str) -> bool:
    return str(_env(name, "")).strip().lower() in ("1", "true", "yes", "on")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; `maillage --help` and each command's --help document everything."""
    data_help = (
        f"the node's data folder (default: $MAILLAGE_DATA or ./{DEFAULT_DATA}); "
        f"holds {CONFIG_FILE_NAME} and the SQLite database"
    )
    parser = argparse.ArgumentParser(
        prog="maillage",
        description="Maillage: a federated territory node for participatory local democracy.",
        epilog="Every option can also be set by an environment variable MAILLAGE_<OPTION>, "
        "e.g. MAILLAGE_DATA, MAILLAGE_PORT, MAILLAGE_BASE_URL.",
    )
    parser.add_argument("--version", action="version", version=f"maillage {__version__}")
    parser.add_argument("--data", default=_env("DATA", DEFAULT_DATA), help=data_help)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--data", default=argparse.SUPPRESS, help=data_help)
        return sub

    init = command("init", "create a node: configuration, database, keys and a first admin")
    init.add_argument(
        "--base-url",
        default=_env("BASE_URL"),
        help="public address of the node: scheme, host and port, e.g. https://saint-x.example "
        "or http://127.0.0.1:8081 ($MAILLAGE_BASE_URL); required",
    )
    init.add_argument("--name", default=_env("NAME"), help="the territory's name ($MAILLAGE_NAME)")
    init.add_argument(
        "--handle",
        default=_env("HANDLE", "territoire"),
        help="the territory's fediverse handle, @HANDLE@host "
        "(default: territoire; $MAILLAGE_HANDLE)",
    )
    init.add_argument(
        "--role",
        choices=("territory", "coordinator"),
        default=_env("ROLE", "territory"),
        help="territory (default), or coordinator: also follows and indexes other territories' "
        "experiments, computes statistics across them and publishes digests ($MAILLAGE_ROLE)",
    )
    init.add_argument(
        "--lang",
        choices=("fr", "en"),
        default=_env("LANG", "fr"),
        help="default language of the pages (default: fr; $MAILLAGE_LANG)",
    )
    init.add_argument(
        "--timezone",
        metavar="ZONE",
        default=_env("TIMEZONE", DEFAULT_TIMEZONE),
        help="the territory's IANA time zone, in which pages, feeds, CSV and forms show times, "
        "e.g. America/Martinique (default: Europe/Paris; $MAILLAGE_TIMEZONE)",
    )
    init.add_argument(
        "--database-url",
        default=_env("DATABASE_URL"),
        help="database URL (default: SQLite in the data folder; postgresql://user:pass@host/db "
        "for PostgreSQL; $MAILLAGE_DATABASE_URL)",
    )
    init.add_argument(
        "--allow-private-addresses",
        action="store_true",
        default=_env_flag("ALLOW_PRIVATE_ADDRESSES"),
        help="let the node fetch from and deliver to loopback/private addresses and accept http "
        "peers: for tests and LAN deployments only ($MAILLAGE_ALLOW_PRIVATE_ADDRESSES)",
    )

    serve = command(
        "serve", "serve the node (creates an embedded default node when the folder has none)"
    )
    serve.add_argument("--host", default=_env("HOST"), help="address to listen on ($MAILLAGE_HOST)")
    serve.add_argument(
        "--port", type=int, default=_env("PORT"), help="port to listen on ($MAILLAGE_PORT)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=_env("WORKERS"),
        help="web processes sharing the port, each with its inbox and delivery workers "
        "(default: http.workers, 1; more than 1 needs PostgreSQL; $MAILLAGE_WORKERS)",
    )

    command("check", "validate the configuration and the database, and say how to fix problems")

    demo = command(
        "demo",
        "fill the node with a sample territory in French (residents, needs, proposals, "
        "decisions, experiments, offers, its map and indicators), creating an embedded "
        "default node when the folder has none",
    )
    demo.add_argument(
        "--port",
        type=int,
        default=_env("PORT"),
        help="port of the embedded default node created when the folder has none "
        "(default: 8080; $MAILLAGE_PORT)",
    )
    when_full = demo.add_mutually_exclusive_group()
    when_full.add_argument(
        "--force",
        action="store_true",
        help="add the sample even to a node that already has residents' data",
    )
    when_full.add_argument(
        "--if-empty",
        action="store_true",
        help="on a node that already has residents' data, do nothing and exit 0",
    )

    announce = command("announce", "publish a public announcement from the territory actor")
    announce.add_argument("text", help="the announcement (plain text; URLs become links)")
    announce.add_argument(
        "--in-reply-to", metavar="URL", help="answer a post the node knows (its id)"
    )

    delete = command("delete", "delete one of the territory's announcements (followers are told)")
    delete.add_argument("note", help="the announcement's id (the URL `announce` printed)")

    for name, help_text in (
        ("follow", "make the territory follow a remote actor"),
        ("unfollow", "make the territory stop following a remote actor"),
    ):
        sub = command(name, help_text)
        sub.add_argument("target", help="@user@host handle or actor URL")
    for name, help_text in (
        ("approve", "accept a follower waiting for approval (federation.manual_approval)"),
        ("reject", "refuse a follower waiting for approval"),
    ):
        sub = command(name, help_text)
        sub.add_argument("actor", help="the follower's actor URL, as `maillage check` lists it")

    command(
        "status",
        "show the link to other servers: what waits for each, since when, and what each last "
        "answered",
    )

    retry = command(
        "retry",
        "send what waits for other servers now, instead of after each one's backoff (the link "
        "or a peer is back)",
    )
    retry.add_argument("host", nargs="?", help="only this server (as `maillage status` lists it)")

    command(
        "backfill",
        "read what the followed actors published while the link was down (their outboxes, "
        "back to what the node already has) and apply it",
    )

    backup = command(
        "backup",
        "copy the node (database, configuration, keys) into one file, while it runs",
    )
    backup.add_argument("--out", required=True, metavar="FILE", help="the backup file to write")
    restore = command(
        "restore",
        "bring a backup back into a new data folder (--data), on this or a new machine",
    )
    restore.add_argument("file", help="a backup made by `maillage backup`")
    restore.add_argument(
        "--database-url",
        help="where the database goes (default: a SQLite file in the new folder, or the "
        "backed-up PostgreSQL URL; an empty PostgreSQL database for a PostgreSQL backup)",
    )

    bundle = command("bundle", "carry activities between nodes on a USB stick (signed bundles)")
    bundle_commands = bundle.add_subparsers(dest="bundle_command", metavar="ACTION", required=True)
    export = bundle_commands.add_parser(
        "export",
        help="write the node's public activities, each signed, with the actors carrying the keys",
    )
    export.add_argument("--data", default=argparse.SUPPRESS, help=data_help)
    export.add_argument("--out", required=True, metavar="FILE", help="the bundle to write")
    export.add_argument(
        "--since", metavar="DATE", help="only what was published from DATE on (2026-12-01)"
    )
    export.add_argument(
        "--for",
        dest="for_domain",
        metavar="DOMAIN",
        help="also what is addressed to this territory's server (host[:port]): follow "
        "requests and answers, replies",
    )
    bundle_import = bundle_commands.add_parser(
        "import", help="verify a bundle entry by entry and apply what is new"
    )
    bundle_import.add_argument("--data", default=argparse.SUPPRESS, help=data_help)
    bundle_import.add_argument("file", help="the bundle file (made by `maillage bundle export`)")

    coordinate = command(
        "coordinate",
        "the coordinator role: follow the allow-list, rebuild the index, publish a digest, "
        "look for more territories",
    )
    coordinate_commands = coordinate.add_subparsers(
        dest="coordinate_command", metavar="ACTION", required=True
    )
    for action, text in (
        ("sync", "follow every territory of coordination.allow not followed yet"),
        ("reindex", "rebuild the index from every object received (after switching the role on)"),
        ("digest", "publish a digest now, from the coordinator's actor"),
        ("discover", "look for territories through the followed ones and propose them"),
    ):
        sub = coordinate_commands.add_parser(action, help=text)
        sub.add_argument("--data", default=argparse.SUPPRESS, help=data_help)
    blocks = command("blocks", "domain blocks (moderation): list, add, remove, import, export")
    block_commands = blocks.add_subparsers(dest="blocks_command", metavar="ACTION", required=True)
    for name, help_text in (
        ("list", "list the domain blocks"),
        ("add", "block a domain (and its subdomains), or change its block"),
        ("remove", "lift a domain block"),
        ("import", "add the blocks of a Mastodon CSV block list (those in place are kept)"),
        ("export", "write the blocks as a Mastodon CSV block list"),
    ):
        sub = block_commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--data", default=argparse.SUPPRESS, help=data_help)
        if name in ("add", "remove"):
            sub.add_argument("domain", help="host or host:port, e.g. spam.example")
        if name == "add":
            sub.add_argument(
                "--severity", choices=("suspend", "silence", "noop"), default="suspend"
            )
            sub.add_argument("--reject-media", action="store_true")
            sub.add_argument("--reject-reports", action="store_true")
            sub.add_argument(
                "--obfuscate", action="store_true", help="hide it partly on the public page"
            )
            sub.add_argument("--public-comment", default="", help="the reason shown publicly")
            sub.add_argument("--private-comment", default="", help="a note for the admins")
        if name == "import":
            sub.add_argument("file", help="CSV with the header " + ",".join(BLOCK_LIST_HEADER))
        if name == "export":
            sub.add_argument("--out", required=True, metavar="FILE", help="the CSV file to write")

    db = command("db", "database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply pending schema migrations")
    upgrade.add_argument("--data", default=argparse.SUPPRESS, help=data_help)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    handler = _HANDLERS[args.command]
    try:
        return handler(args)
    except CliError as exc:
        print(f"maillage: {exc}", file=sys.stderr)
        return exc.code
    except ConfigError as exc:
        print("maillage: the configuration has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        print(
            f"Fix them in {Path(args.data) / CONFIG_FILE_NAME} and run the command again.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from node.storage.errors import DatabaseUnavailable  # SQLAlchemy: loaded by then

        if not isinstance(exc, DatabaseUnavailable):
            raise
        print(f"maillage: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT


def _init(args: argparse.Namespace) -> int:
    data = Path(args.data)
    if (data / CONFIG_FILE_NAME).exists():
        raise CliError(
            f"{data} already holds a node ({CONFIG_FILE_NAME} exists). "
            f"Check it with `maillage check --data {data}`, or choose another folder with --data."
        )
    if not args.base_url:
        raise CliError("--base-url is required, e.g. --base-url https://saint-x.example")
    raw = _init_settings(args)
    config = parse_config(raw, data, os.environ)
    _create(config, raw["database"]["url"], f"Created node {config.node.base_url} in {data}.")
    print(f"Start it with: maillage serve --data {data}")
    return 0


def _init_settings(args: argparse.Namespace, base_url: str | None = None) -> dict[str, Any]:
    """Configuration values for a new node from the init (or serve) options."""
    lang = getattr(args, "lang", "fr")
    name = getattr(args, "name", None) or ("Mon territoire" if lang == "fr" else "My territory")
    languages = ["fr", "en"] if lang == "fr" else ["en", "fr"]
    return {
        "node": {"base_url": base_url or args.base_url, "role": getattr(args, "role", "territory")},
        "territory": {
            "name": name,
            "handle": getattr(args, "handle", "territoire"),
            "languages": languages,
            "timezone": getattr(args, "timezone", DEFAULT_TIMEZONE),
        },
        "federation": {"allow_private_addresses": getattr(args, "allow_private_addresses", False)},
        "database": {"url": getattr(args, "database_url", None) or "sqlite:///maillage.sqlite3"},
    }


def _create(config: InstanceConfig, database_url: str, headline: str) -> None:
    from node.bootstrap import create_node, describe_created, ensure_writable_folder

    ensure = _guard(ensure_writable_folder)
    ensure(config.data_dir)
    credentials = asyncio.run(create_node(config, database_url))
    print(headline)
    for line in describe_created(config, credentials):
        print(line)


def _create_embedded_default(args: argparse.Namespace, data: Path) -> bool:
    """Create the embedded default node (SQLite, French, 127.0.0.1) when `data` has no
    configuration, as a first `serve` or `demo` does; returns whether it did."""
    from node.bootstrap import ensure_writable_folder

    _guard(ensure_writable_folder)(data)
    if (data / CONFIG_FILE_NAME).exists():
        return False
    port = args.port or 8080
    raw = _init_settings(args, base_url=f"http://127.0.0.1:{port}")
    raw["http"] = {"port": port}
    config = parse_config(raw, data, {})
    _create(
        config,
        raw["database"]["url"],
        f"No configuration in {data}: created an embedded default node "
        f"(SQLite, http://127.0.0.1:{port}, French); "
        f"edit {data / CONFIG_FILE_NAME} to name your territory.",
    )
    return True


def _serve(args: argparse.Namespace) -> int:
    # Loading the application creates only objects that live as long as the process: the
    # collector would scan them again and again for nothing (about a fifth of the start).
    # serve() keeps them out of its reach and turns it back on before serving.
    gc.disable()
    try:
        return _serve_paused(args)
    finally:
        gc.enable()


def _serve_paused(args: argparse.Namespace) -> int:
    from node.serve import OneProcessOnly, PortUnavailable, serve

    data = Path(args.data)
    _create_embedded_default(args, data)
    overrides: dict[str, dict[str, Any]] = {"http": {}}
    if args.host:
        overrides["http"]["host"] = args.host
    if args.port:
        overrides["http"]["port"] = args.port
    if args.workers is not None:
        overrides["http"]["workers"] = args.workers
    config = load_config(data, os.environ, overrides)
    try:
        serve(config)
    except PortUnavailable as exc:
        raise CliError(str(exc), EXIT_ENVIRONMENT) from None
    except OneProcessOnly as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    return 0


def _check(args: argparse.Namespace) -> int:
    from node.check import check_node

    data = Path(args.data)
    config = load_config(data, os.environ)
    problems = asyncio.run(check_node(config))
    if problems:
        print(f"maillage: {len(problems)} problem(s) in {data}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_USAGE
    print(f"OK: {data} holds a valid node for {config.territory.name} at {config.node.base_url}.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from node.demo import NoAdmin, NodeNotEmpty, describe_demo, fill_demo

    data = Path(args.data)
    created = _create_embedded_default(args, data)
    config = load_config(data, os.environ)
    try:
        report = asyncio.run(
            fill_demo(
                config, os.environ, force=args.force, progress=lambda line: print(line, flush=True)
            )
        )
    except NodeNotEmpty as exc:
        if args.if_empty:
            print(f"{data} already has residents' data; left as it is.")
            return 0
        raise CliError(
            f"{data} already has residents' data ({exc}): the sample territory is meant for "
            f"an empty node. `maillage demo --force --data {data}` adds the sample anyway, "
            "beside that data."
        ) from None
    except NoAdmin as exc:
        raise CliError(f"{exc}.") from None
    for line in describe_demo(report, data, created):
        print(line)
    return 0


def _db(args: argparse.Namespace) -> int:
    from node.storage.migrate_cli import upgrade_and_report

    config = load_config(Path(args.data), os.environ)
    print(asyncio.run(upgrade_and_report(config.database.url)))
    return 0


def _announce(args: argparse.Namespace) -> int:
    from node.services.federation.announcements import (
        AnnouncementError,
        announce,
        delete_announcement,
    )
    from node.services.standalone import standalone_runtime

    config = load_config(Path(args.data), os.environ)

    async def run() -> str:
        async with standalone_runtime(config) as runtime:
            if args.command == "delete":
                await delete_announcement(runtime, args.note)
                return f"deleted {args.note}"
            return (await announce(runtime, args.text, args.in_reply_to)).uri

    try:
        print(asyncio.run(run()))
    except AnnouncementError as exc:
        raise CliError(f"{exc}.") from None
    return 0


def _follow_command(args: argparse.Namespace) -> int:
    from node.services.federation.following import (
        FollowError,
        answer_follow_request,
        follow,
        unfollow,
    )
    from node.services.federation.remote_actors import LookupFailed
    from node.services.standalone import standalone_runtime

    config = load_config(Path(args.data), os.environ)

    async def run() -> str:
        async with standalone_runtime(config) as runtime:
            if args.command == "follow":
                follow_row = await follow(runtime, args.target)
                return f"follow request sent to {follow_row.followed_uri} ({follow_row.state})"
            if args.command == "unfollow":
                await unfollow(runtime, args.target)
                return f"stopped following {args.target}"
            await answer_follow_request(runtime, args.actor, accept=args.command == "approve")
            return f"{args.command}d {args.actor}"

    try:
        print(asyncio.run(run()))
    except (FollowError, LookupFailed) as exc:
        raise CliError(
            f"{exc}. Check the handle or URL, and that the other server is reachable."
        ) from None
    return 0


def _backup(args: argparse.Namespace) -> int:
    from node.services.instance.backup import BackupError, create_backup

    data = Path(args.data)
    config = load_config(data, os.environ)
    out = Path(args.out)
    try:
        made = asyncio.run(create_backup(config, data, out))
    except BackupError as exc:
        raise CliError(f"{exc}.", EXIT_ENVIRONMENT) from None
    except OSError as exc:
        raise CliError(
            f"cannot write {out} ({exc.strerror or exc}): choose a writable place with --out",
            EXIT_ENVIRONMENT,
        ) from None
    print(
        f"wrote {made.path} ({made.size // 1024} KiB): the {made.database} database and "
        f"{len(made.files)} file(s) of {data}; bring it back with "
        f"`maillage restore --data NEW_FOLDER {made.path}`"
    )
    return 0


def _restore(args: argparse.Namespace) -> int:
    from node.services.instance.backup import BackupError, restore_backup
    from node.storage.errors import safe_url

    data = Path(args.data)
    try:
        data.mkdir(parents=True, exist_ok=True)
        restored = asyncio.run(restore_backup(Path(args.file), data, args.database_url))
    except BackupError as exc:
        raise CliError(f"{exc}.") from None
    except OSError as exc:
        raise CliError(
            f"cannot write to {data} ({exc.strerror or exc}): choose another folder with --data",
            EXIT_ENVIRONMENT,
        ) from None
    print(
        f"restored the backup of {restored.created} into {restored.data_dir} "
        f"(database: {safe_url(restored.database_url)}); check it with "
        f"`maillage check --data {restored.data_dir}`, then serve it"
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    from node.services.offline.link import link_report
    from node.services.offline.server_health import server_health
    from node.services.standalone import standalone_runtime

    config = load_config(Path(args.data), os.environ)

    async def run() -> tuple[LinkReport, ServerHealth]:
        async with standalone_runtime(config) as runtime:
            return await link_report(runtime.sessions), await server_health(config)

    link, health = asyncio.run(run())
    for line in [*describe_link(link), *describe_server(health)]:
        print(line)
    return 0 if not health.stalled else 1


def _retry(args: argparse.Namespace) -> int:
    from node.services.offline.link import retry_now
    from node.services.standalone import standalone_runtime

    config = load_config(Path(args.data), os.environ)

    async def run() -> int:
        async with standalone_runtime(config) as runtime:
            return await retry_now(runtime.sessions, args.host)

    count = asyncio.run(run())
    if not count:
        where = f"for {args.host}" if args.host else "for any server"
        print(f"nothing waits for a retry {where}: `maillage status` shows what waits")
        return 0
    print(
        f"{count} server(s) will be tried again at once by the serving node; "
        "`maillage status` shows what they answer"
    )
    return 0


def describe_server(health: ServerHealth) -> list[str]:
    """The serving process's workers, as its /healthz reports them."""
    if not health.running:
        return [
            f"server: not answering on {health.address} (is `maillage serve` running?); "
            "what waits leaves when it runs"
        ]
    if not health.stalled:
        return [f"server: running on {health.address}, every worker making progress"]
    lines = [f"server: running on {health.address}, {health.status}:"]
    for name, state in sorted(health.stalled.items()):
        lines.append(
            f"  worker {name}: {state.get('pending', '?')} waiting, no progress for "
            f"{state.get('seconds_without_progress', '?')} s"
            + (f" (last error: {state['error']})" if state.get("error") else "")
        )
    return lines


def describe_link(report: LinkReport) -> list[str]:
    """The link state in one sentence, then one line per destination server."""
    from node.services.offline.link import LINK_DOWN, LINK_IDLE, LINK_UP

    oldest = _when(report.oldest_waiting_since)
    headline = {
        LINK_IDLE: "link: idle, nothing waits to be delivered",
        LINK_UP: f"link: up, {report.waiting} deliveries waiting (oldest since {oldest})",
        LINK_DOWN: f"link: down, no server answers; {report.waiting} deliveries wait (oldest "
        f"since {oldest}) and leave in order when the link returns",
    }[report.state]
    lines = [headline]
    if report.hosts:
        lines.append(
            f"{'server':<32} {'waiting':>7}  {'oldest waiting':<20} {'last success':<20} last error"
        )
    for host in report.hosts:
        error = host.last_error or "-"
        if host.last_status is not None and host.last_error:
            error = f"HTTP {host.last_status}: {host.last_error}"
        lines.append(
            f"{host.host:<32} {host.waiting:>7}  {_when(host.oldest_waiting_since):<20} "
            f"{_when(host.last_success_at):<20} {error}"
        )
    return lines


def _when(moment: datetime | None) -> str:
    """A UTC moment for the status table, to the minute."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def _backfill(args: argparse.Namespace) -> int:
    from node.services.offline.backfill import BackfillReport, backfill_followed
    from node.services.offline.drain import apply_stored
    from node.services.standalone import standalone_runtime
    from node.storage.inbox import SqlInbox

    config = load_config(Path(args.data), os.environ)

    async def run() -> BackfillReport:
        async with standalone_runtime(config) as runtime:
            inbox = SqlInbox(runtime.sessions)
            report = await backfill_followed(runtime, inbox)
            await apply_stored(runtime, inbox, report.new)
            return report

    report = asyncio.run(run())
    if not report.actors:
        print("the territory follows nobody yet: nothing to catch up")
    for actor in report.actors:
        if actor.error:
            print(f"{actor.actor}: not read ({actor.error}); try again when it answers")
            continue
        print(f"{actor.actor}: {actor.new} new ({actor.pages} page(s) read)")
        for activity, reason in actor.refused:
            print(f"  refused {activity}: {reason}")
    return 0 if all(not actor.error for actor in report.actors) else 1


def _coordinate(args: argparse.Namespace) -> int:
    from node.services.coordination.digest import publish_digest
    from node.services.coordination.discovery import discover
    from node.services.coordination.following import sync_allow_list
    from node.services.coordination.index import is_coordinator, reindex
    from node.services.standalone import standalone_runtime

    config = load_config(Path(args.data), os.environ)
    if not is_coordinator(config):
        raise CliError(
            f'{args.data} is not a coordinator: set role = "coordinator" under [node] in '
            f"{CONFIG_FILE_NAME} (or create one with `maillage init --role coordinator`)"
        )
    action = args.coordinate_command

    async def run() -> tuple[list[str], bool]:
        async with standalone_runtime(config) as runtime:
            if action == "sync":
                results = await sync_allow_list(runtime)
                if not results:
                    return ["coordination.allow is empty: nothing to follow"], True
                lines = [
                    f"{r.target}: follow request sent ({r.followed})"
                    if r.followed
                    else f"{r.target}: not followed ({r.problem}); check the handle and the link"
                    for r in results
                ]
                return lines, all(r.followed for r in results)
            if action == "reindex":
                return [f"index rebuilt: {await reindex(runtime)} entries"], True
            if action == "digest":
                return [f"digest published: {await publish_digest(runtime)}"], True
            found = await discover(runtime)
            lines = [f"proposed: {uri}" for uri in found] or ["no new territory found"]
            return [*lines, "answer on /coordination/admin"], True

    lines, ok = asyncio.run(run())
    for line in lines:
        print(line)
    return 0 if ok else 1


def _bundle(args: argparse.Namespace) -> int:
    from federation.bundles.archive import BundleUnreadable
    from node.services.offline.bundles import ExportSummary, export_bundle, import_bundle
    from node.services.standalone import standalone_runtime

    config = load_config(Path(args.data), os.environ)
    progress = ProgressLine(sys.stderr)
    if args.bundle_command == "export":
        since = _parse_since(args.since)

        async def export() -> ExportSummary:
            async with standalone_runtime(config) as runtime:
                return await export_bundle(
                    runtime,
                    Path(args.out),
                    since=since,
                    for_host=args.for_domain,
                    progress=progress.show("activities"),
                )

        try:
            written = asyncio.run(export())
        except OSError as exc:
            raise CliError(
                f"cannot write {args.out} ({exc.strerror or exc}): choose a writable place with "
                "--out",
                EXIT_ENVIRONMENT,
            ) from None
        progress.end()
        print(f"wrote {written.path}: {written.activities} activities, {written.actors} actors")
        return 0

    async def run_import() -> ImportSummary:
        async with standalone_runtime(config) as runtime:
            return await import_bundle(runtime, Path(args.file), progress=progress.show("entries"))

    try:
        summary = asyncio.run(run_import())
    except BundleUnreadable as exc:
        raise CliError(f"{exc}.") from None
    progress.end()
    for line in describe_import(summary):
        print(line)
    return 0 if not summary.refused and not summary.damaged else 1


def _blocks(args: argparse.Namespace) -> int:
    from node.services.moderation.block_lists import (
        LineError,
        import_block_list,
        write_block_list,
    )
    from node.services.moderation.domain_blocks import (
        BlockError,
        block_request,
        list_blocks,
        remove_block,
        save_block,
    )
    from node.services.standalone import standalone_runtime

    config = load_config(Path(args.data), os.environ)
    action = args.blocks_command
    data = b""
    if action == "import":
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read {args.file} ({exc.strerror or exc})") from None

    async def run() -> list[str]:
        async with standalone_runtime(config) as runtime:
            if action == "import":
                summary = await import_block_list(runtime, data)
                refused.extend(summary.errors)
                return describe_block_import(summary)
            if action == "add":
                request = block_request(
                    args.domain,
                    args.severity,
                    reject_media=args.reject_media,
                    reject_reports=args.reject_reports,
                    public_comment=args.public_comment,
                    private_comment=args.private_comment,
                    obfuscate=args.obfuscate,
                )
                saved = await save_block(runtime, request)
                removed = f"; removed {saved.removed.total} rows" if saved.removed.total else ""
                done = "blocked" if saved.created else "changed"
                return [f"{done} {request.domain} ({request.severity}){removed}"]
            if action == "remove":
                await remove_block(runtime, args.domain)
                return [f"unblocked {args.domain}"]
            found = await list_blocks(runtime.sessions)
            if action == "export":
                exported.append(write_block_list(found))
                return [f"wrote {args.out}: {len(found)} blocks"]
            return [describe_block(block) for block in found] or ["no domain block"]

    exported: list[str] = []
    refused: list[LineError] = []
    try:
        lines = asyncio.run(run())
        if exported:
            Path(args.out).write_text(exported[0], encoding="utf-8")
    except BlockError as exc:
        raise CliError(BLOCK_LINE_PROBLEMS.get(exc.field, exc.message)) from None
    except OSError as exc:
        raise CliError(
            f"cannot write {args.out} ({exc.strerror or exc})", EXIT_ENVIRONMENT
        ) from None
    for line in lines:
        print(line)
    return 1 if refused else 0


def describe_block(block: DomainBlock) -> str:
    """One block on one line: domain, severity, flags, public reason."""
    flags = [
        name
        for name, on in (
            ("reject_media", block.reject_media),
            ("reject_reports", block.reject_reports),
            ("obfuscate", block.obfuscate),
        )
        if on
    ]
    comment = f" - {block.public_comment}" if block.public_comment else ""
    return f"{block.domain} {block.severity}{' ' + ','.join(flags) if flags else ''}{comment}"


#: What each refused line of a block list means, for the CLI.
BLOCK_LINE_PROBLEMS = {
    "domain": "not a domain",
    "severity": "unknown severity (suspend, silence or noop)",
    "flag": "not a boolean (true or false)",
    "comment": "comment too long",
    "own_domain": "this node's own domain",
    "not_blocked": "this domain is not blocked",
    "configured": "this block comes from federation.blocked_domains: remove it there",
    "duplicate": "the domain is already on an earlier line",
    "header": "no #domain header: not a Mastodon block list",
    "size": "the list is too long",
    "encoding": "the file is not UTF-8 text",
}


def describe_block_import(summary: BlockImportSummary) -> list[str]:
    """The import's summary, then each refused line with its number and reason."""
    lines = [
        f"added: {len(summary.added)}",
        f"already blocked (kept as they are): {len(summary.already_blocked)}",
        f"refused lines: {len(summary.errors)}",
    ]
    if summary.removed_rows:
        lines.append(f"content removed by the suspensions: {summary.removed_rows} rows")
    lines += [
        f"  line {error.line}: {BLOCK_LINE_PROBLEMS.get(error.problem, error.problem)}"
        + (f" ({error.value})" if error.value else "")
        for error in summary.errors
    ]
    return lines


def _parse_since(value: str | None) -> datetime | None:
    """--since as an aware UTC datetime; a date means its midnight UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"--since {value!r} is not a date: write it as 2026-12-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def describe_import(summary: ImportSummary) -> list[str]:
    """The import's summary in a few lines, then each refused entry with its reason."""
    lines = [
        f"applied: {summary.applied}",
        f"already known: {summary.already_known}",
        f"refused: {len(summary.refused)}",
    ]
    if summary.actors:
        lines.append(f"actors kept: {summary.actors}")
    if summary.ignored:
        lines.append(f"stored but not acted on: {len(summary.ignored)}")
        lines += [f"  {activity}: {note}" for activity, note in summary.ignored[:20]]
    if summary.held:
        lines.append(f"waiting for what they depend on: {summary.held}")
    lines += [f"  refused {where}: {reason}" for where, reason in summary.refused]
    if summary.damaged:
        lines.append(f"damaged: {summary.damaged}")
    return lines


def _guard(function: Callable[[Path], None]) -> Callable[[Path], None]:
    """Turn an unwritable folder into a CLI message with exit code 3."""

    def guarded(path: Path) -> None:
        try:
            function(path)
        except OSError as exc:
            raise CliError(
                f"cannot write to {path} ({exc.strerror or exc}). Choose another folder with "
                "--data, or give this user write access to it.",
                EXIT_ENVIRONMENT,
            ) from None

    return guarded


_HANDLERS: Mapping[str, Callable[[argparse.Namespace], int]] = {
    "init": _init,
    "serve": _serve,
    "check": _check,
    "demo": _demo,
    "db": _db,
    "blocks": _blocks,
    "bundle": _bundle,
    "backfill": _backfill,
    "coordinate": _coordinate,
    "status": _status,
    "retry": _retry,
    "backup": _backup,
    "restore": _restore,
    "announce": _announce,
    "delete": _announce,
    "follow": _follow_command,
    "unfollow": _follow_command,
    "approve": _follow_command,
    "reject": _follow_command,
}

if __name__ == "__main__":
    sys.exit(main())
