"""The Content-Security-Policy in a real browser, on a served node of the sample commune:
the key pages (home, a need, a proposal, the map, the indicators and one indicator's charts,
the login form and the admin page behind it) load with no violation reported, while an
inline style added to a page is blocked and reported (so the listener does hear them).
The pages still look as designed: the indicator cards keep the stylesheet's grid.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.node.test_browser_phone_width import log_in_as_admin
from tests.testrig.nodes import MaillageNode

#: Collects the violations a page reports, from before its first script would run.
LISTEN = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaillageNode]:
    """A served node filled with the sample commune by `maillage demo`."""
    node = MaillageNode(tmp_path_factory.mktemp("csp"), "Saint-Aubin-sur-Loire")
    node.cli("demo")
    node.start()
    yield node
    node.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page that records the violations it reports and the console's CSP messages."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(LISTEN)
    opened = context.new_page()
    opened.console_errors = []
    opened.on(
        "console",
        lambda message: (
            opened.console_errors.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield opened
    context.close()


def first_link(page: Any, pattern: str) -> str:
    """The first link of the page whose path matches."""
    links = page.evaluate("() => Array.from(document.querySelectorAll('a[href]'), a => a.href)")
    found = next((link for link in links if re.search(pattern, link)), None)
    assert found, f"no link matching {pattern}"
    return str(found)


def visit(page: Any, url: str) -> list[str]:
    """Load a page; the violations it reported and the console's CSP messages."""
    response = page.goto(url)
    assert response.status == 200, url
    assert "script-src 'none'" in response.headers["content-security-policy"], url
    page.wait_for_load_state("load")
    return [f"{url}: {v}" for v in page.evaluate("window.__violations") + page.console_errors]


def test_key_pages_report_no_policy_violation(page: Any, served: MaillageNode) -> None:
    base = served.base
    problems = visit(page, base + "/")
    problems += visit(page, base + "/needs")
    problems += visit(page, first_link(page, r"/needs/[0-9a-z]{26}$"))
    problems += visit(page, base + "/proposals")
    problems += visit(page, first_link(page, r"/proposals/[0-9a-z]{26}$"))
    problems += visit(page, base + "/map")
    assert page.locator("svg.map").first.is_visible()
    problems += visit(page, base + "/indicators")
    grid = page.evaluate("getComputedStyle(document.querySelector('ul.indicator-cards')).display")
    assert grid == "grid"  # the indicator pages' rules, now in the stylesheet, apply
    problems += visit(page, first_link(page, r"/indicators/[a-z0-9-]+$"))
    assert page.locator("svg.chart").first.is_visible()
    log_in_as_admin(page, served)  # the login and password forms post under form-action
    problems += visit(page, base + "/admin")
    assert problems == []


def test_an_inline_style_is_blocked_and_reported(page: Any, served: MaillageNode) -> None:
    assert visit(page, served.base + "/") == []
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', '<p id=canary style=\"color: red\">x</p>')"
    )
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("window.__violations")[0].startswith("style-src")
    colour = page.evaluate("getComputedStyle(document.getElementById('canary')).color")
    assert colour != "rgb(255, 0, 0)"
