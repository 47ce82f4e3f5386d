"""The common shape of every Maillage object on the wire (DESIGN.md, "Federation model"):
one AS2 type Mastodon renders, the domain class in `additionalType`, readable `content` with
a link back, `url`, the project context inline; `name` and the status line as `summary` only
on the types Mastodon shows as "title, summary, link" (Article, Page). Our own nodes read the
title and the status line of every kind in `headline` and `statusLine` (fediverse_html.py
says why Notes and Questions carry neither `name` nor `summary`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from instance_config import InstanceConfig
from node.convert.fediverse_html import TITLED_TYPES, status_html
from node.convert.notes import iso
from protocols.activitystreams import PUBLIC
from protocols.html import sanitize_html
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
    status_line: str,
    content: str,
    published: datetime,
    updated: datetime | None = None,
    extra: dict[str, Any] | None = None,
    addressed_to: list[str] | None = None,
) -> dict[str, Any]:
    """A document for one of the node's objects, published by the territory actor.

    `name` is the title and `status_line` the generated plain-text line ("Expérimentation ·
    en cours · 3 indicateurs"): an Article or a Page shows them as `name` and `summary`
    under the title in Mastodon; a Note or a Question keeps them for our peers only
    (`headline`, `statusLine`), its `content` saying it all. `content` is HTML, sanitised
    here once more; `addressed_to` adds actors (neighbouring territories) to `cc`.
    """
    language = config.territory.default_language
    publisher = territory_uri(config)
    content = sanitize_html(content)
    document: dict[str, Any] = {
        "@context": document_context(),
        "id": uri,
        "type": as_type,
        "additionalType": additional_type,
        "attributedTo": publisher,
        "audience": publisher,
        "statusLine": status_line,
    }
    if as_type in TITLED_TYPES:
        summary = status_html(status_line)
        document |= {
            "name": name,
            "nameMap": {language: name},
            "summary": summary,
            "summaryMap": {language: summary},
        }
    else:
        document["headline"] = name
    document |= {
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
