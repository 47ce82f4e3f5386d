"""Parsers for single configuration values: each returns the typed value or raises ValueError
saying what is expected (the caller prefixes the key's name)."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import available_timezones


class _Missing:
    """Marker for a required key without a default."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

#: Local handles: ASCII, lower case, Mastodon's username rule, no dots (dots are kept for the
#: instance actor, whose username is the host name, so the two can never collide).
HANDLE_RE = re.compile(r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$")
HANDLE_MAX = 30
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_DOMAIN_RE = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}(?::\d{1,5})?$"
)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

E = TypeVar("E", bound=StrEnum)


def parse_text(*, required: bool) -> Callable[[Any, Path], str]:
    """A parser for a string, non-empty when `required`."""

    def parse(value: Any, _data_dir: Path) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")
        text: str = value.strip()
        if required and not text:
            raise ValueError("expected a non-empty text")
        return text

    return parse


def parse_enum(kind: type[E]) -> Callable[[Any, Path], E]:
    """A parser for one of an enumeration's values."""

    def parse(value: Any, _data_dir: Path) -> E:
        try:
            return kind(str(value).strip().lower())
        except ValueError:
            choices = ", ".join(member.value for member in kind)
            raise ValueError(f"expected one of {choices}; got {value!r}") from None

    return parse


def parse_bool(value: Any, _data_dir: Path) -> bool:
    """true/false, also as the strings an environment variable carries."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"expected true or false; got {value!r}")


def parse_port(value: Any, _data_dir: Path) -> int:
    """A TCP port number, 1-65535."""
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a port number (1-65535); got {value!r}") from None
    if not 1 <= port <= 65535 or isinstance(value, bool):
        raise ValueError(f"expected a port number (1-65535); got {value!r}")
    return port


def _string_list(value: Any) -> list[str]:
    """A TOML array of strings, or a comma-separated string (environment)."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise ValueError(f"expected a list of texts; got {value!r}")


def parse_languages(value: Any, _data_dir: Path) -> tuple[str, ...]:
    """Language codes such as fr, en, oc, br-FR; the first is the default."""
    languages = _string_list(value)
    if not languages:
        raise ValueError('expected at least one language code, e.g. ["fr", "en"]')
    for code in languages:
        if not _LANGUAGE_RE.match(code):
            raise ValueError(f"expected language codes like fr or en; got {code!r}")
    return tuple(dict.fromkeys(languages))


def parse_domains(value: Any, _data_dir: Path) -> tuple[str, ...]:
    """Domain names (optionally with a port), lower-cased."""
    domains = [domain.lower() for domain in _string_list(value)]
    for domain in domains:
        if not _DOMAIN_RE.match(domain):
            raise ValueError(f"expected domain names like town.example; got {domain!r}")
    return tuple(domains)


def parse_handle(value: Any, _data_dir: Path) -> str:
    """A local handle: lower-case ASCII letters, digits, '_' and inner '-', at most 30."""
    if not isinstance(value, str) or not HANDLE_RE.match(value) or len(value) > HANDLE_MAX:
        raise ValueError(
            f"expected lower-case letters, digits, '_' or inner '-' (at most {HANDLE_MAX}), "
            f"as Mastodon requires; got {value!r}"
        )
    return value


def parse_base_url(value: Any, _data_dir: Path) -> str:
    """scheme://host[:port] with http or https and nothing after the host."""
    if not isinstance(value, str):
        raise ValueError(f"expected a URL like https://town.example; got {value!r}")
    parts = urlsplit(value.strip().rstrip("/"))
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(f"the port in {value!r} is not a number between 0 and 65535") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected http:// or https:// followed by a host; got {value!r}")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(
            f"expected only scheme, host and port (serve Maillage at the root of its host); "
            f"got {value!r}"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


#: Files of a zone database that are not places: the machine's own setting, and the
#: placeholder zone of unconfigured systems.
_NOT_ZONES = frozenset({"localtime", "Factory"})


@cache
def _zone_names() -> frozenset[str]:
    """The IANA zone names this machine knows (system zone data, or the tzdata package);
    read once per process: walking the zone folders takes some 20 ms."""
    return frozenset(available_timezones()) - _NOT_ZONES


def parse_timezone(value: Any, _data_dir: Path) -> str:
    """An IANA time zone name such as Europe/Paris, as the machine's zone database knows it.

    Only the names of places pass (not `localtime`, the machine's own setting), so a node
    shows the same times whatever machine it runs on.
    """
    example = "expected an IANA time zone name such as Europe/Paris or America/Martinique"
    if not isinstance(value, str):
        raise ValueError(f"{example}; got {value!r}")
    names = _zone_names()
    if not names:
        raise ValueError(
            "this machine has no time zone database; install the tzdata package "
            "(pip install tzdata, or the system's tzdata)"
        )
    name = value.strip()
    if name in names:
        return name
    close = difflib.get_close_matches(name, names, n=1) or [
        known for known in names if known.lower() == name.lower()
    ]
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ValueError(f"{example}; got {value!r}{hint}")


