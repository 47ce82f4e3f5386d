"""The home page in a real browser: French by default, English by the switch, keyboard skip link."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.testrig.browser import screenshot
from tests.testrig.nodes import MaillageNode


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaillageNode]:
    node = MaillageNode(tmp_path_factory.mktemp("browser"), "Saint-Navigateur").start()
    yield node
    node.stop()


def test_home_page_switches_language_and_is_keyboard_usable(
    browser: Any, served: MaillageNode
) -> None:
    page = browser.new_page(locale="fr-FR")
    try:
        page.goto(served.base + "/")
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.get_by_role("heading", level=1).inner_text() == "Saint-Navigateur"
        page.keyboard.press("Tab")  # the first stop is the skip link
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
        path: Path = screenshot(page, "home-fr")
        assert path.stat().st_size > 10_000
        page.get_by_role("link", name="English").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role(
            "heading", name="Follow this territory from the fediverse"
        ).is_visible()
        screenshot(page, "home-en")
        page.goto(served.base + "/")  # the choice is remembered
        assert page.locator("html").get_attribute("lang") == "en"
    finally:
        page.close()
