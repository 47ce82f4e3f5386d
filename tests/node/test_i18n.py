"""Every French text of the pages has its English translation."""

from __future__ import annotations

import re
from pathlib import Path

from instance_config import TerritoryLevel
from node.web.errors import _TITLES
from node.web.i18n import choose_language, english
from node.web.routes.actors import _KIND_LABELS

TEMPLATES = Path(__file__).resolve().parents[2] / "node" / "web" / "templates"
LITERAL = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")


def test_every_template_text_is_translated() -> None:
    texts = {
        m.group(2) for path in TEMPLATES.rglob("*.html") for m in LITERAL.finditer(path.read_text())
    }
    texts |= {level.value for level in TerritoryLevel}
    texts |= set(_KIND_LABELS.values()) | set(_TITLES.values()) | {"Erreur"}
    missing = sorted(texts - set(english()))
    assert texts and missing == []


#: Texts that reach templates as values (states, levels), not as literals in the sources.
DYNAMIC = {level.value for level in TerritoryLevel} | {"pending", "accepted", "rejected"}


def test_catalogue_has_no_stale_entry() -> None:
    package = TEMPLATES.parent.parent
    sources = "".join(
        path.read_text() for path in package.rglob("*") if path.suffix in (".py", ".html")
    )
    stale = [text for text in english() if text not in sources and text not in DYNAMIC]
    assert stale == []


def test_accept_language_ranking() -> None:
    class FakeRequest:  # only the three attributes choose_language reads
        def __init__(self, header: str) -> None:
            self.query: dict[str, str] = {}
            self.cookies: dict[str, str] = {}
            self.headers = {"Accept-Language": header}

    assert choose_language(FakeRequest("de-DE,en;q=0.8,fr;q=0.9"), "fr") == "fr"  # type: ignore[arg-type]
    assert choose_language(FakeRequest("de, en-US;q=0.5"), "fr") == "en"  # type: ignore[arg-type]
    assert choose_language(FakeRequest("de"), "en") == "en"  # type: ignore[arg-type]
    assert choose_language(FakeRequest("en;q=0, fr;q=bad"), "fr") == "fr"  # type: ignore[arg-type]
