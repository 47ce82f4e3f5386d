"""Circles on the wire: a `Group` actor with `additionalType: tc:Circle`, its kind, mandate
and territory (vocabulary 5.3), and the status line Mastodon shows as its bio."""

from __future__ import annotations

from typing import Any

from instance_config import InstanceConfig
from node.convert.actors import actor_to_as
from node.convert.objects import territory_uri
from node.storage.keyring import LoadedKeys
from node.storage.models import Circle, LocalActor

#: the kinds of circle a territory has, with their French names (the pages translate them)
KIND_LABELS: dict[str, str] = {
    "working": "Cercle de travail",
    "activity": "Cercle d'activité",
    "triage": "Cercle de tri des besoins",
    "coordination": "Cercle de coordination",
}

#: the same names in the other language a territory may publish in
_ENGLISH_KINDS = {
    "working": "Working circle",
    "activity": "Activity circle",
    "triage": "Needs triage circle",
    "coordination": "Coordination circle",
}
_MANDATE = {"fr": "mandat : ", "en": "mandate: "}
#: how much of the mandate the status line quotes
STATUS_MANDATE_LENGTH = 120


def circle_page_path(slug: str) -> str:
    """Where people read about a circle (its actor lives at /actors/<slug>)."""
    return f"/circles/{slug}"


def circle_status_line(kind: str, mandate: str, language: str) -> str:
    """The circle's one-line description: "Cercle de travail · mandat : mobilités douces"."""
    english = language == "en"
    label = (_ENGLISH_KINDS if english else KIND_LABELS).get(kind, kind)
    first_line = " ".join(mandate.split())
    if not first_line:
        return label
    if len(first_line) > STATUS_MANDATE_LENGTH:
        first_line = first_line[: STATUS_MANDATE_LENGTH - 1].rstrip() + "…"
    return f"{label} · {_MANDATE['en' if english else 'fr']}{first_line}"


def circle_actor_fields(config: InstanceConfig, circle: Circle) -> dict[str, Any]:
    """What a circle's actor document adds to a Group's: kind, mandate, territory, page."""
    territory = territory_uri(config)
    return {
        "circleKind": circle.kind,
        "mandate": circle.mandate,
        "parentTerritory": territory,
        "audience": territory,
        "url": config.node.base_url + circle_page_path(circle.slug),
    }


def circle_actor_to_as(
    config: InstanceConfig, actor: LocalActor, circle: Circle, keys: LoadedKeys
) -> dict[str, Any]:
    """The circle's full actor document (served at /actors/<slug> and sent in Updates)."""
    return {**actor_to_as(config, actor, keys), **circle_actor_fields(config, circle)}
