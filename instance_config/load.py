"""Read maillage.toml, apply MAILLAGE_<SECTION>_<KEY> overrides, validate into InstanceConfig.

Precedence is file < environment < explicit overrides (the CLI's options). Every problem is
collected and reported together, each naming its key and what is expected.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from instance_config.errors import ConfigError
from instance_config.model import (
    DEFAULT_MAX_INBOX_BACKLOG,
    CoordinationConfig,
    DatabaseConfig,
    FederationConfig,
    HttpConfig,
    InstanceConfig,
    LimitsConfig,
    MapConfig,
    NodeConfig,
    OpenDataConfig,
    Role,
    TerritoryConfig,
    TerritoryLevel,
)
from instance_config.values import (
    MISSING,
    parse_actor_refs,
    parse_base_url,
    parse_bool,
    parse_boundary,
    parse_count,
    parse_database_url,
    parse_days,
    parse_domains,
    parse_enum,
    parse_handle,
    parse_languages,
    parse_networks,
    parse_port,
    parse_text,
    parse_tile_url,
    parse_timezone,
)

CONFIG_FILE_NAME = "maillage.toml"
ENV_PREFIX = "MAILLAGE_"

Parser = Callable[[Any, Path], Any]

#: section -> key -> (parser, default); defaults go through the parser too; MISSING marks
#: a required key.
SCHEMA: dict[str, dict[str, tuple[Parser, Any]]] = {
    "node": {
        "base_url": (parse_base_url, MISSING),
        "role": (parse_enum(Role), Role.TERRITORY),
    },
    "territory": {
        "name": (parse_text(required=True), MISSING),
        "handle": (parse_handle, "territoire"),
        "description": (parse_text(required=False), ""),
        "languages": (parse_languages, ["fr", "en"]),
        "level": (parse_enum(TerritoryLevel), TerritoryLevel.COMMUNE),
        "boundary": (parse_boundary, None),
        "timezone": (parse_timezone, "Europe/Paris"),
    },
    "federation": {
        "allowed_domains": (parse_domains, []),
        "blocked_domains": (parse_domains, []),
        "manual_approval": (parse_bool, False),
        "allow_private_addresses": (parse_bool, False),
        "max_inbox_backlog": (parse_count(1, 10_000_000), DEFAULT_MAX_INBOX_BACKLOG),
    },
    "database": {
        "url": (parse_database_url, "sqlite:///maillage.sqlite3"),
        "lease_seconds": (parse_count(2, 3600), 60),
    },
    "http": {
        "host": (parse_text(required=True), "127.0.0.1"),
        "port": (parse_port, None),
        "workers": (parse_count(1, 64), 1),
    },
    "open_data": {
        "licence": (parse_text(required=True), "ODbL-1.0"),
        "licence_url": (
            parse_text(required=True),
            "https://opendatacommons.org/licenses/odbl/1-0/",
        ),
    },
    "map": {
        "tile_url": (parse_tile_url, ""),
        "tile_attribution": (parse_text(required=False), ""),
    },
    "coordination": {
        "allow": (parse_actor_refs, []),
        "digest_days": (parse_days, 7),
    },
    "limits": {
        "login_window_minutes": (parse_count(1, 1440), 15),
        "login_slow_after": (parse_count(1, 1000), 5),
        "login_delay_seconds": (parse_count(1, 3600), 2),
        "login_lock_account_after": (parse_count(1, 1000), 10),
        "login_lock_address_after": (parse_count(1, 100_000), 30),
        "login_lock_minutes": (parse_count(1, 1440), 15),
        "trusted_proxies": (parse_networks, []),
        "inbox_host_per_minute": (parse_count(1, 1_000_000), 6000),
        "inbox_host_burst": (parse_count(1, 1_000_000), 6000),
        "inbox_actor_per_minute": (parse_count(1, 1_000_000), 600),
        "inbox_actor_burst": (parse_count(1, 1_000_000), 600),
        "key_refetch_seconds": (parse_count(1, 86_400), 60),
        "fetches_per_host": (parse_count(1, 100), 4),
        "needs_per_hour": (parse_count(1, 10_000), 10),
        "comments_per_hour": (parse_count(1, 10_000), 60),
        "offers_per_hour": (parse_count(1, 10_000), 10),
    },
}


def load_config(
    data_dir: Path,
    environ: Mapping[str, str],
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> InstanceConfig:
    """Load DATA_DIR/maillage.toml with environment and explicit overrides, or raise ConfigError."""
    path = data_dir / CONFIG_FILE_NAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            [f"{path}: no configuration file; create one with `maillage init --data {data_dir}`"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot be read ({exc})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML ({exc})"]) from None
    return parse_config(raw, data_dir, environ, overrides)


def parse_config(
    raw: Mapping[str, Any],
    data_dir: Path,
    environ: Mapping[str, str],
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> InstanceConfig:
    """Validate a configuration mapping (as read from TOML) into an InstanceConfig."""
    problems: list[str] = []
    merged = _merge(raw, _environment_overrides(environ, problems), overrides or {}, problems)
    values: dict[str, dict[str, Any]] = {}
    for section, keys in SCHEMA.items():
        given = merged.get(section, {})
        values[section] = {}
        for key, (parser, default) in keys.items():
            if key not in given and default is MISSING:
                problems.append(f"{section}.{key}: required, but not set")
                continue
            value = given.get(key, default)
            try:
                values[section][key] = None if value is None else parser(value, data_dir)
            except ValueError as exc:
                problems.append(f"{section}.{key}: {exc}")
    problems += _limits_problems(values.get("limits", {}))
    if problems:
        raise ConfigError(problems)
    return _build(values, data_dir)


def _limits_problems(limits: Mapping[str, Any]) -> list[str]:
    """Login limits must slow down before they lock, or the slow-down never shows."""
    slow, lock = limits.get("login_slow_after"), limits.get("login_lock_account_after")
    if isinstance(slow, int) and isinstance(lock, int) and slow >= lock:
        return [
            f"limits.login_slow_after: must be below limits.login_lock_account_after ({lock}); "
            f"got {slow}"
        ]
    return []


def _merge(
    raw: Mapping[str, Any],
    from_env: Mapping[str, Mapping[str, Any]],
    overrides: Mapping[str, Mapping[str, Any]],
    problems: list[str],
) -> dict[str, dict[str, Any]]:
    """Layer file, environment and overrides, refusing unknown sections and keys."""
    merged: dict[str, dict[str, Any]] = {}
    for layer in (raw, from_env, overrides):
        for section, keys in layer.items():
            if section not in SCHEMA:
                problems.append(
                    f"[{section}]: unknown section; expected one of {', '.join(SCHEMA)}"
                )
                continue
            if not isinstance(keys, Mapping):
                problems.append(f"[{section}]: expected a table of keys")
                continue
            for key, value in keys.items():
                if key not in SCHEMA[section]:
                    expected = ", ".join(SCHEMA[section])
                    problems.append(f"{section}.{key}: unknown key; expected one of {expected}")
                elif value is not None:
                    merged.setdefault(section, {})[key] = value
    return merged


def _environment_overrides(
    environ: Mapping[str, str], problems: list[str]
) -> dict[str, dict[str, str]]:
    """MAILLAGE_<SECTION>_<KEY>=value pairs, as strings for the parsers to read."""
    found: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section = next((s for s in SCHEMA if rest.startswith(s + "_")), None)
        if section is None:
            continue  # another MAILLAGE_ variable (e.g. the CLI's MAILLAGE_DATA)
        key = rest[len(section) + 1 :]
        if key not in SCHEMA[section]:
            problems.append(
                f"{name}: unknown setting; expected MAILLAGE_{section.upper()}_ followed by one of "
                + ", ".join(k.upper() for k in SCHEMA[section])
            )
            continue
        found.setdefault(section, {})[key] = value
    return found


def _build(values: dict[str, dict[str, Any]], data_dir: Path) -> InstanceConfig:
    """Assemble the frozen configuration from validated values."""
    node = NodeConfig(**values["node"])
    territory = TerritoryConfig(**values["territory"])
    http = values["http"]
    if http["port"] is None:
        http["port"] = _port_of(node.base_url)
    return InstanceConfig(
        data_dir=data_dir,
        node=node,
        territory=territory,
        federation=FederationConfig(**values["federation"]),
        database=DatabaseConfig(**values["database"]),
        http=HttpConfig(**http),
        open_data=OpenDataConfig(**values["open_data"]),
        map=MapConfig(**values["map"]),
        coordination=CoordinationConfig(**values["coordination"]),
        limits=LimitsConfig(**values["limits"]),
    )


def _port_of(base_url: str) -> int:
    """The port named in the base URL, or 8080 behind a reverse proxy on 80/443."""
    port = urlsplit(base_url).port
    return port if port is not None else 8080
