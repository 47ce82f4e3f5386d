"""What the benchmarks share: real node processes (on SQLite, or on a PostgreSQL started in
a temporary folder by tests.testrig.postgres), helper child processes, the node's database,
and printing. Every wait here is bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from tests.testrig.postgres import find_pg_bin, free_port
from tests.testrig.processes import clean_environment, maillage_command, run_maillage

__all__ = [
    "LOOPBACK",
    "REPO",
    "Child",
    "NodeProcess",
    "free_port",
    "http_json",
    "query_db",
    "query_postgres",
]

REPO = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
#: loopback only: never go through a proxy configured in the environment
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_json(url: str, method: str = "GET", timeout: float = 10) -> Any:
    """A small JSON request to one of our own loopback helpers."""
    assert url.startswith(f"http://{LOOPBACK}:"), url
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with _OPENER.open(request, timeout=timeout) as answer:
        return json.loads(answer.read() or b"null")


def _healthy(base: str) -> bool:
    try:
        with _OPENER.open(f"{base}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


class NodeProcess:
    """A real node: `maillage init` once, then `maillage serve` (logs to a file), which can
    be stopped (SIGTERM), killed (SIGKILL) and started again on the same data."""

    def __init__(
        self,
        root: Path,
        name: str = "node",
        port: int | None = None,
        *,
        database_url: str | None = None,
        workers: int = 1,
    ) -> None:
        """Initialise the node's folder; on SQLite in that folder unless `database_url`
        names another database (an empty PostgreSQL one); `workers` > 1 serves it with
        `maillage serve --workers` (PostgreSQL only)."""
        self.port = port or free_port()
        self.workers = workers
        self._database_url = database_url
        self.base = f"http://{LOOPBACK}:{self.port}"
        self.data = root / name
        self.territory = f"{self.base}/actors/territoire"
        self.db_path = self.data / "maillage.sqlite3"
        self.log_path = root / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        result = run_maillage(
            "init",
            "--data",
            str(self.data),
            "--base-url",
            self.base,
            "--name",
            "Bench",
            "--allow-private-addresses",
            *(["--database-url", database_url] if database_url else []),
        )
        if result.returncode != 0:
            raise RuntimeError(f"maillage init failed: {result.stderr}")

    @property
    def database_url(self) -> str:
        """The node's database, as SQLAlchemy names it."""
        return self._database_url or f"sqlite+aiosqlite:///{self.db_path}"

    @property
    def is_sqlite(self) -> bool:
        return self._database_url is None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Read the node's database while it runs (SQLite read-only, or PostgreSQL through
        `psql`); PostgreSQL gives every value as text."""
        if self.is_sqlite:
            return query_db(self.db_path, sql)
        return query_postgres(self.database_url, sql)

    def start(self, profile: Path | None = None, timeout: float = 30) -> NodeProcess:
        """`maillage serve` (sampled by bench.sampler when `profile` names an output file)."""
        command = [*maillage_command(), "serve", "--data", str(self.data)]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        if profile is not None:
            command = [sys.executable, "-m", "bench.sampler", str(profile), "--", *command[1:]]
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            env=clean_environment(),
        )
        deadline = time.monotonic() + timeout
        while not _healthy(self.base):
            if self.process.poll() is not None:
                raise RuntimeError(f"maillage serve exited:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"maillage serve not healthy in {timeout}s:\n{self.log_tail()}")
            time.sleep(0.05)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill9(self) -> None:
        """SIGKILL, and wait until the process is gone."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self._reap()

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (graceful: in-flight requests finish), SIGKILL after `timeout`."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reap()

    def _reap(self) -> None:
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_lines(self, needle: str) -> int:
        """How many log lines contain `needle` (e.g. warnings)."""
        try:
            return sum(
                needle in line for line in self.log_path.read_text(errors="replace").split("\n")
            )
        except OSError:
            return 0


