"""The node's one outbound HTTP client: signed fetches, WebFinger and inbox deliveries.

Nothing else in the codebase opens a socket to a peer (style.md §8.3.9). Every request goes
through the same guards: https only (unless `allow_http`), the address policy on IP-literal
hosts and, through `FilteringResolver`, on every resolved address; manual redirects (at most
`max_redirects`, each re-checked); a timeout; a response size cap. Fetched ActivityStreams
documents must carry an ActivityStreams content type and an `id` equal to the URL they were
served from (CVE-2024-23832 and GHSA-jhrq-qvrm-qr36, interop.md §9).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver
from yarl import URL

from federation.addresses import (
    AddressPolicy,
    BlockedAddress,
    FilteringResolver,
    is_public_address,
    parse_ip,
    policy_for,
)
from federation.domain_policy import suspends
from federation.ports import DomainPolicy
from federation.signing import Signer
from instance_config import InstanceConfig
from protocols.httpsig import sign_cavage, sign_rfc9421
from protocols.httpsig.verify import Scheme
from protocols.json_input import JsonRefused, parse_json
from protocols.links import keep_web_links

log = logging.getLogger(__name__)

ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"
AS_PROFILE = "https://www.w3.org/ns/activitystreams"
#: what Mastodon ≥ 4.6 sends when fetching (json_ld_helper `build_request`)
ACCEPT_ACTIVITY = f'{ACTIVITY_JSON}, {LD_JSON}; profile="{AS_PROFILE}"'
ACCEPT_JRD = "application/jrd+json, application/json"
#: content types a fetched ActivityStreams document may have. Not application/json: Mastodon
#: refuses it since GHSA-jhrq-qvrm-qr36 (follow-up of CVE-2024-23832), because attackers
#: uploaded JSON "media" to a victim host and had it fetched as the victim's objects.
ACTIVITY_CONTENT_TYPES = frozenset({ACTIVITY_JSON, LD_JSON})
JRD_CONTENT_TYPES = frozenset({"application/jrd+json", "application/json"})
#: how much of a refused delivery's answer is kept for the error message
ERROR_BODY_BYTES = 4096
_ERROR_TEXT_CHARS = 300
_READ_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Legacy numeric IPv4 spellings (2130706433, 127.1, 0x7f.1) that resolvers turn into an
# address: a real host name never ends with an all-numeric label.
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)\Z", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


# ----- errors ---------------------------------------------------------------------------


class FetchError(Exception):
    """A fetch failed; `str(error)` says why in plain words, `url` is what was asked for."""

    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        """Record the URL, the reason and the HTTP status when there was an answer."""
        super().__init__(f"could not fetch {url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


class FetchRefused(FetchError):
    """The node refuses to make the request: scheme, address policy (SSRF), blocked domain.

    Permanent: asking again gives the same answer.
    """


class FetchNotFound(FetchError):
    """The server answered 404: the object does not exist (or is not shown to us)."""


class FetchGone(FetchError):
    """The server answered 410: the object was deleted (a tombstone)."""


class FetchDenied(FetchError):
    """The server refused to serve us (401, 403, 451): e.g. it blocks our node, or it
    requires a signed fetch and none was made. Permanent for this signer."""


class FetchInvalid(FetchError):
    """The answer cannot be trusted or used: wrong content type, too big, not a JSON object,
    `id` not the URL it came from, redirected to another host, too many redirects, an
    unexpected status. Permanent."""


class FetchUnavailable(FetchError):
    """Temporary: network error, timeout, 408, 429 or 5xx. `retry_after` is in seconds
    when the server said when to come back."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Record the reason, the status if any, and the server's Retry-After if any."""
        super().__init__(url, reason, status=status)
        self.retry_after = retry_after


