"""`maillage demo`: the sample territory, filled by the real command on a fresh folder, shown
by a served node (its participation, map and indicators), refused on a node with residents'
data unless asked, on SQLite and PostgreSQL; its boundary set only where none is."""

from __future__ import annotations

import asyncio
import re
import tomllib
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from instance_config.load import load_config
from node.demo.fill import fill_demo
from node.demo.territory import set_boundary
from node.domain.participation import DecisionState
from node.services.participation.decision_closing import close_due_decisions
from node.storage.models import Decision, Vote
from node.web.app import create_app
from node.web.keys import runtime_key
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
#: the map and indicators, imported on a node that has none
KNOWLEDGE = ("Carte : 30 lieux, 40 acteurs, 60 flux", "Indicateurs : 8, 192 observations")
#: the sample's indicators (all but `active-circles`, which the node computes)
INDICATORS = (
    "assembly-attendance",
    "felt-isolation",
    "local-energy",
    "local-food",
    "participation-decisions",
    "time-bank-hours",
    "volunteer-hours",
    "well-being",
)


SAMPLE_DATA = Path(__file__).resolve().parents[2] / "node" / "demo" / "territory_data"


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


def assert_knowledge_shown(base: str) -> None:
    """The served map draws the sample's 30 places, the dashboard a chart per indicator."""
    map_page = page(base + "/map")
    main_map = re.search(r'<svg class="map"[\s\S]*?</svg>', map_page)
    assert main_map is not None
    assert main_map.group().count('<g class="place ') == 30
    assert 'class="boundary-area"' in main_map.group()
    assert "Acteurs (40)" in map_page and "Flux (60)" in map_page
    dashboard = page(base + "/indicators")
    charts = {
        slug: chart
        for chart, slug in re.findall(
            r'(<svg class="chart"[^>]*"chart-([a-z0-9-]+)-title[\s\S]*?</svg>)', dashboard
        )
    }
    assert sorted(charts) == sorted([*INDICATORS, "active-circles"])
    for slug in INDICATORS:  # two years of monthly values each
        assert "24 observation(s)" in charts[slug] and 'class="series"' in charts[slug], slug


def test_boundary_is_set_only_where_none_is(tmp_path: Path) -> None:
    config = tmp_path / "maillage.toml"
    text = (
        "# my node\n[node]\nbase_url = 'https://x.example'\n\n[territory]\n"
        "name = \"Saint-X\"  # the commune\nlevel = 'commune'\n\n# maps\n[map]\ntiles = ''\n"
    )
    config.write_text(text, encoding="utf-8")
    assert set_boundary(config, "boundary.geojson")
    written = config.read_text(encoding="utf-8")
    assert written == text.replace(
        "level = 'commune'\n", "level = 'commune'\nboundary = \"boundary.geojson\"\n"
    )
    assert tomllib.loads(written)["territory"]["boundary"] == "boundary.geojson"
    for already in (written, text.replace("[territory]\n", "[territory]\nboundary = 'b.json'\n")):
        config.write_text(already, encoding="utf-8")
        assert not set_boundary(config, "boundary.geojson")
        assert config.read_text(encoding="utf-8") == already
    no_section = "[node]\nbase_url = 'https://x.example'\n"
    config.write_text(no_section, encoding="utf-8")
    assert not set_boundary(config, "boundary.geojson")
    assert config.read_text(encoding="utf-8") == no_section


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
    for line in KNOWLEDGE:
        assert line in first.stdout
    assert f"Map: {base}/map (30 places" in first.stdout
    assert f"indicators: {base}/indicators (8 indicators, 192 observations)" in first.stdout
    assert "Log in as admin with the one-time password printed above." in first.stdout
    toml_text = (data / "maillage.toml").read_text(encoding="utf-8")
    config = tomllib.loads(toml_text)
    assert config["territory"]["name"] == "Saint-Aubin-sur-Loire"
    assert "2 300 habitant·es" in config["territory"]["description"]
    assert config["node"]["base_url"] == base and config["http"]["port"] == port
    assert config["territory"]["timezone"] == "Europe/Paris"
    # the commented example line of `init` became the setting, every other line kept
    assert config["territory"]["boundary"] == "boundary.geojson"
    assert '\nboundary = "boundary.geojson"\n' in toml_text and "# boundary" not in toml_text
    boundary = (data / "boundary.geojson").read_bytes()
    assert boundary == (SAMPLE_DATA / "boundary.geojson").read_bytes()
    assert f"boundary is now {data / 'boundary.geojson'}" in first.stdout

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
        assert_knowledge_shown(base)
    finally:
        code, _, err = stop(server)
    assert code == 0, err

    forced = run_maillage("demo", "--force", "--data", str(data))
    assert forced.returncode == 0, forced.stderr
    assert_filled(forced.stdout, base)
    assert "Log in with the node's admin account." in forced.stdout
    assert (data / "maillage.toml").read_text(encoding="utf-8") == toml_text
    # the map and indicators already there are kept, not imported twice
    assert "Carte : le nœud en a déjà une (30 lieux, 40 acteurs, 60 flux)" in forced.stdout
    assert "Indicateurs : le nœud a déjà les siens (192 observations" in forced.stdout
    assert not any(line in forced.stdout for line in KNOWLEDGE)
    assert "(the node's own map, kept as it was)" in forced.stdout
    assert "boundary is now" not in forced.stdout


def test_demo_on_postgresql(tmp_path: Path, postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database(f"demo_{uuid.uuid4().hex[:12]}").replace("+asyncpg", "")
    port, data = free_port(), tmp_path / "pg-node"
    base = f"http://127.0.0.1:{port}"
    init = run_maillage("init", "--data", str(data), "--base-url", base, "--database-url", url)
    assert init.returncode == 0, init.stderr
    demo = run_maillage("demo", "--data", str(data))
    assert demo.returncode == 0, demo.stderr
    assert_filled(demo.stdout, base)
    for line in KNOWLEDGE:
        assert line in demo.stdout
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


async def test_demo_fills_a_node_whose_decision_clock_runs_meanwhile(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """A served node closes every decision whose end has passed, on its own clock: the demo's
    past decisions still get all their votes, and close once."""
    data = tmp_path / "node"
    initialised = run_maillage("init", "--data", str(data), "--base-url", "http://127.0.0.1:8090")
    assert initialised.returncode == 0, initialised.stderr
    config = load_config(data, {})
    serving = await aiohttp_client(create_app(config, workers=False))
    runtime = serving.app[runtime_key]
    filled = asyncio.create_task(fill_demo(config, {}, progress=lambda _line: None))
    ticks = 0
    while not filled.done() and ticks < 20_000:  # the node's clock, ticking as fast as it can
        await close_due_decisions(runtime)
        await asyncio.sleep(0)
        ticks += 1
    report = await filled
    async with runtime.sessions() as session:
        votes = await session.scalar(select(func.count()).select_from(Vote))
        closed = await session.scalar(
            select(func.count()).select_from(Decision).where(Decision.state == DecisionState.CLOSED)
        )
    assert votes == report.counts["votes"] and votes > 0
    assert closed == 2
