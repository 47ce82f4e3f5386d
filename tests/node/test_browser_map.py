"""The map page in a real browser, on a real served node of the sample commune: the admin
imports the sample territory through the import page, then the map is looked at in French
and in English (screenshots test-artifacts/map-*.png), filtered with the keyboard alone.

The tests run in file order and share one node: the map needs the import.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.testrig.browser import ARTIFACTS, screenshot
from tests.testrig.nodes import MaillageNode

expect: Any
try:  # Playwright is an optional test dependency: without it the `browser` fixture skips
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture reports it
    expect = None

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "territory"
TERRITORY = "Saint-Aubin-sur-Loire"
ADMIN_PASSWORD = "Une-carte-du-territoire-2026"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaillageNode]:
    """The commune's node, its boundary configured (as an admin would, in maillage.toml)."""
    node = MaillageNode(tmp_path_factory.mktemp("map"), TERRITORY)
    shutil.copy(SAMPLE / "boundary.geojson", node.data / "boundary.geojson")
    settings = node.data / "maillage.toml"
    text = settings.read_text(encoding="utf-8")
    assert '# boundary = "boundary.geojson"' in text
    settings.write_text(text.replace("# boundary =", "boundary ="), encoding="utf-8")
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def context(browser: Any) -> Iterator[Any]:
    """One browser context (one person's cookies) for the module, in French."""
    opened = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    opened.set_default_timeout(15_000)
    yield opened
    opened.close()


def submit(page: Any, button: str) -> None:
    """Press a form's button by its accessible name and wait for the next page."""
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def test_admin_imports_the_sample_territory(context: Any, served: MaillageNode) -> None:
    page = context.new_page()
    page.goto(served.base + "/login")
    page.get_by_label("Identifiant").fill("admin")
    page.get_by_label("Mot de passe").fill(served.one_time_password)
    submit(page, "Se connecter")
    page.get_by_label("Mot de passe actuel").fill(served.one_time_password)
    page.get_by_label("Nouveau mot de passe (10 caractères au moins)").fill(ADMIN_PASSWORD)
    page.get_by_label("Nouveau mot de passe, à nouveau").fill(ADMIN_PASSWORD)
    submit(page, "Enregistrer")
    page.goto(served.base + "/map")
    with page.expect_navigation():
        page.get_by_role("link", name="Saisir ou importer des lieux, acteurs et flux").click()
    page.goto(served.base + "/map/import")
    page.get_by_label("Lieux (CSV)").set_input_files(SAMPLE / "places.csv")
    page.get_by_label("Lieux et flux (GeoJSON)").set_input_files(SAMPLE / "places.geojson")
    page.get_by_label("Acteurs (CSV)").set_input_files(SAMPLE / "actors.csv")
    page.get_by_label("Flux (CSV)").set_input_files(SAMPLE / "flows.csv")
    submit(page, "Importer")
    expect(page.get_by_role("status")).to_contain_text("Import réussi")
    page.close()


def test_map_in_french_and_english(context: Any, served: MaillageNode) -> None:
    page = context.new_page()
    page.goto(served.base + "/map?lang=fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Carte du territoire")
    main = page.locator("svg.map:not(.map-zoom)")
    expect(main).to_be_visible()
    expect(main.locator("g.place")).to_have_count(30)
    assert main.locator("path.flow").count() >= 50
    expect(main.locator("g.legend-entry")).to_have_count(4 + 3 + 1)  # kinds and the boundary
    expect(page.locator("svg.map-zoom")).to_be_visible()
    expect(page.get_by_role("img", name=f"Carte de {TERRITORY}")).to_be_visible()
    # the names are readable: no two drawn names overlap, none leaves its map
    for svg in (main, page.locator("svg.map-zoom")):
        boxes = svg.locator("text.place-label").evaluate_all(
            "labels => labels.map(l => { const b = l.getBoundingClientRect();"
            " return [b.left, b.top, b.right, b.bottom]; })"
        )
        frame = svg.bounding_box()
        assert boxes and frame
        for index, (left, top, right, bottom) in enumerate(boxes):
            assert frame["x"] <= left and right <= frame["x"] + frame["width"] + 1
            for other in boxes[index + 1 :]:
                assert (
                    right <= other[0] or other[2] <= left or bottom <= other[1] or other[3] <= top
                )
    assert screenshot(page, "map-fr").stat().st_size > 50_000
    page.locator("figure.map-figure").first.screenshot(path=str(ARTIFACTS / "map-fr-figure.png"))
    page.locator("figure.map-figure").nth(1).screenshot(path=str(ARTIFACTS / "map-fr-zoom.png"))
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_have_text("Map of the territory")
    expect(main.locator("text.legend-heading").first).to_have_text("Places")
    screenshot(page, "map-en")
    page.locator("figure.map-figure").first.screenshot(path=str(ARTIFACTS / "map-en-figure.png"))
    page.close()


def test_filters_work_with_the_keyboard_alone(context: Any, served: MaillageNode) -> None:
    page = context.new_page()
    page.goto(served.base + "/map?lang=fr")
    box = page.get_by_label("Personnes et mobilité")
    box.focus()
    page.keyboard.press("Space")  # untick
    assert not box.is_checked()
    page.get_by_label("Informations et services").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Appliquer les filtres").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    flows = page.locator("svg.map:not(.map-zoom) path.flow")
    assert flows.count() > 0
    kinds = set(flows.evaluate_all("paths => paths.map(p => p.dataset.kind)"))
    assert kinds == {"resources_goods_energy"}
    expect(page.get_by_label("Personnes et mobilité")).not_to_be_checked()
    expect(page.get_by_role("link", name="Tout afficher")).to_be_visible()
    screenshot(page, "map-fr-filtered")
    page.close()
