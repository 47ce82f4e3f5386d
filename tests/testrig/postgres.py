"""A real PostgreSQL server for the tests, started in a temporary folder with initdb + pg_ctl.

initdb refuses to run as root, so as root the server runs as the `postgres` user through
`runuser`. Where no PostgreSQL is installed the caller skips with the reason returned here.
"""

from __future__ import annotations

import glob
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(Exception):
    """PostgreSQL cannot be started here; the message says why (shown as the skip reason)."""


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: $MAILLAGE_PG_BIN, Debian's layout, or PATH."""
    candidates = [os.environ.get("MAILLAGE_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for candidate in candidates:
        if (
            candidate
            and (Path(candidate) / "initdb").exists()
            and (Path(candidate) / "pg_ctl").exists()
        ):
            return Path(candidate)
    return None


#: Ports handed out come from below Linux's ephemeral range (32768-60999), which outgoing
#: connections draw from: a port chosen here is never taken meanwhile by some test's client.
PORTS_FROM, PORTS_TO = 10_000, 32_000
_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, for a server about to start.

    Each pytest-xdist worker draws from its own slice of the range, at random, never the
    same port twice: two tests running side by side cannot be given the same one."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    size = (PORTS_TO - PORTS_FROM) // workers
    first = PORTS_FROM + (worker % workers) * size
    for _ in range(1000):
        port = random.randrange(first, first + size)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port between {first} and {first + size} on 127.0.0.1")


@dataclass
class PostgresServer:
    """A running throwaway server; `url(db)` gives an asyncpg URL for one of its databases."""

    root: Path
    port: int
    bin_dir: Path
    as_postgres: list[str]
    #: the server's command-line options (port, socket folder, durability off)
    options: str = ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop the server (fast mode: clients are disconnected), stay down `down_seconds`,
        and start it again on the same port, as an operator's restart or a crash would."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")
        time.sleep(down_seconds)
        self._start()

    def _start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.root / "data"),
            "-o",
            self.options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [*self.as_postgres, str(self.bin_dir / tool), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise PostgresUnavailable(
                f"{tool} failed: {result.stderr.strip() or result.stdout.strip()}"
            )
        return result


def start_postgres() -> PostgresServer:
    """Initialise and start a server on a free loopback port, or raise PostgresUnavailable."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise PostgresUnavailable(
            "PostgreSQL is not installed (no initdb/pg_ctl found; install postgresql-15, "
            "or set MAILLAGE_PG_BIN)"
        )
    as_postgres: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="maillage-pg-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            raise PostgresUnavailable("running as root without runuser: cannot drop to postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
        os.chmod(root, 0o755)
        shutil.chown(root, "postgres", "postgres")
    server = PostgresServer(root=root, port=free_port(), bin_dir=bin_dir, as_postgres=as_postgres)
    try:
        server._run(
            "initdb",
            "-D",
            str(root / "data"),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        server.options = (
            f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        server._start()
    except (PostgresUnavailable, OSError, KeyError, subprocess.TimeoutExpired) as exc:
        log = root / "server.log"
        detail = log.read_text()[-500:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"could not start PostgreSQL: {exc} {detail}".strip()) from None
    return server
