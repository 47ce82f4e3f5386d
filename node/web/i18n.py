"""French-first pages with English translations; the visitor's language is chosen per request.

Templates are written in French and wrap text in `_()`; the files of locales/en/ map each
French text to its English translation, one file per part of the node (a test checks that
none is missing).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from aiohttp import web

from node.domain.texts import FilledText

Translate = Callable[[str], str]

SUPPORTED = ("fr", "en")
LANGUAGE_COOKIE = "lang"

LOCALES = Path(__file__).parent / "locales"


@cache
def english() -> dict[str, str]:
    """The English catalogue: French text -> English text, from every locales/en/*.json."""
    catalogue: dict[str, str] = {}
    for path in sorted((LOCALES / "en").glob("*.json")):
        catalogue |= json.loads(path.read_text(encoding="utf-8"))
    return catalogue


def translator(language: str) -> Translate:
    """The `_()` function for a language: English looks texts up, French returns them; a
    FilledText is looked up by its template, then filled."""
    if language != "en":
        return lambda text: text
    catalogue = english()

    def translate(text: str) -> str:
        if isinstance(text, FilledText):
            return catalogue.get(text.template, text.template) % text.values
        return catalogue.get(text, text)

    return translate


def choose_language(request: web.Request, default: str) -> str:
    """The page language: ?lang=, then the cookie, then Accept-Language, then the default."""
    for candidate in (request.query.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in SUPPORTED:
            return candidate
    for language in _accept_language(request.headers.get("Accept-Language", "")):
        if language in SUPPORTED:
            return language
    return default if default in SUPPORTED else SUPPORTED[0]


def _accept_language(header: str) -> list[str]:
    """Primary language tags of an Accept-Language header, best first."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            ranked.append((-quality, position, tag.split("-")[0].lower()))
    return [tag for _, _, tag in sorted(ranked)]
