"""`maillage demo`: the sample territory, filled by the real command on a fresh folder, shown
by a served node, refused on a node with residents' data unless asked, on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
import tomllib
import uuid
from pathlib import Path

from tests.testrig.postgres import PostgresServer, free_port
from tests.testrig.processes import get, run_maillage, start_maillage, stop, wait_until_serving

PROGRESS = (
    "Habitant·es : 14 (dont 2 facilitateur·ices)",
    "Cercles : 2",
    "Besoins : 12 (3 à trier, 2 confiés à un cercle, 5 repris dans une proposition, "
    "1 répondu, 1 fusionné)",
    "Décisions : 3 (1 ouverte, 2 closes)",
    "Propositions : 4 (1 brouillon, 1 en délibération, 1 en projet, 1 évaluée) · 2 amendements",
    "Expérimentations : 2 (1 en cours, 1 terminée) · 85 mesures · 1 évaluation",
    "Offres et demandes : 8 (6 ouvertes, 1 pourvue, 1 fermée)",
    "Annonces du territoire : 4",
)


def page(url: str) -> str:
    status, _, body = get(url, accept="text/html")
    assert status == 200, url
    return body.decode()


def link(html: str, kind: str, title: str) -> str:
    """The path of the first link to /<kind>/<id> whose text holds `title`."""
    for path, text in re.findall(rf'href="(/{kind}/[0-9a-z]{{26}})"[^>]*>([^<]*)<', html):
        if title in text:
            return str(path)
    raise AssertionError(f"no link to a {kind} titled {title!r}")


def assert_filled(result_stdout: str, base: str) -> None:
    for line in PROGRESS:
        assert line in result_stdout
    assert "Sample territory ready" in result_stdout
    assert "Saint-Aubin-sur-Loire, with 14 residents" in result_stdout
    assert f"open {base}/" in result_stdout


def test_help_documents_the_demo_options() -> None:
    help_text = run_maillage("demo", "--help").stdout
    for option in ("--data", "--force", "--if-empty", "--port"):
        assert option in help_text


def test_demo_fills_a_fresh_folder_that_then_shows_a_living_territory(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "node"
    base = f"http://127.0.0.1:{port}"
    first = run_maillage("demo", "--data", str(data), "--port", str(port))
    assert first.returncode == 0, first.stderr
    assert "created an embedded default node" in first.stdout
    assert "Admin one-time password: " in first.stdout
    assert_filled(first.stdout, base)
    assert "Log in as admin with the one-time password printed above." in first.stdout
    config = tomllib.loads((data / "maillage.toml").read_text(encoding="utf-8"))
    assert config["territory"]["name"] == "Saint-Aubin-sur-Loire"
    assert "2 300 habitant·es" in config["territory"]["description"]
    assert config["node"]["base_url"] == base and config["http"]["port"] == port

    again = run_maillage("demo", "--data", str(data))
    assert again.returncode == 2
    assert "already has residents' data (14 other accounts, 12 needs" in again.stderr
    assert "--force" in again.stderr
    skipped = run_maillage("demo", "--if-empty", "--data", str(data))
    assert skipped.returncode == 0, skipped.stderr
    assert skipped.stdout.strip() == f"{data} already has residents' data; left as it is."

    server = start_maillage("serve", "--data", str(data))
    try:
        wait_until_serving(base, server)
        home = page(base + "/")
        assert "Saint-Aubin-sur-Loire" in home and "Expérimentation réussie" in home
        needs = page(base + "/needs")
        assert "Besoins (12)" in needs
        for text in ("Composter nos déchets", "fusionné", "répondu", "à trier"):
            assert text in needs
        decision = page(base + link(page(base + "/decisions"), "decisions", "navette solidaire"))
        assert "Résultat du vote" in decision and "Proposition adoptée." in decision
        assert "10 votant·e(s) sur 15" in decision
        experiments = page(base + "/experiments")
        experiment = page(base + link(experiments, "experiments", "Composteurs de quartier"))
        assert "terminée" in experiment and "Mesures (23)" in experiment
        assert experiment.count("<svg") >= 3 and "généraliser" in experiment
        running = page(base + link(experiments, "experiments", "Navette solidaire"))
        assert "en cours" in running and "Mesures (8)" in running and "<svg" in running
        offers = page(base + "/offers")
        assert "6 offre(s) ou demande(s) ouvertes" in offers
        assert "Remorque vélo à prêter" in offers and "minimum 200 kg" in offers
    finally:
        code, _, err = stop(server)
    assert code == 0, err

    forced = run_maillage("demo", "--force", "--data", str(data))
    assert forced.returncode == 0, forced.stderr
    assert_filled(forced.stdout, base)
    assert "Log in with the node's admin account." in forced.stdout
    assert (data / "maillage.toml").read_text(encoding="utf-8").count("Saint-Aubin") == 1


def test_demo_on_postgresql(tmp_path: Path, postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database(f"demo_{uuid.uuid4().hex[:12]}").replace("+asyncpg", "")
    port, data = free_port(), tmp_path / "pg-node"
    base = f"http://127.0.0.1:{port}"
    init = run_maillage("init", "--data", str(data), "--base-url", base, "--database-url", url)
    assert init.returncode == 0, init.stderr
    demo = run_maillage("demo", "--data", str(data))
    assert demo.returncode == 0, demo.stderr
    assert_filled(demo.stdout, base)
    assert "The territory is now named Saint-Aubin-sur-Loire" in demo.stdout
    refused = run_maillage("demo", "--data", str(data))
    assert refused.returncode == 2 and "--force" in refused.stderr
    server = start_maillage("serve", "--data", str(data))
    try:
        wait_until_serving(base, server)
        assert "Besoins (12)" in page(base + "/needs")
        decisions = page(base + "/decisions")
        assert "Résultat du vote" in page(base + link(decisions, "decisions", "composteurs"))
    finally:
        stop(server)
