"""Mastodon's client API entities (docs entities/*), in one place: Account, Status, Poll,
Relationship, Notification, Instance. The services gather what the node holds; these pure
functions give it Mastodon's shapes, so that an app made for Mastodon reads the node as it
reads Mastodon. Status and Poll are built from ActivityStreams documents, as Mastodon builds
them for remote posts: the territory's proposals and decisions read as its followers see them.
What a Status shows as HTML comes from what the node stores already cleaned (StatusText):
HTML is sanitised once, when it is stored, never on an API request."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from instance_config import InstanceConfig
from node.storage.models import Note, RemoteObject
from protocols.activitystreams import as_list, id_of, type_of
from protocols.html import html_to_text, stored_html_to_text
from protocols.links import is_web_url

#: The Mastodon version clients parse (text before the first space), then our own.
MASTODON_VERSION = "4.3.0"
#: api_versions.mastodon of Mastodon 4.3.0 (lib/mastodon/version.rb)
MASTODON_API_VERSION = 2
MAX_STATUS_CHARS = 5000
MAX_POLL_OPTIONS = 10


def api_time(moment: datetime | None) -> str | None:
    """RFC 3339 with milliseconds and an upper-case Z, as Mastodon writes (some clients need
    the fraction)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_as_time(value: Any) -> datetime | None:
    """An ActivityStreams date-time, or None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def version_string(config: InstanceConfig, ours: str) -> str:
    """'4.3.0 (compatible; Maillage X.Y)': Mastodon.py, Phanpy and Tusky gate on the first part."""
    return f"{MASTODON_VERSION} (compatible; Maillage {ours})"


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What an Account entity says of a local or remote actor, gathered by the services."""

    id: str
    username: str
    acct: str
    uri: str
    url: str
    display_name: str
    note_html: str
    avatar: str
    header: str
    kind: str  # Person, Group, Organization, Service, Application
    locked: bool
    created_at: datetime | None
    statuses_count: int = 0
    followers_count: int = 0
    following_count: int = 0
    last_status_at: datetime | None = None
    discoverable: bool = True
    indexable: bool = True


def account_entity(facts: AccountFacts) -> dict[str, Any]:
    """Mastodon's Account (docs entities/Account); avatar and header are always URLs."""
    return {
        "id": facts.id,
        "username": facts.username,
        "acct": facts.acct,
        "url": facts.url,
        "uri": facts.uri,
        "display_name": facts.display_name,
        "note": facts.note_html,
        "avatar": facts.avatar,
        "avatar_static": facts.avatar,
        "header": facts.header,
        "header_static": facts.header,
        "locked": facts.locked,
        "fields": [],
        "emojis": [],
        "bot": facts.kind in ("Service", "Application"),
        "group": facts.kind in ("Group", "Organization"),
        "discoverable": facts.discoverable,
        "indexable": facts.indexable,
        "hide_collections": False,
        "noindex": not facts.indexable,
        "created_at": api_time(facts.created_at or datetime(2026, 1, 1, tzinfo=UTC)),
        "last_status_at": facts.last_status_at.date().isoformat() if facts.last_status_at else None,
        "statuses_count": facts.statuses_count,
        "followers_count": facts.followers_count,
        "following_count": facts.following_count,
    }


def credential_account_entity(
    facts: AccountFacts, *, language: str, role: str, note_text: str
) -> dict[str, Any]:
    """The signed-in resident's own Account, with `source` and `role` (CredentialAccount)."""
    return account_entity(facts) | {
        "source": {
            "privacy": "public",
            "sensitive": False,
            "language": language,
            "note": note_text,
            "fields": [],
            "follow_requests_count": 0,
        },
        "role": {"id": "0", "name": role, "color": "", "permissions": "0", "highlighted": False},
    }


@dataclass(frozen=True, slots=True)
class PollFacts:
    """What the services know of a poll beyond its Question: tallies and the viewer's answer."""

    counts: list[int]
    voters: int
    own_votes: list[int] = field(default_factory=list)
    voted: bool = False


def poll_options(document: dict[str, Any]) -> tuple[list[str], bool]:
    """A Question's option names and whether several may be chosen (anyOf)."""
    multiple = "anyOf" in document and "oneOf" not in document
    options = as_list(document.get("anyOf" if multiple else "oneOf"))
    return [str(o.get("name", "")) for o in options if isinstance(o, dict)], multiple


def question_counts(document: dict[str, Any]) -> list[int]:
    """Each option's count as the Question publishes it (replies.totalItems)."""
    options = as_list(document.get("anyOf") or document.get("oneOf"))
    counts = []
    for option in options:
        if isinstance(option, dict):
            replies = option.get("replies")
            total = replies.get("totalItems") if isinstance(replies, dict) else 0
            counts.append(total if isinstance(total, int) and total >= 0 else 0)
    return counts