def query_db(path: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Read the node's SQLite database (read-only: safe while the node runs, WAL mode)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
        return db.execute(sql, tuple(params)).fetchall()


def query_postgres(url: str, sql: str, timeout: float = 30) -> list[tuple[str, ...]]:
    """Run one query with `psql` (no driver in the benchmark's own process, so it never
    shares the node's code); rows as tuples of text. `url` is the node's SQLAlchemy URL."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise RuntimeError("psql not found (no PostgreSQL installed)")
    plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    assert f"@{LOOPBACK}:" in plain, plain
    options = ["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
    result = subprocess.run(
        [str(bin_dir / "psql"), *options, "-d", plain, "-c", sql],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_environment(),
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr.strip()}")
    return [tuple(line.split("\t")) for line in result.stdout.splitlines() if line]


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    try:
        for line in stream:
            lines.put(line)
    except (OSError, ValueError):
        pass
    finally:
        lines.put(None)


class Child:
    """A helper process `python -m bench.<module>` that speaks JSON lines: commands on its
    stdin, answers on its stdout; stderr goes to a file. It stops by itself when its stdin
    closes or its own time limit passes."""

    def __init__(self, module: str, args: Iterable[str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=clean_environment(PYTHONPATH=str(REPO)),
        )
        assert self.process.stdout is not None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(
            target=_pump, args=(self.process.stdout, self._lines), daemon=True
        )
        self._reader.start()

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def receive(self, timeout: float) -> dict[str, Any]:
        """The next JSON line the child prints; RuntimeError when it dies or is late."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"{self.log_path.stem}: no answer in {timeout}s{self._tail()}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"{self.log_path.stem} exited{self._tail()}")
            if line.startswith("{"):
                return dict(json.loads(line))

    def _tail(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()[-20:]
        except OSError:
            return ""
        return (":\n" + "\n".join(text)) if text else ""

    def close(self, timeout: float = 30) -> None:
        """Close its stdin (it stops), then SIGTERM, then SIGKILL if it lingers."""
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


def stdin_lines() -> asyncio.Queue[str | None]:
    """In a child: the lines of stdin as an asyncio queue, None at its end (a daemon thread
    reads them, so a blocked read never keeps the process alive)."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        try:
            for line in sys.stdin:
                loop.call_soon_threadsafe(lines.put_nowait, line)
        finally:
            loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def emit(message: dict[str, Any]) -> None:
    """In a child: one JSON line to the parent."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def insert_followers(
    database_url: str, territory: str, ports: Sequence[int], per_host: int
) -> int:
    """Followers of the territory written straight into the node's database, as if each
    had followed and been accepted: a cached RemoteActor (personal inbox, no shared inbox)
    and an accepted Follow, `per_host` on each sink port."""
    from node.storage.base import utcnow
    from node.storage.engine import make_engine, make_sessionmaker
    from node.storage.models import Follow, RemoteActor

    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            for port in ports:
                for index in range(per_host):
                    uri = f"http://{LOOPBACK}:{port}/users/f{index}"
                    session.add(
                        RemoteActor(
                            uri=uri,
                            domain=f"{LOOPBACK}:{port}",
                            type="Person",
                            username=f"f{index}",
                            inbox=f"{uri}/inbox",
                            shared_inbox=None,
                            raw="{}",
                        )
                    )
                    session.add(
                        Follow(
                            follower_uri=uri,
                            followed_uri=territory,
                            activity_uri=f"{uri}/follows/1",
                            state="accepted",
                            accepted_at=utcnow(),
                        )
                    )
    finally:
        await engine.dispose()
    return len(ports) * per_host


def set_shared_inboxes(db_path: Path, on: bool) -> None:
    """Give every cached remote actor its server's shared inbox (or take it away)."""
    with contextlib.closing(sqlite3.connect(db_path, timeout=10)) as db:
        if on:
            db.execute("UPDATE remote_actors SET shared_inbox = 'http://' || domain || '/inbox'")
        else:
            db.execute("UPDATE remote_actors SET shared_inbox = NULL")
        db.commit()