def parse_tile_url(value: Any, _data_dir: Path) -> str:
    """An http(s) URL template with {z}, {x} and {y}, or empty for no background tiles."""
    if not isinstance(value, str):
        raise ValueError(f"expected a URL template or an empty text; got {value!r}")
    template: str = value.strip()
    if not template:
        return ""
    if not template.startswith(("https://", "http://")) or not all(
        part in template for part in ("{z}", "{x}", "{y}")
    ):
        raise ValueError(
            "expected an http(s) URL with {z}, {x} and {y}, e.g. https://tiles.example/{z}/{x}/{y}.png"
        )
    return template


def parse_database_url(value: Any, data_dir: Path) -> str:
    """A SQLite or PostgreSQL URL, normalised to its async driver; relative SQLite paths
    are taken inside the data directory."""
    if not isinstance(value, str) or "://" not in value:
        raise ValueError(
            f"expected sqlite:///file.sqlite3 or postgresql://user:password@host/db; got {value!r}"
        )
    scheme, rest = value.strip().split("://", 1)
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        path = rest[1:] if rest.startswith("/") else rest
        if not path or path == ":memory:":
            return "sqlite+aiosqlite:///:memory:"
        file = Path(path) if rest.startswith("//") else data_dir / path
        return f"sqlite+aiosqlite:///{file}"
    if scheme in ("postgresql", "postgres", "postgresql+asyncpg"):
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(f"expected a sqlite:// or postgresql:// URL; got scheme {scheme!r}")


def parse_boundary(value: Any, data_dir: Path) -> Path:
    """A GeoJSON file (Polygon, MultiPolygon, or a Feature/FeatureCollection of them)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected the path of a GeoJSON file; got {value!r}")
    path = data_dir / value.strip()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a readable JSON file ({exc})") from None
    for geometry in _geometries(document):
        _check_polygonal(geometry)
    return path


def _geometries(document: Any) -> list[Any]:
    """The geometries inside a GeoJSON geometry, Feature or FeatureCollection."""
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list) or not features:
            raise ValueError("the FeatureCollection has no features")
        return [geometry for feature in features for geometry in _geometries(feature)]
    if kind == "Feature":
        return [document.get("geometry")]
    return [document]


def _check_polygonal(geometry: Any) -> None:
    """Refuse anything but a Polygon or MultiPolygon with longitude/latitude in range."""
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon" and isinstance(coordinates, list):
        polygons = coordinates
    else:
        raise ValueError(f"expected a Polygon or MultiPolygon boundary; got {kind!r}")
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise ValueError("a polygon has no rings")
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise ValueError("a polygon ring needs at least 4 positions")
            for position in ring:
                _check_position(position)


def _check_position(position: Any) -> None:
    """A [longitude, latitude] pair within the globe's range."""
    if (
        not isinstance(position, list)
        or len(position) < 2
        or not all(isinstance(n, int | float) and not isinstance(n, bool) for n in position[:2])
    ):
        raise ValueError(f"expected [longitude, latitude] positions; got {position!r}")
    longitude, latitude = position[0], position[1]
    if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
        raise ValueError(f"position {position!r} is out of range (longitude, latitude)")


def parse_actor_refs(value: Any, _data_dir: Path) -> tuple[str, ...]:
    """Actors named by handle (@name@host, name@host) or by http(s) URL."""
    refs = [ref.strip() for ref in _string_list(value)]
    for ref in refs:
        name, _, host = ref.removeprefix("acct:").lstrip("@").partition("@")
        is_url = ref.startswith(("https://", "http://")) and bool(urlsplit(ref).netloc)
        if not is_url and not (name and host and " " not in ref):
            raise ValueError(f"expected @name@host or an actor URL; got {ref!r}")
    return tuple(refs)


def parse_days(value: Any, _data_dir: Path) -> int:
    """A number of days from 0 to 366."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected a number of days; got {value!r}")
    try:
        days = int(value)
    except ValueError:
        raise ValueError(f"expected a number of days; got {value!r}") from None
    if not 0 <= days <= 366:
        raise ValueError(f"expected 0 to 366 days; got {days}")
    return days


def parse_whole_number(low: int, high: int, unit: str) -> Callable[[Any, Path], int]:
    """A parser of whole numbers from `low` to `high` (`unit` names them in messages)."""

    def parse(value: Any, _data_dir: Path) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"expected a number of {unit}; got {value!r}")
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"expected a number of {unit}; got {value!r}") from None
        if not low <= number <= high:
            raise ValueError(f"expected {low} to {high} {unit}; got {number}")
        return number

    return parse
