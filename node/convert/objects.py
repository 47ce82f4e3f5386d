"""The common shape of every Maillage object on the wire (DESIGN.md, "Federation model"):
one AS2 type Mastodon renders, the domain class in `additionalType`, `name`, a generated
status line as `summary`, `content`, `url`, their `*Map` forms, the project context inline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from instance_config import InstanceConfig
from node.convert.notes import iso
from protocols.activitystreams import PUBLIC
from protocols.jsonld.project_context import document_context

#: additionalType -> what the node stores a received one as (RemoteObject.kind)
MAILLAGE_KINDS = frozenset(
    {"tc:Proposal", "tc:Decision", "tc:Experiment", "tc:Evaluation", "vf:Proposal"}
)


def territory_uri(config: InstanceConfig) -> str:
    """The territory actor's id (the publisher of every object)."""
    return f"{config.node.base_url}/actors/{config.territory.handle}"


def maillage_object(
    config: InstanceConfig,
    *,
    as_type: str,
    additional_type: str,
    uri: str,
    name: str,
    summary: str,
    content: str,
    published: datetime,
    updated: datetime | None = None,
    extra: dict[str, Any] | None = None,
    addressed_to: list[str] | None = None,
) -> dict[str, Any]:
    """A document for one of the node's objects, published by the territory actor.

    `summary` is the status line Mastodon shows under the title ("Expérimentation · en cours
    · 3 indicateurs"); `content` is sanitised HTML; `addressed_to` adds actors (neighbouring
    territories) to `cc`.
    """
    language = config.territory.default_language
    publisher = territory_uri(config)
    document: dict[str, Any] = {
        "@context": document_context(),
        "id": uri,
        "type": as_type,
        "additionalType": additional_type,
        "attributedTo": publisher,
        "audience": publisher,
        "name": name,
        "nameMap": {language: name},
        "summary": summary,
        "summaryMap": {language: summary},
        "content": content,
        "contentMap": {language: content},
        "url": uri,
        "published": iso(published),
        "to": [PUBLIC],
        "cc": [f"{publisher}/followers", *(addressed_to or [])],
    }
    if updated is not None:
        document["updated"] = iso(updated)
    document.update(extra or {})
    return document
