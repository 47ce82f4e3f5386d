"""Checking one bundle entry before anything of it is applied.

An entry stands on its own proof, whoever carried the file: an actor document must be
signed by an Ed25519 key it lists itself (and, when this node already knows that key id,
by the same key); an activity must be signed by an Ed25519 key of its own actor, on its
actor's origin, and then pass the inbox's own checks (domain policy, JSON-LD, origins).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from federation.bundles.archive import Line
from federation.inbox.receive import (
    InboxRefused,
    check_domain,
    check_origins,
    check_signer_is_actor,
    parse_activity,
    read_jsonld,
)
from federation.ports import ActorKey, DomainPolicy, KnownKeys, ReceivedActivity
from instance_config import FederationConfig
from protocols.activitystreams import ACTOR_TYPES, as_list, id_of, origin_of, type_of
from protocols.integrity import ProofError, proof_of, verify_document
from protocols.keys import ed25519_from_multibase


class EntryRefused(Exception):
    """This entry is not applied; the reason says why, in words an admin can act on."""


@dataclass
class BundleKeys:
    """Keys proven by the bundle's own actor documents, then those this node already knows."""

    known: KnownKeys
    proven: dict[str, ActorKey] = field(default_factory=dict)

    async def find(self, key_id: str) -> ActorKey | None:
        """The key a proof names: from this bundle's actors, else from this node's cache."""
        return self.proven.get(key_id) or await self.known.cached_key(key_id)


def parse_line(line: Line) -> dict[str, Any]:
    """The line as a JSON object, or EntryRefused (too long, damaged, cut, not an object)."""
    if line.problem:
        raise EntryRefused(line.problem)
    try:
        document = json.loads(line.data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise EntryRefused("not JSON: the line is damaged or was cut") from None
    if not isinstance(document, dict):
        raise EntryRefused("not a JSON object")
    return document


@dataclass(frozen=True, slots=True)
class ProvenActor:
    """An actor document whose proof holds (without its proof), and whether its key was
    already known to this node."""

    document: dict[str, Any]
    already_known: bool


async def check_actor(
    document: dict[str, Any],
    keys: BundleKeys,
    policy: FederationConfig,
    domains: DomainPolicy | None = None,
) -> ProvenActor:
    """A self-signed actor document whose key becomes usable for the activities after it.

    Refused: not an actor, a blocked domain, no proof, a proof by a key the document does
    not list as its own, a proof that does not verify, or a key id this node knows with
    another key (a bundle cannot replace an actor's key: that needs the actor's server).
    """
    actor = document.get("id")
    if not isinstance(actor, str) or not actor.startswith(("https://", "http://")):
        raise EntryRefused("the actor document has no http(s) id")
    if type_of(document) not in ACTOR_TYPES:
        raise EntryRefused(f"{actor} is not an actor document")
    _allowed(actor, policy, domains)
    method = _proof_method(document)
    listed = _own_multikey(document, method)
    if listed is None:
        raise EntryRefused(f"the proof's key {method} is not an Ed25519 key {actor} lists")
    _verify(document, listed)
    known = await keys.known.cached_key(method)
    if known is not None and (known.owner != actor or not _same_key(known.public_key, listed)):
        raise EntryRefused(
            f"this node knows another key {method} for {known.owner}: the bundle's copy of "
            "the actor is not used (the actor's own server must announce a key change)"
        )
    keys.proven[method] = ActorKey(method, actor, listed)
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    return ProvenActor(unsecured, already_known=known is not None)


async def check_activity(
    line: Line, keys: BundleKeys, policy: FederationConfig, domains: DomainPolicy | None = None
) -> ReceivedActivity:
    """An activity signed by its own actor, ready for the inbox store, or EntryRefused."""
    if line.problem:
        raise EntryRefused(line.problem)
    try:
        document = parse_activity(line.data)
        actor = document["actor"]
        check_domain(actor, policy, domains)
    except InboxRefused as refused:
        raise EntryRefused(refused.reason) from None
    except RecursionError:
        raise EntryRefused("the activity is nested too deeply") from None
    method = _proof_method(document)
    if origin_of(method) != origin_of(actor):
        raise EntryRefused(f"signed with {method}, a key from another server than {actor}")
    key = await keys.find(method)
    if key is None:
        raise EntryRefused(
            f"the key {method} is neither in the bundle nor known to this node; import a "
            "bundle holding its actor, or follow the actor when the link is up"
        )
    if not isinstance(key.public_key, ed25519.Ed25519PublicKey):
        raise EntryRefused(f"{method} is not an Ed25519 key")
    try:
        check_signer_is_actor(key, actor)
    except InboxRefused as refused:
        raise EntryRefused(refused.reason) from None
    _verify(document, key.public_key)
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    try:
        unsecured = read_jsonld(unsecured)
        check_origins(unsecured)
    except InboxRefused as refused:
        raise EntryRefused(refused.reason) from None
    return ReceivedActivity(
        activity_id=unsecured["id"],
        type=type_of(unsecured) or "",
        actor=actor,
        object_id=id_of(unsecured.get("object")),
        raw=unsecured,
    )


def _allowed(uri: str, policy: FederationConfig, domains: DomainPolicy | None) -> None:
    try:
        check_domain(uri, policy, domains)
    except InboxRefused as refused:
        raise EntryRefused(refused.reason) from None


def _proof_method(document: dict[str, Any]) -> str:
    try:
        return str(proof_of(document)["verificationMethod"])
    except ProofError as error:
        raise EntryRefused(str(error)) from None


def _verify(document: dict[str, Any], key: ed25519.Ed25519PublicKey) -> None:
    try:
        verify_document(document, key)
    except ProofError as error:
        raise EntryRefused(str(error)) from None


def _own_multikey(document: dict[str, Any], method: str) -> ed25519.Ed25519PublicKey | None:
    """The Ed25519 Multikey with id `method` that the actor lists as its own, if any."""
    for entry in as_list(document.get("assertionMethod"))[:10]:
        if not isinstance(entry, dict) or type_of(entry) != "Multikey":
            continue
        if entry.get("id") != method or id_of(entry.get("controller")) != document["id"]:
            continue
        try:
            return ed25519_from_multibase(str(entry.get("publicKeyMultibase")))
        except ValueError:
            return None
    return None


def _same_key(known: object, listed: ed25519.Ed25519PublicKey) -> bool:
    if not isinstance(known, ed25519.Ed25519PublicKey):
        return False
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    return known.public_bytes(*raw) == listed.public_bytes(*raw)
