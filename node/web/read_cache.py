"""Answers kept in memory until the database changes: the documents fediverse servers fetch
again and again (WebFinger, actors) and the public pages anonymous visitors read most (`/`,
`/proposals`).

An answer is kept with the write stamp read before it was computed (node/storage/
write_stamp.py) and served again while no write went through this process and for at most
`max_age` seconds (writes by another process: a CLI command, another server process, and
what changes with the clock). Every kept answer has an ETag; a request whose If-None-Match
names it gets a 304. The cache holds a bounded number of answers, the least recently used
leaving first.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from functools import wraps

from aiohttp import web

from node.storage.write_stamp import WriteStamp
from node.web.auth import csrf_key, signed_in_key
from node.web.i18n import choose_language
from node.web.keys import config_key

#: How many answers are kept at most.
CACHE_SIZE = 512
#: How long a page shown to anonymous visitors, and a document fediverse servers fetch,
#: may be kept at most (seconds) when nothing is written through this process.
PAGE_MAX_AGE = 5.0
DOCUMENT_MAX_AGE = 60.0
#: What a kept document says to the caches on its way (servers cache actors anyway).
DOCUMENT_CACHE_CONTROL = f"public, max-age={int(DOCUMENT_MAX_AGE)}"
#: The headers of an answer that are kept with its body.
_KEPT_HEADERS = ("Content-Type", "Content-Language", "Vary", "Access-Control-Allow-Origin")


@dataclass(frozen=True, slots=True)
class Kept:
    """One answer as it was computed, and until when it may be served."""

    stamp: int
    until: float
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]
    etag: str


class ReadCache:
    """Kept answers by key, valid while the write stamp does not move."""

    def __init__(self, stamp: WriteStamp, size: int = CACHE_SIZE) -> None:
        self.stamp = stamp
        self.size = size
        self._kept: OrderedDict[Hashable, Kept] = OrderedDict()
        #: answers being computed, which other requests for the same key wait for
        self.pending: dict[Hashable, asyncio.Future[Kept | None]] = {}

    def find(self, key: Hashable) -> Kept | None:
        """The answer kept under `key` if it is still valid."""
        kept = self._kept.get(key)
        if kept is None:
            return None
        if kept.stamp != self.stamp.value or time.monotonic() >= kept.until:
            del self._kept[key]
            return None
        self._kept.move_to_end(key)
        return kept

    def keep(
        self, key: Hashable, stamp: int, response: web.Response, max_age: float
    ) -> Kept | None:
        """Keep a computed 200 answer (`stamp`: the value read before computing it); answers
        that set a cookie or are not 200 are not kept."""
        if response.status != 200 or response.cookies or response.body is None:
            return None
        body = bytes(response.body)  # type: ignore[arg-type]
        headers = tuple(
            (name, response.headers[name]) for name in _KEPT_HEADERS if name in response.headers
        )
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        kept = Kept(stamp, time.monotonic() + max_age, response.status, body, headers, etag)
        self._kept[key] = kept
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)
        return kept


read_cache_key = web.AppKey("read_cache", ReadCache)


def answer(request: web.Request, kept: Kept, cache_control: str) -> web.Response:
    """A kept answer, or 304 Not Modified when the request already has it (If-None-Match)."""
    headers = {**dict(kept.headers), "ETag": kept.etag, "Cache-Control": cache_control}
    if _matches(request.headers.get("If-None-Match", ""), kept.etag):
        headers.pop("Content-Type", None)
        return web.Response(status=304, headers=headers)
    return web.Response(status=kept.status, body=kept.body, headers=headers)


def _matches(header: str, etag: str) -> bool:
    """Whether an If-None-Match header names this ETag (or `*`); weak tags compare too."""
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in tags or "*" in tags


async def cached(
    request: web.Request,
    key: Hashable,
    compute: Callable[[], Awaitable[web.StreamResponse]],
    *,
    max_age: float,
    cache_control: str,
    private: bytes = b"",
) -> web.StreamResponse:
    """The kept answer under `key`, or `compute()`'s, kept when it can be (never when its
    body holds `private`, a value that belongs to this visitor only). Requests that come
    while the answer is being computed wait for it rather than computing it again."""
    cache = request.app[read_cache_key]
    kept = cache.find(key)
    if kept is None and (pending := cache.pending.get(key)) is not None:
        kept = await asyncio.shield(pending)
    if kept is not None:
        return answer(request, kept, cache_control)
    computing: asyncio.Future[Kept | None] = asyncio.get_running_loop().create_future()
    cache.pending[key] = computing
    try:
        stamp = cache.stamp.value  # read before computing: a write meanwhile outdates it
        response = await compute()
        if isinstance(response, web.Response) and not (
            private and private in bytes(response.body or b"")  # type: ignore[arg-type]
        ):
            kept = cache.keep(key, stamp, response, max_age)
    finally:
        del cache.pending[key]
        computing.set_result(kept)
    return response if kept is None else answer(request, kept, cache_control)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def visitors_page(max_age: float = PAGE_MAX_AGE) -> Callable[[Handler], Handler]:
    """A page handler whose answers to anonymous visitors are kept, by URL and language,
    for at most `max_age` seconds. A page that holds the visitor's form token is not kept."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def page(request: web.Request) -> web.StreamResponse:
            if request.get(signed_in_key) is not None or request.method != "GET":
                return await handler(request)
            config = request.app[config_key]
            language = choose_language(request, config.territory.default_language)
            return await cached(
                request,
                ("page", request.path_qs, language),
                lambda: handler(request),
                max_age=max_age,
                cache_control="no-cache",
                private=str(request.get(csrf_key) or "").encode(),
            )

        return page

    return decorate
