"""A small fake fediverse server on 127.0.0.1: actors with real keys, documents, and a
recording inbox; it signs what it sends with protocols.httpsig, so our real verifier runs."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from protocols.httpsig import sign_cavage
from protocols.keys import generate_actor_keys, load_private_key, public_key_to_pem

AS = "https://www.w3.org/ns/activitystreams"


@dataclass
class RemoteActorDoc:
    """One actor of the fake server and its current RSA key."""

    uri: str
    username: str
    private_key: rsa.RSAPrivateKey
    name: str = ""
    shared_inbox: str | None = None
    #: more properties of the actor document (hostile ones, for instance)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key_id(self) -> str:
        return f"{self.uri}#main-key"

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": self.uri,
            "type": "Person",
            "preferredUsername": self.username,
            "name": self.name or self.username.title(),
            "inbox": f"{self.uri}/inbox",
            "outbox": f"{self.uri}/outbox",
            "followers": f"{self.uri}/followers",
            "publicKey": {
                "id": self.key_id,
                "owner": self.uri,
                "publicKeyPem": public_key_to_pem(self.private_key.public_key()),
            },
        }
        if self.shared_inbox:
            doc["endpoints"] = {"sharedInbox": self.shared_inbox}
        return doc | self.extra

    def rotate_key(self) -> None:
        """A new key pair, as after a key rotation on the remote server."""
        self.private_key = _new_rsa_key()


def _new_rsa_key() -> rsa.RSAPrivateKey:
    key = load_private_key(generate_actor_keys().rsa_private_pem)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@dataclass
class FakeRemote:
    """The fake server: serve it with aiohttp_server(remote.app), then set `base`."""

    base: str = ""
    actors: dict[str, RemoteActorDoc] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: bodies served as they are at their URL (actor, object or WebFinger), before anything
    #: else: what json.dumps cannot write, such as a 10,000-deep array
    raw: dict[str, bytes] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    fetches: list[str] = field(default_factory=list)
    #: awaited after an inbox POST is recorded and before it is answered (a slow peer)
    before_answer: Callable[[], Awaitable[object]] | None = None

    def add_actor(self, username: str, **extra: Any) -> RemoteActorDoc:
        actor = RemoteActorDoc(f"{self.base}/users/{username}", username, _new_rsa_key(), **extra)
        self.actors[actor.uri] = actor
        return actor

    @property
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/users/{name}", self._actor)
        app.router.add_get("/objects/{name}", self._object)
        app.router.add_post("/users/{name}/inbox", self._inbox)
        app.router.add_post("/inbox", self._inbox)
        app.router.add_get("/.well-known/webfinger", self._webfinger)
        return app

    def _raw(self, request: web.Request, content_type: str) -> web.Response | None:
        body = self.raw.get(f"{self.base}{request.path_qs}") or self.raw.get(
            f"{self.base}{request.path}"
        )
        return None if body is None else web.Response(body=body, content_type=content_type)

    async def _webfinger(self, request: web.Request) -> web.Response:
        self.fetches.append(str(request.url))
        answer = self._raw(request, "application/jrd+json")
        if answer is None:
            raise web.HTTPNotFound()
        return answer

    async def _actor(self, request: web.Request) -> web.Response:
        self.fetches.append(str(request.url))
        raw = self._raw(request, "application/activity+json")
        if raw is not None:
            return raw
        actor = self.actors.get(f"{self.base}/users/{request.match_info['name']}")
        if actor is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=json.dumps(actor.document()), content_type="application/activity+json"
        )

    async def _object(self, request: web.Request) -> web.Response:
        raw = self._raw(request, "application/activity+json")
        if raw is not None:
            return raw
        document = self.documents.get(f"{self.base}/objects/{request.match_info['name']}")
        if document is None:
            raise web.HTTPNotFound()
        return web.Response(body=json.dumps(document), content_type="application/activity+json")

    async def _inbox(self, request: web.Request) -> web.Response:
        self.received.append(
            {"path": request.path, "body": await request.json(), "headers": dict(request.headers)}
        )
        if self.before_answer is not None:
            await self.before_answer()
        return web.Response(status=202)


def signed_post(
    actor: RemoteActorDoc,
    url: str,
    activity: dict[str, Any] | bytes,
    now: datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of an inbox POST signed by `actor` (draft-cavage, as Mastodon);
    `activity` as a document, or as the exact bytes to send."""
    body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
    headers = {"Content-Type": "application/activity+json"}
    headers |= sign_cavage(
        "POST", url, headers, body, actor.private_key, actor.key_id, now or datetime.now(UTC)
    )
    return body, headers
