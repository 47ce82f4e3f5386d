"""Plain-value views of an HTTP request: headers by lower-case name, URL parts."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Index header values by lower-case name, trimmed of surrounding whitespace.

    Header names are case-insensitive (RFC 9110 §5.1), so every lookup in this package
    goes through this. A multi-valued mapping (aiohttp's CIMultiDict yields one pair per
    field line) is combined with ", " in order, as RFC 9110 §5.3 allows.
    """
    combined: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        value = value.strip()
        combined[key] = f"{combined[key]}, {value}" if key in combined else value
    return combined


def authority(url: str) -> str:
    """The lower-cased host of `url`, with the port only when it is not the scheme's default.

    This is what HTTP clients put in Host (aiohttp and Mastodon's http.rb drop :443) and
    what RFC 9421 §2.2.3 calls @authority.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    scheme = parts.scheme.lower()
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        return f"{host}:{port}"
    return host


def path_of(url: str) -> str:
    """The raw (still percent-encoded) path of `url`; "/" when empty."""
    return urlsplit(url).path or "/"


def query_of(url: str) -> str:
    """The raw query string of `url` without the "?"; "" when there is none."""
    return urlsplit(url).query
