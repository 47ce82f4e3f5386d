"""Write a first maillage.toml: commented, so an admin can read and edit it by hand."""

from __future__ import annotations

import json

from instance_config.model import InstanceConfig


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML escapes)."""
    return json.dumps(value, ensure_ascii=False)


def _toml_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(_toml_string(v) for v in values) + "]"


def render_config_toml(config: InstanceConfig, database_url: str) -> str:
    """The text of maillage.toml for a configuration; `database_url` is written as given
    (relative SQLite paths stay relative, so the data directory can be moved)."""
    t, f, lim = config.territory, config.federation, config.limits
    boundary = '# boundary = "boundary.geojson"'
    if t.boundary:
        relative = (
            t.boundary.relative_to(config.data_dir)
            if t.boundary.is_relative_to(config.data_dir)
            else t.boundary
        )
        boundary = f"boundary = {_toml_string(str(relative))}"
    return f"""\
# Maillage node configuration.
# Every key can be overridden by an environment variable MAILLAGE_<SECTION>_<KEY>,
# e.g. MAILLAGE_DATABASE_URL or MAILLAGE_FEDERATION_MANUAL_APPROVAL=true.
# Check it with: maillage check --data <this folder>

[node]
# public scheme://host[:port]; never change it once the node has federated
base_url = {_toml_string(config.node.base_url)}
role = {_toml_string(config.node.role.value)}   # territory or coordinator

[territory]
name = {_toml_string(t.name)}
# the territory's fediverse handle: @{t.handle}@{config.node.domain}
handle = {_toml_string(t.handle)}
description = {_toml_string(t.description)}
languages = {_toml_list(t.languages)}   # first one is the default language
level = {_toml_string(t.level.value)}   # commune, intercommunal, neighbourhood or region
# IANA time zone: pages, feeds, CSV and forms show times on this clock (stored times stay UTC),
# e.g. "Europe/Paris", "America/Martinique", "Indian/Reunion", "Pacific/Noumea"
timezone = {_toml_string(t.timezone)}
# GeoJSON Polygon/MultiPolygon of the territory, relative to this folder
{boundary}

[federation]
allowed_domains = {_toml_list(f.allowed_domains)}   # empty: every domain not blocked
blocked_domains = {_toml_list(f.blocked_domains)}
manual_approval = {str(f.manual_approval).lower()}   # followers wait for an admin's approval
allow_private_addresses = {str(f.allow_private_addresses).lower()}   # tests and LAN only
# received activities waiting to be applied past which the inbox answers 503 + Retry-After
max_inbox_backlog = {f.max_inbox_backlog}

[database]
url = {_toml_string(database_url)}   # or postgresql://user:password@host/dbname
# seconds a process owns the inbox items and delivery hosts it claimed without renewing them:
# a process that dies loses its claims after this long (PostgreSQL, several processes)
lease_seconds = {config.database.lease_seconds}

[http]
host = {_toml_string(config.http.host)}   # where `maillage serve` listens
port = {config.http.port}
workers = {config.http.workers}   # web processes on the port; more than 1 needs PostgreSQL

[open_data]
licence = {_toml_string(config.open_data.licence)}   # licence of the public datasets (SPDX)
licence_url = {_toml_string(config.open_data.licence_url)}

[map]
# optional background tiles, e.g. "https://tiles.example/{{z}}/{{x}}/{{y}}.png"; empty: none
tile_url = {_toml_string(config.map.tile_url)}
tile_attribution = {_toml_string(config.map.tile_attribution)}

[coordination]
# with node.role = "coordinator": territories followed at start and by `maillage coordinate sync`,
# e.g. ["@territoire@saint-x.example"]; others are followed when their admins ask (they follow
# this node) and an admin accepts on the admin page
allow = {_toml_list(config.coordination.allow)}
digest_days = {config.coordination.digest_days}   # days between digests; 0: only on command

[limits]
# Logins: failures are counted per login name and per client address over a window; after
# login_slow_after failures a login name must wait login_delay_seconds (doubled with each
# further failure) between attempts, and it is locked after login_lock_account_after
# failures, an address after login_lock_address_after (residents are told when to retry).
login_window_minutes = {lim.login_window_minutes}
login_slow_after = {lim.login_slow_after}
login_delay_seconds = {lim.login_delay_seconds}
login_lock_account_after = {lim.login_lock_account_after}
login_lock_address_after = {lim.login_lock_address_after}
login_lock_minutes = {lim.login_lock_minutes}
# behind a reverse proxy, its addresses (or networks): the last X-Forwarded-For hop it adds is
# then the client address, e.g. ["127.0.0.1", "::1"]; empty: the TCP peer is the client
trusted_proxies = {_toml_list(lim.trusted_proxies)}
# Inbox: activities per minute (and burst) from one remote host and from one remote actor;
# above them the inbox answers 429 with Retry-After (senders retry later)
inbox_host_per_minute = {lim.inbox_host_per_minute}
inbox_host_burst = {lim.inbox_host_burst}
inbox_actor_per_minute = {lim.inbox_actor_per_minute}
inbox_actor_burst = {lim.inbox_actor_burst}
key_refetch_seconds = {lim.key_refetch_seconds}   # one refetch of an actor's key per this
fetches_per_host = {lim.fetches_per_host}   # outbound fetches in flight at once per remote host
# what one resident may post per hour (pages and apps); above it: 429 and when to retry
needs_per_hour = {lim.needs_per_hour}
comments_per_hour = {lim.comments_per_hour}
offers_per_hour = {lim.offers_per_hour}
"""
