"""Maillage objects of other nodes (experiments, proposals, offers...), kept as what they are."""

from __future__ import annotations

import html
import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.http import FetchError
from node.convert.objects import MAILLAGE_KINDS
from node.services.runtime import Runtime
from node.storage.base import utcnow
from node.storage.models import RemoteObject
from protocols.activitystreams import id_of, ids_of, origin_of, web_link
from protocols.html import html_to_text, sanitize_html


class RemoteObjectError(ValueError):
    """A URL that does not give a usable Maillage object; the message says why."""


def maillage_kind(document: Any) -> str | None:
    """The project class an object carries in `additionalType`, if it is one of ours."""
    if not isinstance(document, dict):
        return None
    for kind in ids_of(document.get("additionalType")) or [document.get("additionalType")]:
        if isinstance(kind, str) and kind in MAILLAGE_KINDS:
            return kind
    return None


def _text(document: dict[str, Any], key: str) -> str:
    value = document.get(key)
    return value if isinstance(value, str) else ""


#: The longest status line kept from a received object (ours are under 200 characters).
MAX_STATUS_LINE = 500


def _plain(document: dict[str, Any], key: str) -> str:
    """A plain-text property (our `headline`, `statusLine`) as clean text: read as text,
    never as markup, with the characters html_to_text drops dropped too."""
    return html_to_text(html.escape(_text(document, key), quote=False))


def title_of(document: dict[str, Any]) -> str:
    """The title of a received object as text: `name`, or our `headline` on the Notes and
    Questions that carry no `name` (other servers would show it as a content warning)."""
    return html_to_text(_text(document, "name")) or _plain(document, "headline")


def status_line_of(document: dict[str, Any]) -> str:
    """The status line of a received object as text: our `statusLine`, else `summary`
    (what older Maillage nodes, and Pages and Articles, carry)."""
    line = _plain(document, "statusLine") or html_to_text(_text(document, "summary"))
    return line[:MAX_STATUS_LINE]


#: The longest place name kept from a received object (an offer's `location.name`).
MAX_PLACE = 200


def place_of(document: dict[str, Any]) -> str:
    """Where a received object is (`location.name`: an offer's place) as text, so that pages
    show the stored column without reading the raw JSON as HTML again."""
    location = document.get("location")
    name = location.get("name") if isinstance(location, dict) else None
    return html_to_text(name)[:MAX_PLACE] if isinstance(name, str) else ""


async def store_remote_object(session: AsyncSession, document: dict[str, Any]) -> RemoteObject:
    """Insert or refresh a received object (its HTML sanitised, its link http(s) only, its
    raw JSON kept)."""
    kind = maillage_kind(document)
    if kind is None:
        raise RemoteObjectError("not a Maillage object (no known additionalType)")
    publisher = next(iter(ids_of(document.get("attributedTo"))), "")
    existing = (
        await session.scalars(select(RemoteObject).where(RemoteObject.uri == document["id"]))
    ).first()
    row = existing or RemoteObject(uri=document["id"], raw="{}")
    row.kind = kind
    row.actor_uri = publisher
    row.name = title_of(document)[:2048]
    row.summary = status_line_of(document)
    row.content = sanitize_html(_text(document, "content"))
    row.state = _text(document, "lifecycleState")[:32]
    row.url = web_link(id_of(document.get("url")), document["id"]) or None
    row.place = place_of(document)
    row.raw = json.dumps(document, ensure_ascii=False)
    row.updated = utcnow()
    row.deleted = False
    if existing is None:
        session.add(row)
    await session.flush()
    return row


async def mark_remote_object_deleted(session: AsyncSession, uri: str, actor: str) -> bool:
    """Forget a remote object its publisher deleted; True when there was one."""
    result = await session.execute(
        update(RemoteObject)
        .where(RemoteObject.uri == uri, RemoteObject.actor_uri == actor)
        .values(deleted=True, content="", summary="", place="")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def fetch_remote_object(runtime: Runtime, url: str) -> RemoteObject:
    """Fetch a Maillage object by URL (signed GET), check who publishes it, and keep it."""
    try:
        document = await runtime.client.fetch_document(url, await runtime.signers.instance_signer())
    except FetchError as exc:
        raise RemoteObjectError(f"cannot fetch {url}: {exc}") from None
    publisher = next(iter(ids_of(document.get("attributedTo"))), None)
    if publisher is None or origin_of(publisher) != origin_of(document["id"]):
        raise RemoteObjectError("the object's publisher is not on the object's server")
    async with runtime.sessions.begin() as session:
        return await store_remote_object(session, document)
