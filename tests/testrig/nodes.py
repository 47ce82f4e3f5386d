"""Real Maillage nodes for end-to-end tests: `maillage init` + `maillage serve` subprocesses."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.testrig.postgres import free_port
from tests.testrig.processes import get, run_maillage, start_maillage, stop, wait_until_serving


class MaillageNode:
    """One node on 127.0.0.1 with its own data folder, driven through its CLI and HTTP."""

    def __init__(self, root: Path, name: str, *init_args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.domain = f"127.0.0.1:{self.port}"
        self.data = root / name
        self.name = name
        self.territory = f"{self.base}/actors/territoire"
        self.acct = f"acct:territoire@{self.domain}"
        result = run_maillage(
            "init",
            "--data",
            str(self.data),
            "--base-url",
            self.base,
            "--name",
            name,
            "--allow-private-addresses",
            *init_args,
        )
        assert result.returncode == 0, result.stderr
        found = re.search(r"one-time password: (\S+)", result.stdout)
        #: the first admin's password as `maillage init` printed it
        self.one_time_password = found.group(1) if found else ""
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> MaillageNode:
        """Serve the node and wait until it answers."""
        self.process = start_maillage("serve", "--data", str(self.data))
        wait_until_serving(self.base, self.process)
        return self

    def stop(self) -> str:
        """Stop the server; returns its log (stderr) for failure messages."""
        if self.process is None:
            return ""
        _, _, err = stop(self.process)
        self.process = None
        return err

    def cli(self, *args: str) -> str:
        """Run a `maillage` command on this node; returns its stdout (fails the test on error)."""
        result = run_maillage(*args, "--data", str(self.data))
        assert result.returncode == 0, f"maillage {' '.join(args)}: {result.stderr}"
        return result.stdout.strip()

    def json(self, url_or_path: str) -> tuple[int, Any]:
        """GET an ActivityPub document: status and parsed body."""
        url = url_or_path if url_or_path.startswith("http") else self.base + url_or_path
        status, _, body = get(url)
        return status, json.loads(body) if body else None

    def html(self, path: str) -> str:
        """GET a page as a browser does."""
        status, _, body = get(self.base + path, "text/html")
        assert status == 200, (path, status)
        return body.decode()


def eventually(
    check: Callable[[], Any], what: str | Callable[[], str], timeout: float = 30, every: float = 0.2
) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` (text, or a function
    giving it at that moment) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    description = what() if callable(what) else what
    raise AssertionError(f"timed out after {timeout}s waiting for {description} (last: {last!r})")


async def eventually_async(
    check: Callable[[], Any], what: str | Callable[[], str], within: float = 30, every: float = 0.1
) -> Any:
    """`eventually` for a test whose servers run in its own event loop: polls without
    blocking them, for at most `within` seconds; `check` may be a coroutine function."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(every)
    description = what() if callable(what) else what
    raise AssertionError(f"timed out after {within}s waiting for {description} (last: {last!r})")


def inbox_journal(node: MaillageNode) -> list[tuple[str, str, str]]:
    """(type, state, note) of every activity the node received: for failure messages."""
    with sqlite3.connect(f"file:{node.data / 'maillage.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT type, state, note FROM inbox_items ORDER BY received_at"
        ).fetchall()
    return [(str(t), str(s), str(n)) for t, s, n in rows]
