"""The inbox pipeline of DESIGN.md, one readable function, each step a small function:

backlog -> size -> parse -> domain policy (config lists, then the node's blocks) -> signature
header -> rate per host -> signature -> signer owns actor -> rate per actor -> JSON-LD ->
origins -> links -> dedupe -> store.
The caller answers 202 once `receive` returns; effects are applied later by the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation.domain_policy import suspends
from federation.limits import InboxLimits, RateLimiter, retry_after_seconds
from federation.ports import (
    ActorKey,
    DomainPolicy,
    InboxStore,
    KeyResolver,
    ReceivedActivity,
    StoreUnavailable,
)
from instance_config import FederationConfig
from protocols.activitystreams import host_of, id_of, ids_of, origin_of, type_of
from protocols.httpsig import PendingSignature, SignatureError, read_signature
from protocols.json_input import JsonRefused, parse_json
from protocols.jsonld.loader import compact, uses_only_known_contexts
from protocols.jsonld.project_context import ACTIVITYSTREAMS_CONTEXT
from protocols.links import drop_non_web_links, is_web_url

#: Mastodon's MAX_JSON_SIZE: larger bodies are refused before parsing.
MAX_ACTIVITY_BYTES = 1_000_000
#: The longest list an activity or its object may hold in one property (addressing, tags,
#: attachments, poll options...): far above any real post (Mastodon caps a post's mentions,
#: tags and options at a few dozen), far below what 1 MB of JSON can pack.
MAX_LIST_ITEMS = 1_000
#: What a sender refused for a full backlog is asked to wait, in seconds.
RETRY_BUSY_AFTER_SECONDS = 30
#: What a sender refused because the store cannot write now is asked to wait, in seconds.
RETRY_UNAVAILABLE_AFTER_SECONDS = 10
#: Activities whose embedded object is someone else's by design: Accept/Reject carry our
#: Follow; Announce carries the boosted object (checked by fetching it, never trusted).
_FOREIGN_OBJECT_ALLOWED = frozenset({"Accept", "Reject", "Announce", "Add", "Remove"})


class InboxDropped(Exception):
    """The activity is answered 202 but neither stored nor applied (a report from a domain
    whose reports are rejected: Mastodon's reject_reports drops them silently)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InboxRefused(Exception):
    """The request is refused; `status` and `reason` make the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class InboxBusy(InboxRefused):
    """Too many stored activities wait to be applied: 503, and the sender retries after
    `retry_after` seconds (Mastodon, Misskey and GoToSocial retry a 503 with backoff)."""

    def __init__(self, backlog: int, limit: int) -> None:
        super().__init__(
            503,
            f"{backlog} received activities are waiting to be applied (this node takes at "
            f"most {limit}); try again later",
        )
        self.retry_after = RETRY_BUSY_AFTER_SECONDS


class InboxUnavailable(InboxRefused):
    """The activity could not be stored now (the database cannot be written, or too many
    writes wait for it): 503, and the sender retries after `retry_after` seconds. Nothing
    was acknowledged, so nothing is lost."""

    def __init__(self) -> None:
        super().__init__(503, "this node cannot store activities right now; try again later")
        self.retry_after = RETRY_UNAVAILABLE_AFTER_SECONDS


class RateLimited(InboxRefused):
    """Too many activities from one remote host or actor: 429, retry after `retry_after`
    seconds; `scope` (host or actor) and `key` say who was limited."""

    def __init__(self, scope: str, key: str, retry_after: int) -> None:
        super().__init__(429, f"too many activities from this {scope}; retry in {retry_after} s")
        self.scope = scope
        self.key = key
        self.retry_after = retry_after


class KeyUnavailable(InboxRefused):
    """The signing key cannot be had (its actor is gone, or its server does not answer)."""

    def __init__(self, key_id: str) -> None:
        super().__init__(401, f"cannot get the signing key {key_id}")


class InboxSkipped(Exception):
    """Nothing to do, and nothing to refuse: answered 202, nothing stored (`reason` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class InboxRequest:
    """What the HTTP layer hands over: the public URL (as the sender signed it) and raw bytes."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Receipt:
    """The accepted activity and whether it was new (False: a duplicate, also 202)."""

    activity: ReceivedActivity
    new: bool
    signer: str


async def receive(
    request: InboxRequest,
    *,
    policy: FederationConfig,
    keys: KeyResolver,
    store: InboxStore,
    now: datetime,
    domains: DomainPolicy | None = None,
    limits: InboxLimits | None = None,
) -> Receipt:
    """Authenticate an inbox POST and store its activity, or raise InboxRefused (InboxBusy
    while the backlog is full, InboxUnavailable when the store cannot write now, RateLimited
    past `limits`; or InboxDropped for a report that the actor's domain may not send)."""
    check_backlog(store, policy)
    check_size(request.body)
    document, rewritten = read_activity(request.body)
    parsed = document
    actor = document["actor"]
    check_domain(actor, policy, domains)
    check_reports_allowed(document, domains)
    signature = read_request_signature(request, now)
    check_domain(signature.key_id, policy, domains)
    if limits is not None:
        check_rate(limits.hosts, "host", host_of(signature.key_id))
    try:
        key = await verified_key(signature, keys)
    except KeyUnavailable:
        if is_deletion_of_itself(document, signature.key_id):
            # Mastodon's skip_unknown_actor_activity: a deleted actor's key answers 410, and
            # a server that never knew the actor has nothing to delete. A 401 would make the
            # sender retry for days, holding back everything else it sends this server.
            raise InboxSkipped("Delete of an actor this node cannot know any more") from None
        raise
    check_signer_is_actor(key, actor)
    if limits is not None:
        check_rate(limits.actors, "actor", key.owner)
    document = read_jsonld(document)  # after authentication: pyld costs milliseconds
    check_origins(document)
    dropped = drop_non_web_links(document, allow_http=policy.allow_private_addresses)
    activity = ReceivedActivity(
        activity_id=document["id"],
        type=type_of(document) or "",
        actor=actor,
        object_id=id_of(document.get("object")),
        raw=document,
        raw_text=(None if rewritten or dropped or document is not parsed else _utf8(request.body)),
    )
    try:
        new = await store.add_if_new(activity)
    except StoreUnavailable:
        raise InboxUnavailable() from None
    return Receipt(activity=activity, new=new, signer=key.owner)


def _utf8(body: bytes) -> str | None:
    """The body as text when it is UTF-8 (JSON may come in UTF-16 or 32 too: re-serialised)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def check_backlog(store: InboxStore, policy: FederationConfig) -> None:
    """Refuse with 503 while the backlog is at its configured limit, before any work: a
    sender retries later, where storing more would only make the wait grow."""
    backlog = store.backlog()
    if backlog >= policy.max_inbox_backlog:
        raise InboxBusy(backlog, policy.max_inbox_backlog)


def check_size(body: bytes) -> None:
    """Refuse bodies above Mastodon's limit before spending anything on them."""
    if len(body) > MAX_ACTIVITY_BYTES:
        raise InboxRefused(413, f"activity larger than {MAX_ACTIVITY_BYTES} bytes")


def parse_activity(body: bytes) -> dict[str, Any]:
    """A JSON object with an http(s) `id`, a `type` and a single `actor` URI, nested no
    deeper than protocols.json_input allows (deeper ones would exhaust the stack later)."""
    return read_activity(body)[0]


def read_activity(body: bytes) -> tuple[dict[str, Any], bool]:
    """`parse_activity`, and whether the document now differs from the text (an embedded
    actor object is read as its id)."""
    try:
        document = parse_json(body)
    except JsonRefused as refused:
        raise InboxRefused(400, f"body is {refused}") from None
    if not isinstance(document, dict):
        raise InboxRefused(400, "activity must be a JSON object")
    activity_id, actor = document.get("id"), id_of(document.get("actor"))
    if not is_web_url(activity_id):
        raise InboxRefused(400, "activity has no http(s) id")
    if not type_of(document):
        raise InboxRefused(400, "activity has no type")
    if actor is None or not is_web_url(actor):
        # Misskey-family servers compare signer and actor as strings: a single URI is required.
        raise InboxRefused(400, "activity has no single actor URI")
    rewritten = document["actor"] is not actor  # an embedded actor object: read as its id
    document["actor"] = actor
    check_list_sizes(document)
    return document, rewritten


def check_list_sizes(document: dict[str, Any]) -> None:
    """Refuse an activity, or its embedded object, with a list longer than MAX_LIST_ITEMS:
    work per activity stays bounded (one recipient per entry, one tag per entry...)."""
    embedded = document.get("object")
    for part in (document, embedded) if isinstance(embedded, dict) else (document,):
        for name, value in part.items():
            if isinstance(value, list) and len(value) > MAX_LIST_ITEMS:
                raise InboxRefused(413, f"`{name[:40]}` lists more than {MAX_LIST_ITEMS} entries")


def read_jsonld(document: dict[str, Any]) -> dict[str, Any]:
    """The document in plain ActivityStreams terms.

    The fast path is documents whose contexts we bundle (or that have none); others are
    compacted by pyld against ActivityStreams with a loader that only knows bundled
    contexts, so an unknown remote context is refused, never fetched.
    """
    if "@context" not in document or uses_only_known_contexts(document):
        return document
    # pyld (and the requests and lxml it imports) is loaded only when a document needs it
    from pyld.jsonld import JsonLdError  # type: ignore[import-untyped]

    try:
        compacted = compact(document, ACTIVITYSTREAMS_CONTEXT)
    except JsonRefused as refused:
        raise InboxRefused(400, f"the activity cannot be read as JSON-LD: {refused}") from None
    except JsonLdError:
        raise InboxRefused(
            400, "the activity names a JSON-LD context this node does not know (none is fetched)"
        ) from None
    compacted["actor"] = id_of(compacted.get("actor"))
    if not isinstance(compacted.get("id"), str) or compacted["actor"] != document["actor"]:
        raise InboxRefused(400, "the activity does not keep its id and actor once read as JSON-LD")
    return compacted


def check_domain(uri: str, policy: FederationConfig, domains: DomainPolicy | None = None) -> None:
    """Refuse blocked domains before any fetch is made on their behalf: the configuration's
    allow and block lists, then the node's suspensions (a block of a host covers its
    subdomains and ports)."""
    if not is_web_url(uri):
        raise InboxRefused(400, f"{uri[:200]!r} is not an http(s) URL")
    domain = host_of(uri)
    if not policy.is_domain_allowed(domain):
        raise InboxRefused(403, f"domain {domain} is not allowed to federate with this node")
    if suspends(domains, domain):
        raise InboxRefused(403, f"domain {domain} is suspended by this node's moderation")


def check_rate(limiter: RateLimiter, scope: str, key: str) -> None:
    """Charge one activity to the host or actor; past its rate, RateLimited (429): before
    the signature for hosts, so a flood costs no key fetch and no verification."""
    wait = limiter.charge(key)
    if wait > 0:
        raise RateLimited(scope, key, retry_after_seconds(wait))


def check_reports_allowed(document: dict[str, Any], domains: DomainPolicy | None) -> None:
    """Drop a Flag (a report) from a domain blocked with reject_reports, before any work."""
    if domains is None or type_of(document) != "Flag":
        return
    rule = domains.rule_for(host_of(document["actor"]))
    if rule is not None and rule.reject_reports:
        raise InboxDropped(f"reports from {rule.domain} are rejected by this node")


def read_request_signature(request: InboxRequest, now: datetime) -> PendingSignature:
    """Check what needs no key: presence, digest, coverage, time window."""
    try:
        return read_signature(request.method, request.url, request.headers, request.body, now)
    except SignatureError as exc:
        raise InboxRefused(401, f"signature refused: {exc.reason}") from None


async def verified_key(signature: PendingSignature, keys: KeyResolver) -> ActorKey:
    """The key that verifies the signature; refetched once when the cached one fails
    (the sender may have rotated its key)."""
    key = await keys.get_key(signature.key_id)
    if key is not None and _verifies(signature, key):
        return key
    fresh = await keys.get_key(signature.key_id, refresh=True)
    if fresh is None:
        raise KeyUnavailable(signature.key_id)
    if not _verifies(signature, fresh):
        raise InboxRefused(401, "signature does not verify with the signer's key")
    return fresh


def is_deletion_of_itself(document: dict[str, Any], key_id: str) -> bool:
    """Whether the activity is an actor's Delete of itself, signed by a key on its server.

    >>> actor = "https://m.example/users/a"
    >>> is_deletion_of_itself(
    ...     {"type": "Delete", "actor": actor, "object": actor}, actor + "#main-key")
    True
    >>> is_deletion_of_itself(
    ...     {"type": "Delete", "actor": actor, "object": actor + "/1"}, actor + "#main-key")
    False
    """
    actor = document["actor"]
    return (
        type_of(document) == "Delete"
        and id_of(document.get("object")) == actor
        and origin_of(key_id) == origin_of(actor)
    )


def _verifies(signature: PendingSignature, key: ActorKey) -> bool:
    try:
        signature.verify(key.public_key)
    except SignatureError:
        return False
    return True


def check_signer_is_actor(key: ActorKey, actor: str) -> None:
    """The key's owner must be the activity's actor: nobody speaks for someone else."""
    if key.owner != actor:
        raise InboxRefused(401, f"signed by {key.owner}, but the actor is {actor}")


def check_origins(document: dict[str, Any]) -> None:
    """The activity id and embedded objects it creates must live on the actor's origin."""
    actor_origin = origin_of(document["actor"])
    if origin_of(document["id"]) != actor_origin:
        raise InboxRefused(403, "activity id is not on the actor's server")
    embedded = document.get("object")
    if not isinstance(embedded, dict) or type_of(document) in _FOREIGN_OBJECT_ALLOWED:
        return
    object_id = id_of(embedded)
    if object_id is not None and not is_web_url(object_id):
        raise InboxRefused(400, "object id is not an http(s) URL")
    if object_id is not None and origin_of(object_id) != actor_origin:
        raise InboxRefused(403, "object id is not on the actor's server")
    for field in ("attributedTo", "actor"):
        owners = ids_of(embedded.get(field))
        if owners and document["actor"] not in owners:
            raise InboxRefused(403, f"object {field} is not the activity's actor")
