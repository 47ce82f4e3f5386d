"""The indicators dashboard in a real browser, on a real served node, through pages only.

The admin logs in with the one-time password of `maillage init`, chooses a new one, imports
the sample territory's indicator definitions and two years of observations through the import
page (a bad file first: its report names the row and the reason), then looks at the dashboard
and at one indicator's page, in French and in English. Screenshots go to
test-artifacts/indicators-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node.domain.indicators import DEFAULT_CATALOGUE
from tests.node.test_browser_resident import check_page, expect, submit
from tests.testrig.browser import screenshot
from tests.testrig.nodes import MaillageNode

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "territory"
PASSWORD = "Tableau-de-bord-2026"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaillageNode]:
    node = MaillageNode(tmp_path_factory.mktemp("dashboard"), "Saint-Tableau").start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def admin(browser: Any, served: MaillageNode) -> Iterator[Any]:
    """The admin's page, logged in with a chosen password; every 5xx answer is a failure."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(10_000)
    errors: list[str] = []
    context.on("response", lambda r: errors.append(r.url) if r.status >= 500 else None)
    page = context.new_page()
    page.goto(served.base + "/login")
    page.get_by_label("Identifiant").fill("admin")
    page.get_by_label("Mot de passe").fill(served.one_time_password)
    submit(page, "Se connecter")
    page.get_by_label("Mot de passe actuel").fill(served.one_time_password)
    page.get_by_label("Nouveau mot de passe (10 caractères au moins)").fill(PASSWORD)
    page.get_by_label("Nouveau mot de passe, à nouveau").fill(PASSWORD)
    submit(page, "Enregistrer")
    yield page
    context.close()
    assert errors == [], f"server errors: {errors}"


def test_import_the_sample_through_the_page(
    admin: Any, served: MaillageNode, tmp_path: Path
) -> None:
    admin.goto(served.base + "/indicators")
    admin.get_by_role("link", name="Importer un fichier CSV").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Importer des données d'indicateurs")
    check_page(admin)

    bad = tmp_path / "observations-avec-erreur.csv"
    bad.write_text("indicator,date,value\nlocal-food,2026-01-31,14\nlocal-food,31/01/2026,15\n")
    admin.get_by_label("Fichier CSV des observations").set_input_files(str(bad))
    submit(admin, "Importer les observations")
    expect(admin.get_by_role("alert").first).to_contain_text("rien n'a été enregistré")
    row = admin.get_by_role("row").filter(has_text="31/01/2026")
    expect(row).to_contain_text("3")
    expect(row).to_contain_text("Entrez une date au format AAAA-MM-JJ.")
    check_page(admin)
    screenshot(admin, "indicators-import-report-fr")

    admin.get_by_label("Fichier CSV des définitions").set_input_files(
        str(SAMPLE / "indicators.csv")
    )
    submit(admin, "Importer les définitions")
    expect(admin.get_by_role("status")).to_have_text("0 indicateur(s) ajouté(s) ; 8 mis à jour.")
    admin.get_by_label("Fichier CSV des observations").set_input_files(
        str(SAMPLE / "observations.csv")
    )
    submit(admin, "Importer les observations")
    expect(admin.get_by_role("status")).to_contain_text("192 observation(s) enregistrée(s)")


def test_dashboard_in_french_and_english(admin: Any, served: MaillageNode) -> None:
    admin.get_by_role("link", name="Voir le tableau de bord").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Indicateurs du territoire")
    check_page(admin)
    charts = admin.locator("svg.chart")
    expect(charts).to_have_count(len(DEFAULT_CATALOGUE))
    expect(admin.locator("svg.chart polyline.series")).to_have_count(8)
    energy = admin.get_by_role("article", name="Autonomie énergétique locale")
    expect(energy).to_contain_text("sur un an")
    expect(energy.get_by_role("img")).to_have_accessible_name(
        re.compile(r"^Autonomie énergétique locale 24 observation\(s\) du 2024-11-30 au 2026-10-31")
    )
    assert screenshot(admin, "indicators-dashboard-fr").stat().st_size > 50_000

    admin.get_by_role("link", name="English").click()
    admin.wait_for_load_state()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Indicators of the territory")
    expect(admin.get_by_role("heading", name="Local food autonomy")).to_be_visible()
    check_page(admin)
    screenshot(admin, "indicators-dashboard-en")


def test_one_indicator_page_in_english_and_french(admin: Any, served: MaillageNode) -> None:
    admin.get_by_role("link", name="Local energy autonomy").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Local energy autonomy")
    expect(admin.locator("table.observations tbody tr")).to_have_count(24)
    expect(admin.get_by_label("Date of the observation")).to_be_visible()
    check_page(admin)
    screenshot(admin, "indicators-local-energy-en")

    admin.get_by_role("link", name="Français").click()
    admin.wait_for_load_state()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Autonomie énergétique locale")
    admin.get_by_label("Date de l'observation").fill("2026-11-15")
    admin.get_by_label("Valeur (%)").fill("34,5")
    admin.get_by_label("Remarque").fill("Relevé intermédiaire")
    submit(admin, "Enregistrer l'observation")
    expect(admin.get_by_role("status")).to_have_text("L'observation a été enregistrée.")
    expect(admin.locator("table.observations tbody tr")).to_have_count(25)
    check_page(admin)
    screenshot(admin, "indicators-local-energy-fr")