def poll_entity(
    poll_id: str, document: dict[str, Any], facts: PollFacts, now: datetime
) -> dict[str, Any]:
    """Mastodon's Poll from a Question and the tallies the services counted."""
    names, multiple = poll_options(document)
    ends = parse_as_time(document.get("endTime") or document.get("closed"))
    closed = document.get("closed") is not None or (ends is not None and ends <= now)
    counts = facts.counts + [0] * (len(names) - len(facts.counts))
    return {
        "id": poll_id,
        "expires_at": api_time(ends),
        "expired": closed,
        "multiple": multiple,
        "votes_count": sum(counts[: len(names)]),
        "voters_count": facts.voters,
        "options": [
            {"title": name, "votes_count": counts[index]} for index, name in enumerate(names)
        ],
        "emojis": [],
        "voted": facts.voted,
        "own_votes": facts.own_votes,
    }


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """What a Status says beyond its document: ids here, counts, and the viewer's flags."""

    id: str
    account: dict[str, Any]
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    replies_count: int = 0
    favourites_count: int = 0
    reblogs_count: int = 0
    favourited: bool = False
    reblogged: bool = False
    poll: dict[str, Any] | None = None
    language: str | None = None
    #: for Maillage objects (proposals, experiments...): the page a link card points at
    card_url: str | None = None


@dataclass(frozen=True, slots=True)
class StatusText:
    """What a Status shows of its object: HTML the node stored already cleaned, so that no
    API request runs the sanitiser (or reads a received object's raw JSON as HTML)."""

    #: the status's content: clean HTML
    content_html: str
    #: the object's title as plain text (a link card's title), empty for posts
    title: str = ""
    #: the object's summary or status line as clean HTML (a link card's description)
    summary_html: str = ""


def _text_of(document: dict[str, Any], key: str) -> str:
    value = document.get(key)
    return value if isinstance(value, str) else ""


def _paragraphs(*texts: str) -> str:
    """Plain texts as escaped HTML paragraphs (the empty ones left out)."""
    return "".join(f"<p>{html.escape(text, quote=False)}</p>" for text in texts if text)


def own_status_text(document: dict[str, Any]) -> StatusText:
    """The text of a document the node published (its outbox), read as it was stored.

    Its HTML is the node's own: `content` was sanitised when the document was made
    (maillage_object, or a post's text_to_html); a Maillage object's `summary` is its
    escaped status line (status_html), a data object's its text_to_html description; `name`
    is plain text. Only data objects (places...) come without content: their title and
    summary are shown instead. (A resident's post always has content: its `summary`, a
    plain content warning, is never shown as HTML.)
    """
    name = _text_of(document, "name")
    content = _text_of(document, "content")
    summary = _text_of(document, "summary")
    if not content.strip():
        content = _paragraphs(name) + (f"<p>{summary}</p>" if summary else "")
    return StatusText(content, title=name, summary_html=summary)


def note_status_text(note: Note) -> StatusText:
    """The text of a post the node keeps: `notes.content` (and a received post's
    `summary`) were sanitised when stored; a local post's summary is plain text."""
    if note.content.strip():
        return StatusText(note.content)
    if not note.summary:
        return StatusText("")
    summary = note.summary if not note.local else html.escape(note.summary, quote=False)
    return StatusText(f"<p>{summary}</p>")


def remote_object_status_text(row: RemoteObject) -> StatusText:
    """The text of another territory's object received here, from its stored columns:
    `content` sanitised on receipt, `name` and `summary` (its status line) plain text."""
    content = row.content if row.content.strip() else _paragraphs(row.name, row.summary)
    return StatusText(content, title=row.name, summary_html=html.escape(row.summary, quote=False))


def status_entity(document: dict[str, Any], text: StatusText, facts: StatusFacts) -> dict[str, Any]:
    """Mastodon's Status from an ActivityStreams object (a Note, a Question, or a Maillage
    object as its followers receive it) and its stored text (shown as it is)."""
    url = document.get("url")
    link = url if isinstance(url, str) and is_web_url(url) else id_of(document) or ""
    published = parse_as_time(document.get("published"))
    edited = parse_as_time(document.get("updated"))
    card = None
    if facts.card_url and is_web_url(facts.card_url):
        card = {
            "url": facts.card_url,
            "title": text.title or stored_html_to_text(text.content_html)[:80],
            "description": stored_html_to_text(text.summary_html)[:300],
            "type": "link",
            "author_name": "",
            "author_url": "",
            "provider_name": "",
            "provider_url": "",
            "html": "",
            "width": 0,
            "height": 0,
            "image": None,
            "embed_url": "",
            "blurhash": None,
        }
    return {
        "id": facts.id,
        "uri": id_of(document) or "",
        "url": link,
        "created_at": api_time(published),
        "edited_at": api_time(edited) if edited and edited != published else None,
        "account": facts.account,
        "content": text.content_html,
        "visibility": "public",
        "sensitive": bool(document.get("sensitive")) and bool(document.get("summary")),
        "spoiler_text": "",
        "media_attachments": [],
        "application": None,
        "mentions": [],
        "tags": [],
        "emojis": [],
        "reblogs_count": facts.reblogs_count,
        "favourites_count": facts.favourites_count,
        "replies_count": facts.replies_count,
        "in_reply_to_id": facts.in_reply_to_id,
        "in_reply_to_account_id": facts.in_reply_to_account_id,
        "reblog": None,
        "poll": facts.poll,
        "card": card,
        "language": facts.language,
        "text": None,
        "favourited": facts.favourited,
        "reblogged": facts.reblogged,
        "muted": False,
        "bookmarked": False,
        "pinned": False,
        "filtered": [],
    }


