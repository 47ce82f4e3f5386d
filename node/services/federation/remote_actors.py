"""Remote actors and their keys: cached in the database, fetched with a signed GET by the
instance actor when missing or stale, refreshed on Update (implements KeyResolver)."""

from __future__ import annotations

import asyncio
import logging
import weakref
from datetime import timedelta
from urllib.parse import urldefrag

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.http import FederationClient, FetchError
from federation.limits import TokenBuckets
from federation.ports import ActorKey
from instance_config import InstanceConfig
from node.convert.remote_actors import InvalidActor, actor_from_as, keys_from_as
from node.services.federation.signers import LocalSigners
from node.storage.base import utcnow
from node.storage.models import RemoteActor
from node.storage.remote import (
    find_remote_actor_by_handle,
    forget_remote_actor,
    get_remote_actor,
    get_remote_key,
    put_remote_actor,
)
from protocols.activitystreams import ACTOR_TYPES, host_of, id_of, type_of
from protocols.keys import load_public_key_pem, public_key_to_pem

log = logging.getLogger(__name__)

#: Cached actors older than this are refetched when next needed.
STALE_AFTER = timedelta(days=1)
MAX_CACHED_KEYS = 10_000


class LookupFailed(Exception):
    """A remote actor could not be found or used; the message says why."""


class RemoteActors:
    """The node's knowledge of other servers' actors."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: FederationClient,
        signers: LocalSigners,
        config: InstanceConfig,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._signers = signers
        self._config = config
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # Loaded keys by key id: every signed request needs one, so no database round trip.
        self._keys: dict[str, ActorKey] = {}
        #: refetches of a key (after a signature failed) per actor document: one per
        #: limits.key_refetch_seconds, so a stream of bad signatures is no fetch storm
        self.refetches = TokenBuckets(60 / config.limits.key_refetch_seconds, 1)

    async def get_key(self, key_id: str, *, refresh: bool = False) -> ActorKey | None:
        """The public key a signature names, or None when it cannot be had. A `refresh`
        refetches at most once per limits.key_refetch_seconds per actor; sooner, the cached
        key is given again."""
        document_url = urldefrag(key_id).url
        if not refresh or self.refetches.charge(document_url) > 0:
            cached = await self.cached_key(key_id)
            if cached is not None or refresh:
                return cached
        try:
            document = await self._fetch(document_url)
            if type_of(document) not in ACTOR_TYPES:
                # A key document (GoToSocial serves a stub with `owner`): the owner's actor
                # document must list the key too, or anyone could claim any actor.
                owner = id_of(document.get("owner")) or id_of(document.get("controller"))
                if owner is None or host_of(owner) != host_of(key_id):
                    return None
                document = await self._fetch(owner)
            await self._store(document)
        except (FetchError, InvalidActor) as exc:
            log.info("key unavailable", extra={"key_id": key_id, "reason": str(exc)})
            return None
        async with self._sessions() as session:
            stored = await get_remote_key(session, key_id)
        if stored is None:
            return None
        return self._remember(
            ActorKey(key_id, stored.owner_uri, load_public_key_pem(stored.public_key_pem))
        )

    async def cached_key(self, key_id: str) -> ActorKey | None:
        """The key if this node has it stored, never fetched (bundles are read offline)."""
        if key_id in self._keys:
            return self._keys[key_id]
        async with self._sessions() as session:
            cached = await get_remote_key(session, key_id)
        if cached is None:
            return None
        return self._remember(
            ActorKey(key_id, cached.owner_uri, load_public_key_pem(cached.public_key_pem))
        )

    def _remember(self, key: ActorKey) -> ActorKey:
        """Keep a loaded key in memory (bounded: the oldest goes first)."""
        if len(self._keys) >= MAX_CACHED_KEYS:
            self._keys.pop(next(iter(self._keys)))
        self._keys[key.key_id] = key
        return key

    async def get_actor(self, uri: str, *, refresh: bool = False) -> RemoteActor:
        """The actor with this id: cached unless stale, else fetched; raises LookupFailed.

        When the fetch fails, a stale cached copy is still used (the last known document):
        a node whose link is down keeps answering its followers and importing bundles.
        """
        async with self._sessions() as session:
            cached = await get_remote_actor(session, uri)
        if not refresh and cached is not None and utcnow() - cached.fetched_at < STALE_AFTER:
            return cached
        try:
            return await self._store(await self._fetch(uri))
        except FetchError as exc:
            if cached is not None:
                log.info("actor unreachable, last known copy used", extra={"actor": uri})
                return cached
            raise LookupFailed(f"cannot use actor {uri}: {exc}") from None
        except InvalidActor as exc:
            raise LookupFailed(f"cannot use actor {uri}: {exc}") from None

    async def last_known(self, uri: str) -> RemoteActor:
        """The actor as this node last knew it, whatever its age; fetched only when unknown.

        For local actions that need a name or an inbox: they never wait on the network for
        an actor the node already has (a community server's link may be down).
        """
        async with self._sessions() as session:
            cached = await get_remote_actor(session, uri)
        return cached if cached is not None else await self.get_actor(uri)

    async def resolve(self, target: str) -> RemoteActor:
        """An actor from an acct: handle (@user@host, user@host) or its URL."""
        target = target.strip()
        if not target.startswith(("https://", "http://")):
            try:
                target = await self._client.webfinger(target)
            except FetchError as exc:
                known = await self._known_by_handle(target)
                if known is None:
                    raise LookupFailed(f"cannot find {target}: {exc}") from None
                target = known
        if not self._config.federation.is_domain_allowed(host_of(target)):
            raise LookupFailed(f"{host_of(target)} is blocked by this node's federation policy")
        return await self.get_actor(target, refresh=True)

    async def _known_by_handle(self, handle: str) -> str | None:
        """The id of a cached actor named by an acct: handle, when WebFinger cannot answer."""
        username, _, domain = handle.removeprefix("acct:").lstrip("@").partition("@")
        if not username or not domain:
            return None
        async with self._sessions() as session:
            found = await find_remote_actor_by_handle(session, username, domain)
        return found.uri if found is not None else None

    async def forget(self, uri: str) -> None:
        """Drop a deleted actor: its cached document and its keys, in memory and stored (a
        signature by it can then no longer be checked, and nothing speaks for it)."""
        for key_id in [k for k, key in self._keys.items() if key.owner == uri]:
            del self._keys[key_id]
        async with self._sessions.begin() as session:
            await forget_remote_actor(session, uri)

    async def store_document(self, document: dict[str, object]) -> RemoteActor:
        """Keep an actor document received authenticated (an Update of the actor)."""
        return await self._store(dict(document))

    async def _fetch(self, url: str) -> dict[str, object]:
        lock = self._locks.get(url)
        if lock is None:
            lock = self._locks[url] = asyncio.Lock()
        async with lock:  # one fetch per URL at a time (GoToSocial's FedLocks)
            return await self._client.fetch_document(url, await self._signers.instance_signer())

    async def _store(self, document: dict[str, object]) -> RemoteActor:
        actor = actor_from_as(document)
        for key_id in [k for k, key in self._keys.items() if key.owner == actor.uri]:
            del self._keys[key_id]  # the stored document now says which keys are valid
        keys = {key.key_id: public_key_to_pem(key.public_key) for key in keys_from_as(document)}
        async with self._sessions.begin() as session:
            return await put_remote_actor(session, actor, keys)
