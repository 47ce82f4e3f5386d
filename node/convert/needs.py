"""Needs on the wire (vocabulary.md 5.4): a `Page` with `additionalType: tc:Proposal` and
`proposalKind: need`, its state, support count, circle, merge target and answer; plus the
French labels of themes and states that pages and status lines share."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from instance_config import InstanceConfig
from node.convert.fediverse_html import readable_content, words
from node.convert.notes import iso
from node.convert.objects import maillage_object, territory_uri
from node.convert.status_words import count_in, label_in, status_words
from node.storage.models import Need
from protocols.html import text_to_html

#: The fixed themes of needs and proposals: token -> French label (the pages translate it).
THEMES: dict[str, str] = {
    "mobility": "Mobilités",
    "food": "Alimentation",
    "energy": "Énergie",
    "housing": "Logement",
    "health": "Santé",
    "education": "Éducation",
    "culture": "Culture",
    "environment": "Environnement",
    "economy": "Économie locale",
    "social_ties": "Lien social",
    "public_space": "Espaces publics",
    "other": "Autre",
}

#: A need's states as people read them (NeedState token -> French label).
NEED_STATE_LABELS: dict[str, str] = {
    "submitted": "à trier",
    "in_circle": "confié à un cercle",
    "in_proposal": "repris dans une proposition",
    "answered": "répondu",
    "merged": "fusionné",
}


def count_label(count: int, singular: str, plural: str) -> str:
    """ "1 soutien", "12 soutiens" (French: 0 and 1 take the singular).

    >>> count_label(0, "soutien", "soutiens"), count_label(12, "soutien", "soutiens")
    ('0 soutien', '12 soutiens')
    """
    return f"{count} {singular if count < 2 else plural}"


def status_line(*parts: str) -> str:
    """The generated status line (the `summary` Mastodon shows under a Page's title):
    parts joined by " · "."""
    return " · ".join(part for part in parts if part)


def hashtag(theme: str) -> str:
    """A theme's hashtag, without accents or spaces ("Économie locale" -> "economielocale").

    >>> hashtag("energy")
    'energie'
    """
    label = THEMES.get(theme, theme)
    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def theme_tag(config: InstanceConfig, theme: str) -> dict[str, str]:
    """The Hashtag of a theme, linking to the node's list filtered by it."""
    return {
        "type": "Hashtag",
        "name": f"#{hashtag(theme)}",
        "href": f"{config.node.base_url}/needs?theme={theme}",
    }


def circle_label(name: str, language: str = "fr") -> str:
    """A circle as named in a sentence: "Cercle Mobilités" stays, "Mobilités" becomes
    "cercle Mobilités" ("Mobilités circle" in English)."""
    if language == "en":
        return name if "circle" in name.lower() else f"{name} circle"
    return name if name.lower().startswith("cercle") else f"cercle {name}"


def author_fact(language: str, author_left: bool) -> list[tuple[str, str]]:
    """The "Auteur·e : un·e ancien·ne résident·e" line of an object whose author deleted
    their account, in the territory's language (nothing for other objects: the documents
    name no resident).

    >>> author_fact("en", True), author_fact("fr", False)
    ([('Author', 'a former resident')], [])
    """
    chosen = words(language)
    return [(chosen["author"], chosen["former_resident"])] if author_left else []


def need_summary(need: Need, supports: int, circle_name: str | None, language: str = "fr") -> str:
    """ "Besoin · à trier · 12 soutiens"; a need in a circle names it (in the territory's
    language)."""
    said = status_words(language)
    state = label_in(language, NEED_STATE_LABELS.get(need.state, need.state))
    if need.state == "in_circle" and circle_name:
        state = said["in_circle"].format(circle=circle_label(circle_name, language))
    supported = count_in(language, supports, said["support"], said["supports"])
    return status_line(said["need"], state, supported)


def need_to_as(
    config: InstanceConfig,
    need: Need,
    *,
    supports: int,
    circle_uri: str | None = None,
    circle_name: str | None = None,
    merged_into_uri: str | None = None,
    answered_at: datetime | None = None,
    author_left: bool = False,
) -> dict[str, Any]:
    """The document served at a need's URL and sent in its Create and Updates: its text,
    place, theme and answer are also in `content`, for servers that show it. Authors are
    not named, except that a need whose author deleted their account says so
    (`author_left`)."""
    language = config.territory.default_language
    extra: dict[str, Any] = {
        "proposalKind": "need",
        "lifecycleState": need.state,
        "supportCount": supports,
        "theme": need.theme,
        "tag": [theme_tag(config, need.theme)],
    }
    if circle_uri:
        extra["assignedTo"] = circle_uri
    if merged_into_uri:
        extra["mergedInto"] = merged_into_uri
    body = text_to_html(need.text)
    if need.answer:
        answer_html = text_to_html(need.answer)
        extra["answer"] = {
            "type": "Note",
            "attributedTo": territory_uri(config),
            "content": answer_html,
            "contentMap": {language: answer_html},
            "published": iso(answered_at or need.updated_at),
        }
        body += f"<p><strong>{words(language)['answer']}</strong></p>{answer_html}"
    if need.place:
        extra["location"] = {"type": "Place", "name": need.place}
    status = need_summary(need, supports, circle_name, language)
    facts = [
        (words(language)["place"], need.place),
        (words(language)["theme"], THEMES.get(need.theme, need.theme)),
        *author_fact(language, author_left),
    ]
    return maillage_object(
        config,
        as_type="Page",
        additional_type="tc:Proposal",
        uri=need.uri,
        name=need.title,
        status_line=status,
        content=readable_content(
            title=need.title,
            status=status,
            body=body,
            url=need.uri,
            language=language,
            facts=facts,
        ),
        published=need.created_at,
        updated=need.updated_at,
        extra=extra,
    )
