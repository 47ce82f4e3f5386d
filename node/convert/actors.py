"""Local actors as ActivityPub documents (Mastodon, FEP-2677, FEP-521a, FEP-1b12 shapes)."""

from __future__ import annotations

from typing import Any

from instance_config import InstanceConfig
from node.convert.urls import actor_id, actor_page_url, collection_url, icon_url, shared_inbox_url
from node.domain.actors import ADDITIONAL_TYPE, AS_TYPE, ActorKind
from node.storage.keyring import LoadedKeys
from node.storage.models import LocalActor
from protocols.html import text_to_html
from protocols.jsonld.project_context import document_context


def actor_to_as(config: InstanceConfig, actor: LocalActor, keys: LoadedKeys) -> dict[str, Any]:
    """The actor document served at the actor's id, with its RSA and Ed25519 public keys."""
    kind = ActorKind(actor.kind)
    url = actor_id(config, actor)
    name, summary = _name_and_summary(config, actor)
    language = config.territory.default_language
    document: dict[str, Any] = {
        "@context": document_context(),
        "id": url,
        "type": AS_TYPE[kind],
        "preferredUsername": actor.username,
        "name": name,
        "nameMap": {language: name},
        "summary": summary,
        "summaryMap": {language: summary},
        "url": actor_page_url(config, actor),
        "published": actor.created_at.isoformat().replace("+00:00", "Z"),
        "inbox": collection_url(config, actor, "inbox"),
        "outbox": collection_url(config, actor, "outbox"),
        "followers": collection_url(config, actor, "followers"),
        "following": collection_url(config, actor, "following"),
        "featured": collection_url(config, actor, "featured"),
        "endpoints": {"sharedInbox": shared_inbox_url(config)},
        "manuallyApprovesFollowers": _approves_manually(config, kind),
        "discoverable": actor.discoverable,
        "indexable": actor.indexable,
        "icon": {"type": "Image", "mediaType": "image/png", "url": icon_url(config, actor)},
        "publicKey": {
            "id": f"{url}#main-key",
            "owner": url,
            "publicKeyPem": keys.rsa_public_pem,
        },
        "assertionMethod": [
            {
                "id": f"{url}#ed25519-key",
                "type": "Multikey",
                "controller": url,
                "publicKeyMultibase": keys.ed25519_multibase,
            }
        ],
    }
    if kind in ADDITIONAL_TYPE:
        document["additionalType"] = ADDITIONAL_TYPE[kind]
    if kind is ActorKind.TERRITORY:
        document["territoryLevel"] = config.territory.level.value
        # Data for peers and coordinators (places, flows, indicators): read by pulling these
        # collections, never pushed to timelines.
        for term, name in TERRITORY_DATA_COLLECTIONS.items():
            document[term] = collection_url(config, actor, name)
    return document


#: The territory actor's data collections: vocabulary term -> path under the actor.
TERRITORY_DATA_COLLECTIONS = {
    "places": "places",
    "mapActors": "map-actors",
    "flows": "flows",
    "indicatorCatalog": "indicators",
    "observations": "observations",
}


def _name_and_summary(config: InstanceConfig, actor: LocalActor) -> tuple[str, str]:
    """Display name and HTML summary; the territory's come from the configuration."""
    if actor.kind == ActorKind.TERRITORY:
        return config.territory.name, text_to_html(config.territory.description)
    if actor.kind == ActorKind.INSTANCE:
        return (
            f"Maillage · {config.territory.name}",
            text_to_html(f"Acteur du nœud {config.node.domain} (FEP-2677)."),
        )
    return actor.display_name, text_to_html(actor.summary)


def _approves_manually(config: InstanceConfig, kind: ActorKind) -> bool:
    """The territory follows the federation policy; the instance actor is never followable."""
    if kind is ActorKind.INSTANCE:
        return True
    return config.federation.manual_approval
