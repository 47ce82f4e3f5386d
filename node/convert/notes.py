"""Notes (the territory's announcements, and remote posts) to and from ActivityStreams."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from instance_config import InstanceConfig
from node.storage.models import Note
from protocols.activitystreams import PUBLIC_ALIASES, id_of, ids_of, type_of, web_link
from protocols.html import sanitize_html
from protocols.jsonld.project_context import document_context
from protocols.links import is_web_url


def iso(moment: datetime) -> str:
    """ActivityStreams date-time: UTC with a Z, no microseconds."""
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def note_to_as(
    config: InstanceConfig, note: Note, tags: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """A local note as the Note document served at its id (a Tombstone once deleted)."""
    if note.deleted_at is not None:
        return tombstone(note.uri, "Note", note.deleted_at)
    language = note.language or config.territory.default_language
    document: dict[str, Any] = {
        "@context": document_context(),
        "id": note.uri,
        "type": "Note",
        "attributedTo": note.author_uri,
        "content": note.content,
        "contentMap": {language: note.content},
        "published": iso(note.published),
        "url": note.url or note.uri,
        "to": json.loads(note.to),
        "cc": json.loads(note.cc),
        "inReplyTo": note.in_reply_to,
        "replies": f"{note.uri}/replies",
    }
    if tags:
        document["tag"] = tags
    if note.summary:
        document["summary"] = note.summary
    if note.updated:
        document["updated"] = iso(note.updated)
    return document


def tombstone(uri: str, former_type: str, deleted: datetime) -> dict[str, Any]:
    """What a deleted object becomes: served with 410 Gone."""
    return {
        "@context": document_context(),
        "id": uri,
        "type": "Tombstone",
        "formerType": former_type,
        "deleted": iso(deleted),
    }


#: Object types received as posts. Maillage's own kinds arrive as these too (DESIGN.md's
#: table); other software's Article/Page degrade to notes with their name and summary.
POST_TYPES = frozenset({"Note", "Article", "Page", "Question", "Event", "Video"})


def note_from_as(document: dict[str, Any], published: datetime) -> Note:
    """A remote post as a Note row, with its HTML sanitised and its links http(s) only
    (never trusted: a javascript: `url` gives way to the post's id)."""
    content = document.get("content") if isinstance(document.get("content"), str) else ""
    name = document.get("name") if isinstance(document.get("name"), str) else ""
    if type_of(document) != "Note" and name:
        content = f"<p><strong>{sanitize_html(name)}</strong></p>{content}"
    to, cc = ids_of(document.get("to")), ids_of(document.get("cc"))
    mentions = [
        href
        for tag in document.get("tag", [])
        if isinstance(document.get("tag"), list)
        if isinstance(tag, dict) and tag.get("type") == "Mention" and (href := id_of(tag))
    ]
    return Note(
        uri=document["id"],
        local=False,
        author_uri=next(iter(ids_of(document.get("attributedTo"))), ""),
        in_reply_to=_web_url(id_of(document.get("inReplyTo"))),
        url=web_link(id_of(document.get("url")), document["id"]) or None,
        summary=sanitize_html(document["summary"])
        if isinstance(document.get("summary"), str)
        else "",
        content=sanitize_html(content),
        visibility=_visibility(to, cc),
        to=json.dumps(to),
        cc=json.dumps(cc),
        mentions=json.dumps(mentions),
        published=published,
    )


def _web_url(value: str | None) -> str | None:
    """The value if it is an http(s) URL (links and thread lookups use it), else None."""
    return value if is_web_url(value) else None


def _visibility(to: list[str], cc: list[str]) -> str:
    if any(a in PUBLIC_ALIASES for a in to):
        return "public"
    if any(a in PUBLIC_ALIASES for a in cc):
        return "unlisted"
    return "direct" if not any(a.endswith("/followers") for a in to + cc) else "followers"
