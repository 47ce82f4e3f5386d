"""The frozen, typed configuration of one node; every field documented where declared."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import ip_address, ip_network
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

#: Received activities waiting to be applied past which the inbox answers 503 (about a
#: minute of a sustained 333 activities a second).
DEFAULT_MAX_INBOX_BACKLOG = 20_000


class Role(StrEnum):
    """What the node does in the network."""

    TERRITORY = "territory"  #: serves one territory's inhabitants
    COORDINATOR = "coordinator"  #: also aggregates learnings across the territories it follows


class TerritoryLevel(StrEnum):
    """The administrative scale of the territory."""

    COMMUNE = "commune"
    INTERCOMMUNAL = "intercommunal"
    NEIGHBOURHOOD = "neighbourhood"
    REGION = "region"


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Where the node lives on the web and what role it plays."""

    #: public scheme://host[:port] of the node, no path; every id and link starts with it
    base_url: str
    #: territory (default) or coordinator
    role: Role = Role.TERRITORY

    @property
    def domain(self) -> str:
        """host[:port] as used in handles and WebFinger (`acct:territoire@domain`)."""
        return urlsplit(self.base_url).netloc.lower()

    @property
    def host(self) -> str:
        """The host name alone, without the port."""
        return (urlsplit(self.base_url).hostname or "").lower()


@dataclass(frozen=True, slots=True)
class TerritoryConfig:
    """The territory the node serves, as shown on its pages and in its actor."""

    #: display name, e.g. "Saint-Martin-en-Vercors"
    name: str
    #: local part of the territory actor's handle: @handle@domain
    handle: str = "territoire"
    #: a few sentences shown on the home page and in the actor's summary
    description: str = ""
    #: languages of the territory, first is the default for pages and documents
    languages: tuple[str, ...] = ("fr", "en")
    #: commune, intercommunal, neighbourhood or region
    level: TerritoryLevel = TerritoryLevel.COMMUNE
    #: optional GeoJSON file with the territory's boundary (relative to the data directory)
    boundary: Path | None = None
    #: IANA time zone of the territory's clocks: pages, feeds, CSV and forms show and read
    #: times in it; stored and federated times stay UTC
    timezone: str = "Europe/Paris"

    @property
    def default_language(self) -> str:
        """The language used when a visitor states no preference."""
        return self.languages[0]

    @property
    def zone(self) -> ZoneInfo:
        """The territory's time zone, to convert stored UTC moments for people and back."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class FederationConfig:
    """Who the node federates with, and how carefully."""

    #: if not empty, only these domains (and their subdomains) may federate with the node
    allowed_domains: tuple[str, ...] = ()
    #: these domains (and their subdomains) are refused, whatever the allow-list says
    blocked_domains: tuple[str, ...] = ()
    #: followers of the territory wait for an admin's approval
    manual_approval: bool = False
    #: fetch from and deliver to loopback/private addresses and accept http peers
    #: (tests and LAN deployments only; off by default against SSRF)
    allow_private_addresses: bool = False
    #: received activities waiting to be applied past which the inbox answers 503 with
    #: Retry-After (senders retry later) instead of letting the backlog grow without bound
    max_inbox_backlog: int = DEFAULT_MAX_INBOX_BACKLOG

    def is_domain_allowed(self, domain: str) -> bool:
        """Whether a remote domain (host or host:port) may federate under this policy.

        A rule names a host and covers its subdomains; a rule with a port covers that port only.
        """
        if not self.blocked_domains and not self.allowed_domains:
            return True  # no lists: every domain (the node's own blocks are checked apart)
        domain = domain.lower()
        host = domain.rsplit(":", 1)[0] if not domain.endswith("]") else domain

        def matches(rule: str) -> bool:
            return rule in (domain, host) or host.endswith("." + rule)

        if any(matches(rule) for rule in self.blocked_domains):
            return False
        return not self.allowed_domains or any(matches(rule) for rule in self.allowed_domains)


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """The database the node stores everything in."""

    #: SQLAlchemy async URL: sqlite+aiosqlite:///path (default) or postgresql+asyncpg://...
    url: str
    #: how long a process owns what it claimed (inbox items, delivery hosts) without renewing
    #: it; a process that dies (kill -9, a lost machine) loses its claims after this long
    lease_seconds: int = 60

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite default."""
        return self.url.startswith("sqlite")


