"""What followers on other servers read of our objects: the `content` HTML, made of short
paragraphs (title, status line, text, key facts, a link back to the object's page), and the
`summary` status line of the types that show one.

Why the split (FEDERATION.md, "What followers see"): Mastodon shows the `summary` of a Note
or a Question as a content warning that hides the text, and GoToSocial uses `name` for that
warning when there is no `summary` (internal/typeutils/astointernal.go, ASStatusToStatus);
so Notes and Questions carry neither, and everything they say is in `content`. An Article
or a Page shows in Mastodon as its `name`, its `summary` and a link (reference/interop.md
3.2), so those keep a short status line as `summary`; Misskey shows `content` behind that
`summary`, so their `content` is readable on its own too.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

from node.domain.actors import FORMER_RESIDENT
from protocols.html import text_to_html

#: The Maillage types Mastodon converts to "title, summary, link"; the others are Notes and
#: Questions, shown with their full `content`.
TITLED_TYPES = frozenset({"Article", "Page"})

#: The words of the shared paragraphs, per language of the territory (French first).
_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "separator": " : ",
        "more": "Lire la suite et participer :",
        "place": "Lieu",
        "theme": "Thème",
        "answer": "Réponse du territoire",
        "dates": "Dates",
        "between": "du {start} au {end}",
        "from": "à partir du {day}",
        "until": "jusqu'au {day}",
        "replicates": "Réplique de",
        "adaptations": "Adaptations",
        "evaluates": "Expérimentation évaluée",
        "amends": "Proposition amendée",
        "rationale": "Motif",
        "vote": "Vote",
        "closing": "Clôture",
        "author": "Auteur·e",
        "former_resident": FORMER_RESIDENT,
    },
    "en": {
        "separator": ": ",
        "more": "Read more and take part:",
        "place": "Place",
        "theme": "Theme",
        "answer": "The territory's answer",
        "dates": "Dates",
        "between": "from {start} to {end}",
        "from": "from {day}",
        "until": "until {day}",
        "replicates": "Replicates",
        "adaptations": "Adaptations",
        "evaluates": "Evaluated experiment",
        "amends": "Amended proposal",
        "rationale": "Rationale",
        "vote": "Vote",
        "closing": "Closing",
        "author": "Author",
        "former_resident": "a former resident",
    },
}


def words(language: str) -> dict[str, str]:
    """The shared words in the territory's language (French when it has none of its own).

    >>> words("en")["separator"], words("de")["separator"]
    (': ', ' : ')
    """
    return _WORDS.get(language, _WORDS["fr"])


def status_html(line: str) -> str:
    """A plain status line as the HTML text a `summary` holds (AS2 `summary` is HTML).

    >>> status_html("Besoin · à trier · Cercle Vélo & Co")
    'Besoin · à trier · Cercle Vélo &amp; Co'
    """
    return html.escape(line, quote=False)


def title_paragraph(title: str) -> str:
    """The object's title, first and in bold, as Mastodon renders a converted title.

    >>> title_paragraph("Navette <du> samedi")
    '<p><strong>Navette &lt;du&gt; samedi</strong></p>'
    """
    return f"<p><strong>{html.escape(title, quote=False)}</strong></p>"


def facts_paragraph(facts: Sequence[tuple[str, str]], language: str) -> str:
    """Key facts, one "Label : value" line each (empty values left out), URLs as links.

    >>> facts_paragraph([("Lieu", "Mairie"), ("Thème", "")], "fr")
    '<p>Lieu : Mairie</p>'
    """
    separator = words(language)["separator"]
    lines = [f"{label}{separator}{value}" for label, value in facts if value]
    return text_to_html("\n".join(lines))


def link_paragraph(url: str, language: str, sentence: str = "") -> str:
    """The way back to the object's page: a sentence ending with its link.

    >>> link_paragraph("https://x.example/n/1", "fr").startswith(
    ...     '<p>Lire la suite et participer : <a href="https://x.example/n/1"')
    True
    """
    return text_to_html(f"{sentence or words(language)['more']} {url}")


def period(start: date | None, end: date | None, language: str) -> str:
    """A span of days as people write it: "du 01/04/2026 au 31/10/2026", "jusqu'au ...".

    >>> period(date(2026, 4, 1), date(2026, 10, 31), "fr")
    'du 01/04/2026 au 31/10/2026'
    >>> period(None, date(2026, 10, 31), "en"), period(None, None, "fr")
    ('until 31/10/2026', '')
    """
    chosen = words(language)
    if start and end:
        return chosen["between"].format(start=_day(start), end=_day(end))
    if end:
        return chosen["until"].format(day=_day(end))
    if start:
        return chosen["from"].format(day=_day(start))
    return ""


def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def readable_content(
    *,
    title: str,
    status: str,
    body: str,
    url: str,
    language: str,
    facts: Sequence[tuple[str, str]] = (),
    ending: str = "",
) -> str:
    """The whole `content`: title, status line, the object's own text (`body`, already
    HTML), its key facts, and `ending` (HTML holding the link to `url`) or, by default, a
    paragraph with that link."""
    parts = [
        title_paragraph(title),
        text_to_html(status, linkify=False),
        body,
        facts_paragraph(facts, language),
        ending or link_paragraph(url, language),
    ]
    return "".join(part for part in parts if part)
