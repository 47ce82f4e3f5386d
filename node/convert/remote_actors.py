"""Remote actor documents read into what the node keeps: profile, inboxes and keys."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from node.storage.models import RemoteActor
from protocols.activitystreams import ACTOR_TYPES, as_list, host_of, id_of, type_of
from protocols.html import html_to_text, sanitize_html
from protocols.keys import PublicKey, ed25519_from_multibase, load_public_key_pem
from protocols.links import is_web_url


class InvalidActor(ValueError):
    """A document that cannot be used as an actor; the message says why."""


@dataclass(frozen=True, slots=True)
class PublishedKey:
    """A key an actor document publishes, with the id signatures name it by."""

    key_id: str
    public_key: PublicKey


def actor_from_as(document: dict[str, Any]) -> RemoteActor:
    """A RemoteActor row from a fetched actor document (validated as Mastodon does; its
    profile and avatar links kept only when http(s), as pages may show them)."""
    actor_id = document.get("id")
    kind = type_of(document)
    if not isinstance(actor_id, str) or not actor_id.startswith(("https://", "http://")):
        raise InvalidActor("actor has no http(s) id")
    if kind not in ACTOR_TYPES:
        raise InvalidActor(f"{kind!r} is not an actor type")
    inbox = id_of(document.get("inbox"))
    if not inbox or not inbox.startswith(("https://", "http://")):
        raise InvalidActor("actor has no inbox")
    endpoints = document.get("endpoints") if isinstance(document.get("endpoints"), dict) else {}
    shared = id_of(endpoints.get("sharedInbox")) or id_of(document.get("sharedInbox"))
    username = document.get("preferredUsername")
    url = id_of(document.get("url"))
    icon = document.get("icon")
    icon_url = id_of(icon.get("url")) if isinstance(icon, dict) else id_of(icon)
    return RemoteActor(
        uri=actor_id,
        domain=host_of(actor_id),
        type=kind,
        username=username if isinstance(username, str) else "",
        name=html_to_text(_text(document.get("name")))[:2048],
        summary=sanitize_html(_text(document.get("summary"))),
        url=url if is_web_url(url) and host_of(url) == host_of(actor_id) else actor_id,
        icon_url=icon_url if is_web_url(icon_url) else None,
        inbox=inbox,
        shared_inbox=shared if shared and shared.startswith(("https://", "http://")) else None,
        outbox=id_of(document.get("outbox")),
        followers_url=id_of(document.get("followers")),
        manually_approves_followers=document.get("manuallyApprovesFollowers") is True,
        raw=json.dumps(document, ensure_ascii=False),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def keys_from_as(document: dict[str, Any]) -> list[PublishedKey]:
    """The RSA `publicKey`s and Ed25519 `assertionMethod` Multikeys the actor itself owns."""
    actor_id = document.get("id")
    keys: list[PublishedKey] = []
    for entry in as_list(document.get("publicKey"))[:10]:  # Mastodon keeps at most 10
        if not isinstance(entry, dict) or id_of(entry.get("owner")) != actor_id:
            continue
        key_id, pem = entry.get("id"), entry.get("publicKeyPem")
        if isinstance(key_id, str) and isinstance(pem, str):
            try:
                keys.append(PublishedKey(key_id, load_public_key_pem(pem)))
            except ValueError:
                continue
    for entry in as_list(document.get("assertionMethod"))[:10]:
        if not isinstance(entry, dict) or type_of(entry) != "Multikey":
            continue
        key_id, value = entry.get("id"), entry.get("publicKeyMultibase")
        if id_of(entry.get("controller")) != actor_id or not isinstance(key_id, str):
            continue
        try:
            keys.append(PublishedKey(key_id, ed25519_from_multibase(str(value))))
        except ValueError:
            continue
    return keys