def is_question(document: dict[str, Any]) -> bool:
    """Whether the object is a poll (a Question: the territory's decisions)."""
    return type_of(document) == "Question"


@dataclass(frozen=True, slots=True)
class RelationshipFacts:
    """Follow relations between the viewer and one account."""

    id: str
    following: bool = False
    requested: bool = False
    followed_by: bool = False


def relationship_entity(facts: RelationshipFacts) -> dict[str, Any]:
    """Mastodon's Relationship (blocks and mutes are not offered: always false)."""
    return {
        "id": facts.id,
        "following": facts.following,
        "showing_reblogs": facts.following,
        "notifying": False,
        "languages": None,
        "followed_by": facts.followed_by,
        "blocking": False,
        "blocked_by": False,
        "muting": False,
        "muting_notifications": False,
        "requested": facts.requested,
        "requested_by": False,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def notification_entity(
    notification_id: str,
    kind: str,
    at: datetime,
    account: dict[str, Any],
    status: dict[str, Any] | None,
) -> dict[str, Any]:
    """Mastodon's Notification (follow, mention, favourite, reblog, poll)."""
    return {
        "id": notification_id,
        "type": kind,
        "group_key": f"ungrouped-{notification_id}",
        "created_at": api_time(at),
        "account": account,
        "status": status,
    }


def instance_configuration() -> dict[str, Any]:
    """The composer limits clients read from the instance (statuses, polls, media)."""
    return {
        "urls": {"streaming": None, "status": None},
        "vapid": {"public_key": ""},
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
        "statuses": {
            "max_characters": MAX_STATUS_CHARS,
            "max_media_attachments": 0,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": [],
            "image_size_limit": 0,
            "image_matrix_limit": 0,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
            "description_limit": 1500,
        },
        "polls": {
            "max_options": MAX_POLL_OPTIONS,
            "max_characters_per_option": 100,
            "min_expiration": 300,
            "max_expiration": 2629746,
        },
        "translation": {"enabled": False},
    }


@dataclass(frozen=True, slots=True)
class InstanceFacts:
    """What the instance entities say: names, counts, contact."""

    version: str
    title: str
    description_html: str
    thumbnail: str
    language: str
    users: int
    active_month: int
    statuses: int
    domains: int
    contact: dict[str, Any] | None


def instance_v2(config: InstanceConfig, facts: InstanceFacts) -> dict[str, Any]:
    """GET /api/v2/instance (docs entities/Instance)."""
    return {
        "domain": config.node.domain,
        "title": facts.title,
        "version": facts.version,
        "source_url": "https://maillage.example/",
        "description": html_to_text(facts.description_html),
        "usage": {"users": {"active_month": facts.active_month}},
        "thumbnail": {"url": facts.thumbnail, "blurhash": None, "versions": {}},
        "icon": [{"src": facts.thumbnail, "size": "128x128"}],
        "languages": [facts.language],
        "configuration": instance_configuration(),
        "registrations": {
            "enabled": False,
            "approval_required": True,
            "message": None,
            "url": None,
            "min_age": None,
            "reason_required": False,
        },
        "api_versions": {"mastodon": MASTODON_API_VERSION},
        "contact": {"email": "", "account": facts.contact},
        "rules": [],
    }


def instance_v1(config: InstanceConfig, facts: InstanceFacts) -> dict[str, Any]:
    """GET /api/v1/instance (docs entities/V1_Instance: deprecated, still called)."""
    return {
        "uri": config.node.domain,
        "title": facts.title,
        "short_description": html_to_text(facts.description_html)[:200],
        "description": facts.description_html,
        "email": "",
        "version": facts.version,
        "urls": {"streaming_api": None},
        "stats": {
            "user_count": facts.users,
            "status_count": facts.statuses,
            "domain_count": facts.domains,
        },
        "thumbnail": facts.thumbnail,
        "languages": [facts.language],
        "registrations": False,
        "approval_required": True,
        "invites_enabled": True,
        "configuration": instance_configuration(),
        "contact_account": facts.contact,
        "rules": [],
    }
