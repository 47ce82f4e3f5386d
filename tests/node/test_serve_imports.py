"""What `maillage serve` loads: what serving needs, not the migration tooling (unless a migration
is pending), the demo, backups, bundles or pyld, so that it starts fast and stays small; and the
start-up objects are frozen out of the garbage collector's scans, which runs again once serving.

Each run is a real `maillage serve` (node.cli.main in a fresh interpreter) on a real SQLite
node, asked for /healthz on loopback; then it reports the modules it holds and stops itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy
from alembic import command
from alembic.runtime.migration import MigrationContext

from node.storage.migrate import alembic_config, shipped_head
from tests.testrig.postgres import free_port
from tests.testrig.processes import clean_environment, run_maillage

#: Serves the node, and once /healthz answers 200 prints what the process holds and stops it
#: with SIGTERM (as an admin's Ctrl+C). The wait for /healthz is bounded.
SERVE_AND_REPORT = """
import gc, http.client, json, os, signal, sys, threading, time
from node.cli import main

data, port = sys.argv[1], int(sys.argv[2])

def report():
    healthy, deadline = False, time.monotonic() + 60
    while not healthy and time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            healthy = connection.getresponse().status == 200
        except OSError:
            time.sleep(0.05)
    state = {"healthy": healthy, "modules": sorted(sys.modules), "gc_enabled": gc.isenabled(),
             "frozen": gc.get_freeze_count()}
    print("REPORT " + json.dumps(state), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=report, daemon=True).start()
sys.exit(main(["serve", "--data", data, "--port", str(port)]))
"""

#: Loaded only by other commands, or when their work needs them (a migration, a document with
#: an unknown JSON-LD context): each costs start time and memory a serving node does not need.
NOT_FOR_SERVING = (
    "alembic",
    "mako",
    "pygments",
    "pyld",
    "requests",
    "lxml",
    "hypothesis",
    "node.demo",
    "node.check",
    "node.storage.migrate_cli",
    "node.services.instance.backup",
    "node.services.offline.bundles",
    "node.services.standalone",
    "federation.bundles",
    "sqlalchemy.dialects.postgresql",  # this node is on SQLite
)


def _init(data: Path, port: int) -> None:
    result = run_maillage(
        "init", "--data", str(data), "--base-url", f"http://127.0.0.1:{port}", "--name", "Saint-X"
    )
    assert result.returncode == 0, result.stderr


def _serve_and_report(data: Path, port: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SERVE_AND_REPORT, str(data), str(port)],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_environment(),
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    reports = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert reports, done.stdout + done.stderr
    state: dict[str, Any] = json.loads(reports[0].removeprefix("REPORT "))
    assert state["healthy"], done.stdout + done.stderr
    return state


def _loaded(modules: list[str], package: str) -> list[str]:
    return [name for name in modules if name == package or name.startswith(package + ".")]


def _revision(database: Path) -> str | None:
    engine = sqlalchemy.create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _downgrade_one(database: Path) -> None:
    """Take the node's database back one migration, as a node of the previous version left it."""
    engine = sqlalchemy.create_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "-1")
    finally:
        engine.dispose()


def test_serving_an_up_to_date_node_loads_only_what_serving_needs(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "node"
    _init(data, port)

    state = _serve_and_report(data, port)

    loaded = {package: _loaded(state["modules"], package) for package in NOT_FOR_SERVING}
    assert {package: names for package, names in loaded.items() if names} == {}
    assert "node.web.app" in state["modules"]  # the report did come from a serving node
    assert state["gc_enabled"] and state["frozen"] > 10_000


def test_serving_a_node_one_migration_behind_migrates_it(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "node"
    _init(data, port)
    _downgrade_one(data / "maillage.sqlite3")
    assert _revision(data / "maillage.sqlite3") not in (None, shipped_head())

    state = _serve_and_report(data, port)

    assert "alembic" in state["modules"]
    assert _revision(data / "maillage.sqlite3") == shipped_head()