# ----- delivery outcome -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What became of one POST to an inbox; the delivery worker classifies it.

    `status` is None when no HTTP answer came (network error, timeout, or `refused`);
    `retry_after` is in seconds; `error` is None on success, else a plain-words reason
    (with the start of the server's answer); `scheme` is the signature scheme of the last
    attempt; `refused` is True when the node itself refused the URL (scheme, address
    policy, blocked domain) — retrying will not help.
    """

    status: int | None
    retry_after: float | None
    error: str | None
    scheme: Scheme
    refused: bool = False

    @property
    def ok(self) -> bool:
        """True when the inbox accepted the activity (any 2xx)."""
        return self.status is not None and 200 <= self.status < 300


# ----- helpers --------------------------------------------------------------------------


def _utc_now() -> datetime:
    return datetime.now(UTC)


def user_agent(version: str, base_url: str) -> str:
    """The User-Agent of every request: software, version and a link to the node, so that
    a remote admin can tell who is calling and reach them (as Mastodon's `+https://…`)."""
    return f"Maillage/{version} (+{base_url})"


def media_type(content_type: str | None) -> str:
    """The lower-cased media type of a Content-Type value, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _media_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in value.split(";")[1:]:
        name, sep, raw = part.partition("=")
        if sep:
            params[name.strip().lower()] = raw.strip().strip('"')
    return params


def is_activitypub_link_type(link_type: object) -> bool:
    """Whether a WebFinger link `type` designates an ActivityPub actor document.

    application/activity+json, or application/ld+json with the ActivityStreams profile
    (what Mastodon and GoToSocial accept in `self` links, interop.md §1.1).
    """
    if not isinstance(link_type, str):
        return False
    kind = media_type(link_type)
    if kind == ACTIVITY_JSON:
        return True
    return kind == LD_JSON and AS_PROFILE in _media_params(link_type).get("profile", "").split()


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110
    §10.2.3). A date in the past gives 0; anything unreadable gives None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _host(url: URL) -> str:
    """The host as compared and matched against domain rules: lower case, punycode, no
    trailing dot (un-normalised hosts enabled spoofing in CVE-2023-42451)."""
    return (url.raw_host or "").lower().rstrip(".")


def _domain(url: URL) -> str:
    """host[:port], the port only when not the scheme's default (as in handles).

    Also what "the same host" means for redirects: http://a/ -> https://a/ stays on `a`,
    https://a:8443/ is another host than https://a/.
    """
    host = _host(url)
    if ":" in host:
        host = f"[{host}]"
    port = url.port
    return host if port is None or port == _DEFAULT_PORTS.get(url.scheme) else f"{host}:{port}"


def _error_text(data: bytes) -> str:
    text = _WHITESPACE.sub(" ", data.decode("utf-8", errors="replace")).strip()
    return text if len(text) <= _ERROR_TEXT_CHARS else text[:_ERROR_TEXT_CHARS] + "…"


def _describe(error: BaseException, url: URL, total_timeout: float) -> str:
    """A network failure in plain words."""
    where = _domain(url)
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return f"could not resolve {url.host}: {error.os_error}"
    if isinstance(error, aiohttp.ClientConnectorError):
        reason = error.os_error.strerror or str(error.os_error) or type(error.os_error).__name__
        return f"could not connect to {where}: {reason}"
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return f"could not connect to {where} in time"
    if isinstance(error, TimeoutError):
        return f"{where} did not answer within {total_timeout:g} seconds"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return f"{where} closed the connection without answering"
    detail = str(error) or type(error).__name__
    return f"the exchange with {where} failed: {detail}"


def _blocked(error: BaseException) -> BlockedAddress | None:
    if isinstance(error, aiohttp.ClientConnectorError) and isinstance(
        error.os_error, BlockedAddress
    ):
        return error.os_error
    return None


@dataclass(frozen=True, slots=True)
class _Fetched:
    final_url: str  # the URL the body was served from
    redirected: bool
    body: bytes


class HostSlots:
    """At most `per_host` requests in flight at once towards one host; the others wait
    their turn (no fetch storm towards one server, whatever asks for its documents)."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        # host -> (its semaphore, how many hold it or wait for it): dropped when unused
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        """Wait for a free slot of `host`, hold it for the `async with` block."""
        semaphore, users = self._slots.get(host, (asyncio.Semaphore(self._per_host), 0))
        self._slots[host] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._slots[host]
            if users == 1:
                del self._slots[host]
            else:
                self._slots[host] = (semaphore, users - 1)


# ----- the client -----------------------------------------------------------------------


class FederationClient:
    """The one outbound HTTP client of the node: one aiohttp session, every guard applied.

    Create it once, `await start()` (or `async with`), share it, `await close()` at
    shutdown. Fetch errors are typed exceptions (FetchError subclasses); deliveries never
    raise for HTTP statuses or network errors and return a DeliveryOutcome instead.
    """

    def __init__(
        self,
        base_url: str,
        version: str,
        *,
        policy: AddressPolicy = is_public_address,
        allow_http: bool = False,
        max_response_bytes: int = 1_000_000,
        max_redirects: int = 3,
        total_timeout: float = 15.0,
        connect_timeout: float = 5.0,
        fetches_per_host: int = 4,
        domain_allowed: Callable[[str], bool] | None = None,
        clock: Callable[[], datetime] = _utc_now,
        resolver: AbstractResolver | None = None,
    ) -> None:
        """Configure the client; nothing is opened until `start()`.

        `policy` decides which IP addresses may be connected to (`policy_for(config)`);
        `allow_http` permits plain-http peers (loopback tests, LAN); `fetches_per_host`
        caps the GETs in flight at once towards one host (the others wait); `domain_allowed`
        (e.g. `FederationConfig.is_domain_allowed`) refuses blocked domains before any
        connection; `clock` gives the signing time (tests pin it); `resolver` is the DNS
        resolver to filter (aiohttp's DefaultResolver unless a test injects one).
        """
        self.base_url = base_url
        self.user_agent = user_agent(version, base_url)
        self._policy = policy
        self._allow_http = allow_http
        self._max_response_bytes = max_response_bytes
        self._max_redirects = max_redirects
        self._total_timeout = total_timeout
        self._timeout = aiohttp.ClientTimeout(total=total_timeout, connect=connect_timeout)
        self._domain_allowed = domain_allowed
        self._host_slots = HostSlots(fetches_per_host)
        self._clock = clock
        self._inner_resolver = resolver
        self._resolver: FilteringResolver | None = None
        self._session: aiohttp.ClientSession | None = None
        # Double-knocking memory: host[:port] -> the signature scheme that host accepted
        # after the other one was refused. In memory only: relearnt after a restart.
        self._schemes: dict[str, Scheme] = {}

    @classmethod
    def from_config(
        cls, config: InstanceConfig, version: str, domains: DomainPolicy | None = None
    ) -> FederationClient:
        """A client as a node's configuration asks: its base URL, address policy, http
        permission (both from `allow_private_addresses`) and domain allow/block lists; with
        `domains`, the node's moderation blocks too: nothing is fetched from or posted to a
        suspended domain."""
        federation = config.federation

        def domain_allowed(domain: str) -> bool:
            return federation.is_domain_allowed(domain) and not suspends(domains, domain)

        return cls(
            config.node.base_url,
            version,
            policy=policy_for(federation),
            allow_http=federation.allow_private_addresses,
            fetches_per_host=config.limits.fetches_per_host,
            domain_allowed=domain_allowed,
        )

    # ----- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the shared session (connection pool, filtering resolver). Idempotent."""
        if self._session is not None:
            return
        self._resolver = FilteringResolver(self._policy, self._inner_resolver or DefaultResolver())
        connector = aiohttp.TCPConnector(resolver=self._resolver)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            headers={"User-Agent": self.user_agent},
            # No cookies between peers (no cross-site state), no proxy from the environment
            # (it would connect on our behalf, past the address policy).
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
        )

    async def close(self) -> None:
        """Close the session and its resolver; the client may be started again later."""
        session, resolver = self._session, self._resolver
        self._session = self._resolver = None
        if session is not None:
            await session.close()
        if resolver is not None:
            await resolver.close()

    async def __aenter__(self) -> Self:
        """`async with FederationClient(...) as client:` starts it…"""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """…and closes it."""
        await self.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session; a RuntimeError before `start()`."""
        if self._session is None:
            raise RuntimeError("FederationClient is not started: await client.start() first")
        return self._session

    # ----- URL guards ---------------------------------------------------------------------

    def _parse(self, url: str) -> URL:
        try:
            parsed = URL(url)
        except (TypeError, ValueError) as error:
            raise FetchRefused(url, f"not a valid URL ({error})") from None
        return parsed.with_fragment(None)

    def _check(self, url: URL, asked: str) -> None:
        """Refuse, before any connection, what the node must not request."""
        allowed = ("http", "https") if self._allow_http else ("https",)
        if url.scheme not in allowed:
            hint = " (plain http is only allowed with allow_private_addresses)"
            raise FetchRefused(
                asked,
                f"only {' and '.join(allowed)} URLs are requested, not {url}"
                + (hint if url.scheme == "http" else ""),
            )
        host = _host(url)
        if not host:
            raise FetchRefused(asked, f"{url} has no host")
        if url.user is not None or url.password is not None:
            raise FetchRefused(asked, f"{url} carries credentials")
        address = parse_ip(host)
        if address is None and _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
            raise FetchRefused(asked, f"{host} is not a host name nor a canonical IP address")
        # aiohttp does not call the resolver for IP literals: check them here.
        if address is not None and not self._policy(address):
            raise FetchRefused(
                asked,
                f"{url} is at {address}, an address the node may not reach (private, "
                "loopback or reserved); allow_private_addresses permits it",
            )
        if self._domain_allowed is not None and not self._domain_allowed(_domain(url)):
            raise FetchRefused(asked, f"the domain {_domain(url)} is blocked by this node")

    # ----- GET ----------------------------------------------------------------------------

    async def _get(
        self,
        url: str,
        *,
        accept: str,
        signer: Signer | None,
        content_types: Collection[str],
        same_host: bool,
    ) -> _Fetched:
        """GET `url` following redirects by hand; return the body of the final answer.

        Each hop is re-checked (scheme, literal address, domain; DNS names by the resolver)
        and re-signed (the signature covers the host and path). With `same_host`, a
        redirect to another host is refused before it is followed.
        """
        session = self.session
        current = self._parse(url)
        for hop in range(self._max_redirects + 1):
            self._check(current, url)
            target = str(current)
            headers = {"Accept": accept}
            if signer is not None:
                headers |= sign_cavage(
                    "GET", target, headers, None, signer.private_key, signer.key_id, self._clock()
                )
            try:
                async with (
                    self._host_slots.hold(_domain(current)),
                    session.get(current, headers=headers, allow_redirects=False) as answer,
                ):
                    if answer.status in _REDIRECTS:
                        current = self._redirect_target(url, current, answer, hop, same_host)
                        continue
                    self._check_status(url, answer)
                    kind = media_type(answer.headers.get("Content-Type"))
                    if kind not in content_types:
                        raise FetchInvalid(
                            url,
                            f"the answer is {kind or 'untyped'}, expected "
                            f"{' or '.join(sorted(content_types))}",
                            status=answer.status,
                        )
                    body = await self._read_capped(url, answer)
                    return _Fetched(target, hop > 0, body)
            except aiohttp.InvalidURL as error:
                raise FetchRefused(url, f"not a valid URL ({error})") from None
            except (aiohttp.ClientError, TimeoutError) as error:
                blocked = _blocked(error)
                if blocked is not None:
                    raise FetchRefused(url, str(blocked)) from None
                reason = _describe(error, current, self._total_timeout)
                raise FetchUnavailable(url, reason) from None
        raise AssertionError("unreachable: the last hop returns or raises")  # pragma: no cover

    def _redirect_target(
        self,
        asked: str,
        current: URL,
        answer: aiohttp.ClientResponse,
        hop: int,
        same_host: bool,
    ) -> URL:
        location = answer.headers.get("Location")
        if not location:
            raise FetchInvalid(
                asked, f"HTTP {answer.status} redirect without a Location", status=answer.status
            )
        if hop >= self._max_redirects:
            raise FetchInvalid(
                asked, f"more than {self._max_redirects} redirects", status=answer.status
            )
        try:
            following = current.join(URL(location)).with_fragment(None)
        except (TypeError, ValueError):
            raise FetchInvalid(
                asked, f"redirect to an invalid URL {location!r}", status=answer.status
            ) from None
        # The policy checks come first (they explain more), then the origin rule.
        self._check(following, asked)
        if same_host and _domain(following) != _domain(current):
            # No cross-origin laundering: a document is only trusted from its own host.
            raise FetchInvalid(
                asked, f"redirected to another host ({following})", status=answer.status
            )
        log.debug("following redirect %s -> %s", current, following)
        return following

    def _check_status(self, asked: str, answer: aiohttp.ClientResponse) -> None:
        status = answer.status
        if 200 <= status < 300:
            return
        said = f"the server answered {status} {answer.reason or ''}".rstrip()
        if status == 404:
            raise FetchNotFound(asked, said, status=status)
        if status == 410:
            raise FetchGone(asked, said, status=status)
        if status in (401, 403, 451):
            raise FetchDenied(asked, said, status=status)
        if status in (408, 429) or status >= 500:
            retry_after = parse_retry_after(answer.headers.get("Retry-After"), self._clock())
            raise FetchUnavailable(asked, said, status=status, retry_after=retry_after)
        raise FetchInvalid(asked, said, status=status)

    async def _read_capped(self, asked: str, answer: aiohttp.ClientResponse) -> bytes:
        """The body, read in chunks and abandoned as soon as it exceeds the cap."""
        limit = self._max_response_bytes
        too_big = f"the answer is larger than {limit} bytes"
        if answer.content_length is not None and answer.content_length > limit:
            answer.close()
            raise FetchInvalid(asked, too_big, status=answer.status)
        body = bytearray()
        async for chunk in answer.content.iter_chunked(_READ_CHUNK):
            body += chunk
            if len(body) > limit:
                answer.close()  # drop the connection rather than read the rest
                raise FetchInvalid(asked, too_big, status=answer.status)
        return bytes(body)

    @staticmethod
    def _json_object(asked: str, body: bytes) -> dict[str, Any]:
        """The answer as a JSON object, nested no deeper than protocols.json_input allows."""
        try:
            document = parse_json(body)
        except JsonRefused as refused:
            raise FetchInvalid(asked, f"the answer is {refused}") from None
        if not isinstance(document, dict):
            raise FetchInvalid(
                asked, f"the answer is a JSON {type(document).__name__}, not an object"
            )
        return document

    async def fetch_document(self, url: str, signer: Signer | None) -> dict[str, Any]:
        """GET an ActivityStreams document, signed by `signer` (our instance actor) if given.

        Signed GETs because Mastodon in authorized-fetch mode and GoToSocial refuse
        unsigned ones (interop.md §2.2). The document must be served as activity+json or
        ld+json and its `id` must be the URL it was served from, on the host asked for —
        otherwise anyone able to serve JSON somewhere could make us believe it is another
        server's object (CVE-2024-23832). A fragment in `url` (a key id such as
        `…/actor#main-key`) is not sent and not compared: the document at the URL without
        it must carry that id. Links that are not http(s) (https only, unless
        `allow_http`) are dropped from the document. Raises a FetchError subclass.
        """
        fetched = await self._get(
            url,
            accept=ACCEPT_ACTIVITY,
            signer=signer,
            content_types=ACTIVITY_CONTENT_TYPES,
            same_host=True,
        )
        document = self._json_object(url, fetched.body)
        served_from = {fetched.final_url}
        if not fetched.redirected:
            served_from.add(url.split("#", 1)[0])  # the caller's spelling, before yarl's
        found = document.get("id")
        if not isinstance(found, str) or found not in served_from:
            raise FetchInvalid(
                url, f"its id {found!r} is not the URL it was served from ({fetched.final_url})"
            )
        return keep_web_links(document, allow_http=self._allow_http)

    async def webfinger(self, acct: str) -> str:
        """Find the actor URL of a handle: `acct:user@host[:port]`, `user@host` or `@user@host`.

        Queries `/.well-known/webfinger` on the handle's host (https; plain http when
        `allow_http`, because loopback test peers only speak http) and returns the href
        of the `self` link typed application/activity+json or ld+json with the
        ActivityStreams profile. The actor may live on another host (Mastodon's
        WEB_DOMAIN setups redirect WebFinger there): the caller checks the round trip
        (interop.md §1.2). Raises a FetchError subclass.
        """
        user, domain = parse_acct(acct)
        scheme = "http" if self._allow_http else "https"
        try:
            url = URL.build(
                scheme=scheme,
                authority=domain,
                path="/.well-known/webfinger",
                query={"resource": f"acct:{user}@{domain}"},
            )
        except (TypeError, ValueError) as error:
            raise FetchRefused(acct, f"not a valid handle ({error})") from None
        fetched = await self._get(
            str(url),
            accept=ACCEPT_JRD,
            signer=None,
            content_types=JRD_CONTENT_TYPES,
            same_host=False,
        )
        document = self._json_object(str(url), fetched.body)
        links = document.get("links")
        for link in links if isinstance(links, list) else []:
            if (
                isinstance(link, dict)
                and link.get("rel") == "self"
                and is_activitypub_link_type(link.get("type"))
                and isinstance(link.get("href"), str)
            ):
                href: str = link["href"]
                try:
                    actor = URL(href)
                except (TypeError, ValueError):
                    continue
                if actor.scheme in ("http", "https") and actor.host and actor.is_absolute():
                    return href
        raise FetchInvalid(str(url), f"the WebFinger answer names no ActivityPub actor for {acct}")

    # ----- POST ---------------------------------------------------------------------------

    async def post_activity(self, inbox_url: str, body: bytes, signer: Signer) -> DeliveryOutcome:
        """POST an activity (the exact bytes to send) to an inbox, signed by its actor.

        Signed with draft-cavage (what every Mastodon release verifies); if the inbox
        answers 401 or 400, the same request is sent once more signed with the other
        scheme, RFC 9421 — "double-knocking" as Mastodon 4.7 does (cavage first) — and
        the scheme that worked is remembered for that host, so that its next delivery
        starts with it. Redirects are not followed. Never raises for HTTP statuses or
        network errors: see DeliveryOutcome. Signatures are made now, never reused.
        """
        first: Scheme = "cavage"
        try:
            target = self._parse(inbox_url)
            self._check(target, inbox_url)
        except FetchRefused as refusal:
            return DeliveryOutcome(None, None, str(refusal), first, refused=True)
        host = _domain(target)
        first = self._schemes.get(host, "cavage")
        outcome = await self._post_once(target, body, signer, first)
        if outcome.status not in (400, 401):
            return outcome
        second: Scheme = "rfc9421" if first == "cavage" else "cavage"
        log.debug("%s refused a %s signature (%s), trying %s", host, first, outcome, second)
        retried = await self._post_once(target, body, signer, second)
        if retried.ok:
            if second == "cavage":
                self._schemes.pop(host, None)
            else:
                self._schemes[host] = second
            return retried
        error = f"{retried.error} (signed with {first} first, answered {outcome.status})"
        return DeliveryOutcome(retried.status, retried.retry_after, error, second, retried.refused)

    async def _post_once(
        self, target: URL, body: bytes, signer: Signer, scheme: Scheme
    ) -> DeliveryOutcome:
        url = str(target)
        now = self._clock()
        headers = {"Content-Type": ACTIVITY_JSON}
        # Signing is the costliest step of a delivery; OpenSSL releases the GIL, so it runs in
        # a worker thread, on the other core, while the event loop goes on sending.
        if scheme == "cavage":
            # Covers (request-target) host date digest content-type, adds Date, Host, Digest.
            headers |= await asyncio.to_thread(
                sign_cavage, "POST", url, headers, body, signer.private_key, signer.key_id, now
            )
        else:
            headers["Date"] = format_datetime(now, usegmt=True)
            # Covers @method @target-uri content-digest, adds Content-Digest. Never both
            # forms at once: Mastodon ≥ 4.5 then reads only the RFC 9421 one.
            headers |= await asyncio.to_thread(
                sign_rfc9421, "POST", url, headers, body, signer.private_key, signer.key_id, now
            )
        try:
            async with self.session.post(
                target, data=body, headers=headers, allow_redirects=False
            ) as answer:
                retry_after = parse_retry_after(answer.headers.get("Retry-After"), now)
                start = await self._read_start(answer)
                if not answer.content.at_eof():
                    answer.close()  # discard the rest without reading it
                error = None
                if not 200 <= answer.status < 300:
                    said = f"the inbox answered {answer.status} {answer.reason or ''}".rstrip()
                    detail = _error_text(start)
                    error = f"{said}: {detail}" if detail else said
                return DeliveryOutcome(answer.status, retry_after, error, scheme)
        except aiohttp.InvalidURL as error:
            return DeliveryOutcome(None, None, f"not a valid URL ({error})", scheme, refused=True)
        except (aiohttp.ClientError, TimeoutError) as error:
            blocked = _blocked(error)
            if blocked is not None:
                return DeliveryOutcome(None, None, str(blocked), scheme, refused=True)
            return DeliveryOutcome(
                None, None, _describe(error, target, self._total_timeout), scheme
            )

    @staticmethod
    async def _read_start(answer: aiohttp.ClientResponse) -> bytes:
        data = bytearray()
        while len(data) < ERROR_BODY_BYTES:
            chunk = await answer.content.read(ERROR_BODY_BYTES - len(data))
            if not chunk:
                break
            data += chunk
        return bytes(data)


def parse_acct(acct: str) -> tuple[str, str]:
    """Split a handle into (user, host[:port]): `acct:user@host`, `user@host`, `@user@host`.

    The domain is lower-cased and loses a trailing dot; anything that could smuggle a
    path, query or userinfo into the WebFinger URL is refused (FetchRefused).
    """
    handle = acct.strip().removeprefix("acct:").removeprefix("@")
    user, sep, domain = handle.rpartition("@")
    host, colon, port = domain.lower(), "", ""
    if ":" in host and not host.endswith("]"):
        host, colon, port = host.rpartition(":")
    host = host.rstrip(".")
    if (
        not sep
        or not user
        or not host
        or (colon and not port.isdigit())
        or "@" in user
        or any(char in handle for char in "/?#\\ \t\r\n")
    ):
        raise FetchRefused(acct, "not a handle of the form user@host")
    return user, f"{host}{colon}{port}"
