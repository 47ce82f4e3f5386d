"""The territory's public activity as an Atom feed (RFC 4287), for feed readers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from aiohttp import web

from instance_config import InstanceConfig
from node import __version__
from node.convert.objects import territory_uri
from node.domain.local_time import local_iso
from node.services.moderation.visibility import moderation_marks
from node.services.pages.activity_feed import (
    FEED_SIZE,
    ActivityEntry,
    latest_per_object,
    recent_activity,
)
from node.storage.base import utcnow
from node.web.i18n import SUPPORTED, Translate, translator
from node.web.keys import runtime_key
from protocols.links import safe_link

routes = web.RouteTableDef()

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
FEED_PATH = "/feed.atom"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Characters XML 1.0 forbids: a title typed with a control character must not break the feed.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")

ET.register_namespace("", ATOM)


def _text(value: str) -> str:
    return _FORBIDDEN.sub("", value)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = _text(text)
    return element


def entry_summary(entry: ActivityEntry, _: Translate) -> str:
    """What happened, in words: "Besoin · soumis → confié à un cercle", or the kind alone
    for a publication ("Besoin")."""
    if not entry.event:
        return _(entry.kind_label)
    event = f"{_(entry.previous)} → {_(entry.event)}" if entry.previous else _(entry.event)
    return f"{_(entry.kind_label)} · {event}"


def atom_feed(
    config: InstanceConfig, entries: Sequence[ActivityEntry], _: Translate, language: str
) -> bytes:
    """The Atom document: the feed's metadata, then one entry per object, newest first; its
    times are on the territory's clock, with their offset (RFC 3339 allows both)."""
    base, zone = config.node.base_url, config.territory.zone
    feed = ET.Element(f"{{{ATOM}}}feed", {_XML_LANG: language})
    _add(feed, "id", base + FEED_PATH)
    _add(feed, "title", config.territory.name)
    _add(feed, "subtitle", _("Activité publique du territoire"))
    _add(feed, "updated", local_iso(entries[0].at if entries else utcnow(), zone))
    _add(feed, "link", rel="self", type=ATOM_TYPE, href=base + FEED_PATH)
    _add(feed, "link", rel="alternate", type="text/html", href=base + "/")
    author = _add(feed, "author")
    _add(author, "name", config.territory.name)
    _add(author, "uri", territory_uri(config))
    _add(feed, "generator", "Maillage", version=__version__)
    for entry in entries:
        element = _add(feed, "entry")
        _add(element, "id", entry.uri)
        _add(element, "title", f"{_(entry.kind_label)} : {entry.title}")
        _add(element, "updated", local_iso(entry.at, zone))
        _add(element, "link", rel="alternate", type="text/html", href=safe_link(entry.uri))
        _add(element, "category", term=entry.kind, label=_(entry.kind_label))
        _add(element, "summary", entry_summary(entry, _))
        _add(element, "content", entry.content_html, type="html")
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


@routes.get(FEED_PATH)
async def feed_get(request: web.Request) -> web.StreamResponse:
    """The latest public activity of the territory (50 entries), in its default language."""
    runtime = request.app[runtime_key]
    config = runtime.config
    language = config.territory.default_language
    language = language if language in SUPPORTED else "fr"
    # several changes of one object make one entry: read more, keep the newest per object
    entries = latest_per_object(await recent_activity(runtime, limit=3 * FEED_SIZE))
    hidden = (await moderation_marks(runtime.sessions, [e.uri for e in entries])).hidden
    entries = [entry for entry in entries if entry.uri not in hidden][:FEED_SIZE]
    body = atom_feed(config, entries, translator(language), language)
    return web.Response(body=body, content_type=ATOM_TYPE, charset="utf-8")
