"""The `maillage` command as an admin uses it, each run a real process on loopback."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import threading
import urllib.error
from pathlib import Path

from node.serve import SHUTDOWN_GRACE_SECONDS
from tests.testrig.postgres import free_port
from tests.testrig.processes import get, run_maillage, start_maillage, stop, wait_until_serving


def test_help_documents_every_command_and_option() -> None:
    result = run_maillage("--help")
    assert result.returncode == 0
    for command in ("init", "serve", "check", "db"):
        assert command in result.stdout
    init = run_maillage("init", "--help").stdout
    for option in (
        "--data",
        "--base-url",
        "--name",
        "--handle",
        "--lang",
        "--timezone",
        "--database-url",
        "--allow-private-addresses",
    ):
        assert option in init
    serve = run_maillage("serve", "--help").stdout
    assert "--host" in serve and "--port" in serve
    assert "upgrade" in run_maillage("db", "--help").stdout


def test_two_nodes_initialised_and_served_side_by_side(tmp_path: Path) -> None:
    nodes = []
    for name in ("Saint-Alpha", "Saint-Beta"):
        port = free_port()
        data = tmp_path / name
        base = f"http://127.0.0.1:{port}"
        init = run_maillage(
            "init",
            "--data",
            str(data),
            "--base-url",
            base,
            "--name",
            name,
            "--allow-private-addresses",
        )
        assert init.returncode == 0, init.stderr
        assert "Admin one-time password: " in init.stdout
        assert f"@territoire@127.0.0.1:{port}" in init.stdout
        assert (data / "maillage.toml").exists() and (data / "maillage.sqlite3").exists()
        assert run_maillage("check", "--data", str(data)).returncode == 0
        nodes.append((name, base, data, start_maillage("serve", "--data", str(data))))
    try:
        for _, base, _, process in nodes:
            wait_until_serving(base, process)
        keys = set()
        for name, base, _, _ in nodes:
            status, headers, body = get(
                f"{base}/.well-known/webfinger?resource=acct:territoire@{base[7:]}"
            )
            assert status == 200
            actor_url = json.loads(body)["links"][0]["href"]
            assert actor_url == f"{base}/actors/territoire"
            status, headers, body = get(actor_url)
            assert status == 200 and headers["Content-Type"] == "application/activity+json"
            actor = json.loads(body)
            assert actor["id"] == actor_url and actor["name"] == name
            keys.add(actor["publicKey"]["publicKeyPem"])
            info = json.loads(get(f"{base}/nodeinfo/2.1", "application/json")[2])
            assert info["metadata"]["nodeName"] == name
        assert len(keys) == 2  # independent nodes, independent keys
    finally:
        for _, _, _, process in nodes:
            stop(process)


def test_serve_without_configuration_creates_the_embedded_default(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "fresh"
    process = start_maillage("serve", "--port", str(port), MAILLAGE_DATA=str(data))
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", process)
        status, _, body = get(f"http://127.0.0.1:{port}/", "text/html")
        assert status == 200 and "Mon territoire" in body.decode()
    finally:
        code, out, _ = stop(process)
    first_line = out.splitlines()[0]
    assert first_line.startswith(f"No configuration in {data}: created an embedded default node")
    assert "SQLite" in first_line and "French" in first_line
    assert code == 0
    assert (data / "maillage.toml").exists()


def test_sigterm_finishes_in_flight_requests_then_exits_cleanly(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "node"
    base = f"http://127.0.0.1:{port}"
    assert run_maillage("init", "--data", str(data), "--base-url", base).returncode == 0
    process = start_maillage("serve", "--data", str(data))
    wait_until_serving(base, process)
    results: list[int] = []

    def request_home() -> None:
        try:
            # longer than the server's shutdown grace: a request it accepted must be answered
            results.append(get(f"{base}/", "text/html", timeout=SHUTDOWN_GRACE_SECONDS + 10)[0])
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
            results.append(-1)  # refused or closed before it started

    # Requests in flight while SIGTERM arrives: each completes or is refused before it
    # started; none is cut off mid-answer with an error status.
    threads = [threading.Thread(target=request_home) for _ in range(20)]
    for thread in threads:
        thread.start()
    process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(timeout=30)
    code, _, err = stop(process)
    assert code == 0, err
    assert len(results) == 20 and set(results) <= {200, -1}, results
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    messages = [entry["msg"] for entry in logs]
    assert "stopping: finishing in-flight requests" in messages and messages[-1] == "stopped"
    assert all(entry["level"] in ("info", "warning") for entry in logs), logs


def test_port_taken_gives_a_clear_message_and_exit_code(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_maillage("serve", "--data", str(tmp_path / "n"), "--port", str(port))
    assert result.returncode == 3
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_data_folder_gives_a_clear_message_and_exit_code(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for command in (["serve"], ["init", "--base-url", "http://127.0.0.1:8089"]):
        result = run_maillage(*command, "--data", str(blocker / "data"))
        assert result.returncode == 3, result.stderr
        assert "cannot write to" in result.stderr and "--data" in result.stderr
        assert "Traceback" not in result.stderr


def test_bad_configuration_is_reported_with_the_fix(tmp_path: Path) -> None:
    data = tmp_path / "node"
    assert (
        run_maillage("init", "--data", str(data), "--base-url", "http://127.0.0.1:8090").returncode
        == 0
    )
    toml = data / "maillage.toml"
    toml.write_text(
        toml.read_text().replace('level = "commune"', 'level = "city"\ncolour = "green"')
    )
    for command in (["check"], ["serve"], ["db", "upgrade"]):
        result = run_maillage(*command, "--data", str(data))
        assert result.returncode == 2, result.stderr
        assert "territory.level: expected one of commune" in result.stderr
        assert "territory.colour: unknown key" in result.stderr
        assert "Traceback" not in result.stderr


def test_init_refuses_bad_options_and_an_existing_node(tmp_path: Path) -> None:
    data = tmp_path / "node"
    result = run_maillage(
        "init", "--data", str(data), "--base-url", "http://127.0.0.1:8091", "--handle", "Bad Handle"
    )
    assert result.returncode == 2 and "territory.handle" in result.stderr
    assert not (data / "maillage.toml").exists()
    result = run_maillage("init", "--data", str(data))
    assert result.returncode == 2 and "--base-url is required" in result.stderr
    result = run_maillage(
        "init", "--data", str(data), "--base-url", "http://127.0.0.1:8091", "--timezone", "Paris"
    )
    assert result.returncode == 2, result.stderr
    assert (
        "territory.timezone: expected an IANA time zone name such as Europe/Paris" in result.stderr
    )
    assert "Traceback" not in result.stderr and not (data / "maillage.toml").exists()
    assert (
        run_maillage("init", "--data", str(data), "--base-url", "http://127.0.0.1:8091").returncode
        == 0
    )
    result = run_maillage("init", "--data", str(data), "--base-url", "http://127.0.0.1:8091")
    assert result.returncode == 2 and "already holds a node" in result.stderr


def test_options_come_from_the_environment(tmp_path: Path) -> None:
    data = tmp_path / "env-node"
    result = run_maillage(
        "init",
        MAILLAGE_DATA=str(data),
        MAILLAGE_BASE_URL="http://127.0.0.1:8092",
        MAILLAGE_NAME="Quartier Est",
        MAILLAGE_HANDLE="quartier-est",
        MAILLAGE_LANG="en",
    )
    assert result.returncode == 0, result.stderr
    toml = (data / "maillage.toml").read_text()
    assert 'name = "Quartier Est"' in toml and 'handle = "quartier-est"' in toml
    assert 'languages = ["en", "fr"]' in toml
    assert 'timezone = "Europe/Paris"' in toml  # English pages, still the French default zone
    assert "# IANA time zone" in toml


def test_init_writes_the_territory_time_zone(tmp_path: Path) -> None:
    data = tmp_path / "martinique"
    result = run_maillage(
        "init",
        "--data",
        str(data),
        "--base-url",
        "http://127.0.0.1:8096",
        "--timezone",
        "America/Martinique",
    )
    assert result.returncode == 0, result.stderr
    toml = (data / "maillage.toml").read_text()
    assert 'timezone = "America/Martinique"' in toml
    assert run_maillage("check", "--data", str(data)).returncode == 0


def test_check_finds_a_changed_handle_and_db_upgrade_reports(tmp_path: Path) -> None:
    data = tmp_path / "node"
    assert (
        run_maillage("init", "--data", str(data), "--base-url", "http://127.0.0.1:8093").returncode
        == 0
    )
    result = run_maillage("db", "upgrade", "--data", str(data))
    assert result.returncode == 0 and "already up to date" in result.stdout
    toml = data / "maillage.toml"
    toml.write_text(toml.read_text().replace('handle = "territoire"', 'handle = "autre"'))
    result = run_maillage("check", "--data", str(data))
    assert result.returncode == 2
    assert (
        "territory.handle is 'autre' but the territory was created as 'territoire'" in result.stderr
    )


def test_unreachable_postgresql_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()
    result = run_maillage(
        "init",
        "--data",
        str(tmp_path / "pg"),
        "--base-url",
        "http://127.0.0.1:8094",
        "--database-url",
        f"postgresql://maillage:secret@127.0.0.1:{port}/maillage",
    )
    assert result.returncode == 3, result.stderr
    assert "cannot use the database" in result.stderr and "secret" not in result.stderr
    assert not (tmp_path / "pg" / "maillage.toml").exists()


def test_init_on_postgresql(tmp_path: Path, postgres_server) -> None:
    url = postgres_server.create_database("cli_init").replace("+asyncpg", "")
    data = tmp_path / "pg-node"
    result = run_maillage(
        "init", "--data", str(data), "--base-url", "http://127.0.0.1:8095", "--database-url", url
    )
    assert result.returncode == 0, result.stderr
    assert run_maillage("check", "--data", str(data)).returncode == 0


def test_init_writes_the_limits_and_check_refuses_bad_ones(tmp_path: Path) -> None:
    data = tmp_path / "limits"
    result = run_maillage("init", "--data", str(data), "--base-url", "http://127.0.0.1:8097")
    assert result.returncode == 0, result.stderr
    toml = data / "maillage.toml"
    text = toml.read_text()
    assert "[limits]" in text and "login_lock_account_after = 10" in text
    assert run_maillage("check", "--data", str(data)).returncode == 0
    toml.write_text(text.replace("needs_per_hour = 10", "needs_per_hour = -1"))
    result = run_maillage("check", "--data", str(data))
    assert result.returncode == 2
    assert "limits.needs_per_hour: expected a whole number from 1 to 10000; got -1" in result.stderr
    assert "Traceback" not in result.stderr