@dataclass(frozen=True, slots=True)
class OpenDataConfig:
    """How the node's public datasets are published."""

    #: licence of every dataset (SPDX identifier), ODbL by default
    licence: str = "ODbL-1.0"
    #: where people read the licence
    licence_url: str = "https://opendatacommons.org/licenses/odbl/1-0/"


@dataclass(frozen=True, slots=True)
class MapConfig:
    """The map page. With no tile server the map is drawn from the node's own data only."""

    #: optional background tiles, e.g. https://tiles.example/{z}/{x}/{y}.png (never required)
    tile_url: str = ""
    #: the tiles' attribution, shown under the map
    tile_attribution: str = ""


@dataclass(frozen=True, slots=True)
class CoordinationConfig:
    """What a coordinator follows by itself and how often it publishes its digest."""

    #: territories followed at start and by `maillage coordinate sync`: handles or actor URLs
    allow: tuple[str, ...] = ()
    #: days between two digests (0: only `maillage coordinate digest`)
    digest_days: int = 7


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """Where `maillage serve` listens (the public address is node.base_url)."""

    host: str = "127.0.0.1"
    port: int = 8080
    #: web processes sharing the port, each with its inbox and delivery workers (PostgreSQL
    #: only: on SQLite the node runs one process)
    workers: int = 1


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    """Abuse limits: login throttling, inbox rates, fetch concurrency, posting per hour.

    Defaults let a busy real territory through untouched (and the inbox benchmark, which
    sends thousands of activities a second from a few actors on one host).
    """

    #: failed logins counted per login name and per client address within this window
    login_window_minutes: int = 15
    #: after this many failures for a login name, each attempt must wait...
    login_slow_after: int = 5
    #: ...this many seconds, doubled with each further failure
    login_delay_seconds: int = 2
    #: failures for a login name that lock it
    login_lock_account_after: int = 10
    #: failures from one client address (any login names) that lock the address
    login_lock_address_after: int = 30
    #: how long a lock lasts
    login_lock_minutes: int = 15
    #: reverse proxies (addresses or networks) whose X-Forwarded-For last hop is the
    #: client address; empty: the TCP peer is the client
    trusted_proxies: tuple[str, ...] = ()
    #: activities accepted per minute from one remote host (the signer's), and its burst, for
    #: the whole node (each of `http.workers` processes takes its share)
    inbox_host_per_minute: int = 6000
    inbox_host_burst: int = 6000
    #: activities accepted per minute from one remote actor, and its burst
    inbox_actor_per_minute: int = 600
    inbox_actor_burst: int = 600
    #: a remote actor's key is refetched (after a signature failed) at most once per this
    key_refetch_seconds: int = 60
    #: outbound fetches in flight at once towards one remote host
    fetches_per_host: int = 4
    #: what one resident may post from the pages and apps, per hour
    needs_per_hour: int = 10
    comments_per_hour: int = 60
    offers_per_hour: int = 10

    def is_trusted_proxy(self, address: str) -> bool:
        """Whether a TCP peer is one of the trusted reverse proxies."""
        try:
            peer = ip_address(address)
        except ValueError:
            return False
        return any(peer in ip_network(rule, strict=False) for rule in self.trusted_proxies)


@dataclass(frozen=True, slots=True)
class InstanceConfig:
    """Everything a node needs to run, validated once at start-up."""

    #: folder holding maillage.toml, the SQLite database and local files
    data_dir: Path
    node: NodeConfig
    territory: TerritoryConfig
    federation: FederationConfig
    database: DatabaseConfig
    http: HttpConfig
    open_data: OpenDataConfig = OpenDataConfig()
    map: MapConfig = MapConfig()
    coordination: CoordinationConfig = CoordinationConfig()
    limits: LimitsConfig = LimitsConfig()
