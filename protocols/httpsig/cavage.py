"""draft-cavage-http-signatures-12, as Mastodon signs and verifies it.

Verification follows Mastodon's `HttpSignature` (app/lib/signed_request.rb, 4.5/4.6)
rule by rule; each rule below names the behaviour it mirrors. Signing follows what
every Mastodon release accepts (interop.md §2.1 "What to send").
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from protocols.httpsig import algorithms
from protocols.httpsig.digest import make_digest, verify_digest
from protocols.httpsig.errors import SignatureError
from protocols.httpsig.message import authority, normalise_headers, path_of, query_of
from protocols.httpsig.window import (
    check_time_window,
    from_unix,
    parse_http_date,
    require_aware,
)
from protocols.keys import PrivateKey, PublicKey

REQUEST_TARGET = "(request-target)"
CREATED = "(created)"
EXPIRES = "(expires)"
RSA_SHA256 = "rsa-sha256"
HS2019 = "hs2019"

_PARAM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_UNIX_TIME = re.compile(r"\d+(\.\d+)?\Z")
#: a quoted value, where a backslash escapes the next character; and those escapes
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
#: spaces and tabs, and an unquoted value (up to a comma or a space)
_SPACE = re.compile(r"[ \t]*")
_TOKEN = re.compile(r"[^, \t]*")


@dataclass(frozen=True, slots=True)
class CavageSignature:
    """A parsed and key-independently checked draft-cavage signature.

    `signing_strings` are the candidates to verify, in order: with the query string in
    (request-target) first, then without it when the URL has one.
    """

    key_id: str
    algorithm: str
    covered: tuple[str, ...]
    signature: bytes
    created: datetime
    signing_strings: tuple[bytes, ...]


def request_target(method: str, url: str, *, with_query: bool = True) -> str:
    """The (request-target) value: "<lower-case method> <path>[?<query>]".

    Mastodon ≥ 4.3 includes the query string (CL 4.3.0 #31994); older senders omit it.
    """
    query = query_of(url)
    target = path_of(url)
    if with_query and query:
        target += "?" + query
    return f"{method.lower()} {target}"


def signing_string(
    covered: tuple[str, ...] | list[str],
    method: str,
    url: str,
    headers: Mapping[str, str],
    *,
    created: int | None = None,
    expires: int | None = None,
    with_query: bool = True,
) -> bytes:
    """Build the draft-cavage §2.3 signing string, one "name: value" line per covered name.

    Names are taken in the order given (Mastodon appends (request-target) last; others put
    it first), headers are looked up case-insensitively.
    """
    fields = normalise_headers(headers)
    lines: list[str] = []
    for name in covered:
        if name == REQUEST_TARGET:
            value = request_target(method, url, with_query=with_query)
        elif name == CREATED:
            if created is None:
                raise SignatureError("(created) is signed but the created parameter is missing")
            value = str(created)
        elif name == EXPIRES:
            if expires is None:
                raise SignatureError("(expires) is signed but the expires parameter is missing")
            value = str(expires)
        elif name in fields:
            value = fields[name]
        else:
            raise SignatureError(f"signed header {name!r} is missing from the request")
        lines.append(f"{name}: {value}")
    return "\n".join(lines).encode("utf-8")


def sign_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    private_key: PrivateKey,
    key_id: str,
    now: datetime,
) -> dict[str, str]:
    """Sign an outgoing request; return the headers to add to it.

    Returns Date and Host when `headers` lacks them, Digest when there is a body (always
    for POST, computed over `body`, b"" if None) and Signature. Covered, in this order:
    POST `(request-target) host date digest [content-type]`; GET `(request-target) host
    date [accept]`; other methods `(request-target) host date [digest] [content-type]`.
    RSA keys sign `algorithm="rsa-sha256"` (PKCS#1 v1.5, SHA-256: all Mastodon releases);
    Ed25519 keys sign `algorithm="hs2019"` — Mastodon ≤ 4.6 cannot verify those.
    """
    fields = normalise_headers(headers)
    added: dict[str, str] = {}
    if "date" not in fields:
        added["Date"] = format_datetime(require_aware(now), usegmt=True)
        fields["date"] = added["Date"]
    if "host" not in fields:
        added["Host"] = authority(url)
        fields["host"] = added["Host"]
    upper = method.upper()
    covered = [REQUEST_TARGET, "host", "date"]
    if body is not None or upper == "POST":
        added["Digest"] = make_digest(body or b"")
        fields["digest"] = added["Digest"]
        covered.append("digest")
        if "content-type" in fields:
            covered.append("content-type")
    elif upper == "GET" and "accept" in fields:
        covered.append("accept")
    base = signing_string(covered, method, url, fields)
    if isinstance(private_key, rsa.RSAPrivateKey):
        name, raw = RSA_SHA256, algorithms.sign(algorithms.RSA_V1_5_SHA256, private_key, base)
    else:
        name, raw = HS2019, algorithms.sign(algorithms.ED25519, private_key, base)
    added["Signature"] = (
        f'keyId="{_quote(key_id)}",algorithm="{name}",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(raw).decode("ascii")}"'
    )
    return added


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def parse_signature_header(value: str) -> dict[str, str]:
    """Parse `name="value", name=token, …` into a dict.

    A parameter given twice is refused (Mastodon 4.5.x, "Fix SignatureParser accepting
    duplicate parameters", #37375) so that a proxy cannot smuggle a second keyId.
    """
    params: dict[str, str] = {}
    pos, end = 0, len(value)
    while True:
        pos = _skip(_SPACE, value, pos)
        match = _PARAM_NAME.match(value, pos)
        if match is None:
            raise SignatureError(f"Signature header is malformed at character {pos}")
        name = match.group()
        pos = _skip(_SPACE, value, match.end())
        if pos >= end or value[pos] != "=":
            raise SignatureError(f"Signature header parameter {name} has no value")
        pos = _skip(_SPACE, value, pos + 1)
        if pos < end and value[pos] == '"':
            quoted = _QUOTED.match(value, pos)
            if quoted is None:
                raise SignatureError(f"Signature header parameter {name} is not closed")
            item, pos = quoted.group(1), quoted.end()
            if "\\" in item:
                item = _ESCAPED.sub(r"\1", item)
        else:
            start, pos = pos, _skip(_TOKEN, value, pos)
            item = value[start:pos]
            if not item:
                raise SignatureError(f"Signature header parameter {name} is empty")
        if name in params:
            raise SignatureError(f"Signature header repeats the {name} parameter")
        params[name] = item
        pos = _skip(_SPACE, value, pos)
        if pos >= end:
            return params
        if value[pos] != ",":
            raise SignatureError(f"Signature header is malformed at character {pos}")
        pos += 1


def _skip(pattern: re.Pattern[str], value: str, pos: int) -> int:
    """The position after what `pattern` matches at `pos` (it may match nothing)."""
    match = pattern.match(value, pos)
    return match.end() if match else pos


def _unix_param(params: dict[str, str], name: str) -> int | None:
    if name not in params:
        return None
    if not _UNIX_TIME.match(params[name]):
        raise SignatureError(f"Signature {name} parameter {params[name]!r} is not a Unix time")
    return int(float(params[name]))


def read_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    now: datetime,
) -> CavageSignature:
    """Parse the `Signature` header and run every check that does not need the key.

    Refusals (SignatureError), in Mastodon's terms:
    * keyId and signature are required; algorithm must be rsa-sha256 or hs2019, absent
      meaning hs2019; headers absent means `date` (rsa-sha256) or `(created)` (hs2019);
    * (created)/(expires) only with hs2019;
    * strength (verify_signature_strength!): date or (created) signed; (request-target)
      or digest signed; GET signs host; POST signs digest;
    * time window: the signed Date (or created) within an hour either way; expires honoured;
    * a signed Digest must match the raw body (verify_body_digest!).
    """
    fields = normalise_headers(headers)
    if "signature" not in fields:
        raise SignatureError("request has no Signature header")
    params = parse_signature_header(fields["signature"])
    key_id = params.get("keyId", "")
    if not key_id:
        raise SignatureError("Signature header has no keyId")
    if not params.get("signature"):
        raise SignatureError("Signature header has no signature")
    try:
        raw = base64.b64decode(params["signature"], validate=True)
    except binascii.Error:
        raise SignatureError("Signature signature parameter is not base64") from None
    algorithm = params.get("algorithm", HS2019).lower()
    if algorithm not in (RSA_SHA256, HS2019):
        raise SignatureError(
            f"Signature algorithm {algorithm!r} is not supported (rsa-sha256 or hs2019)"
        )
    default_covered = "date" if algorithm == RSA_SHA256 else CREATED
    covered = tuple(params.get("headers", default_covered).lower().split())
    if not covered:
        raise SignatureError("Signature headers parameter is empty")
    created = _unix_param(params, "created")
    expires = _unix_param(params, "expires")
    if algorithm != HS2019 and (
        CREATED in covered or EXPIRES in covered or created is not None or expires is not None
    ):
        raise SignatureError("(created) and (expires) are only allowed with algorithm hs2019")

    _check_strength(method, covered)

    if CREATED in covered:
        if created is None:
            raise SignatureError("(created) is signed but the created parameter is missing")
        created_at, source = from_unix(created, "created parameter"), "created parameter"
    else:
        if "date" not in fields:
            raise SignatureError("signed header 'date' is missing from the request")
        created_at, source = parse_http_date(fields["date"]), "Date header"
    expires_at = from_unix(expires, "expires parameter") if expires is not None else None
    check_time_window(created_at, now, source, expires_at)

    if "digest" in covered:
        if "digest" not in fields:
            raise SignatureError("signed header 'digest' is missing from the request")
        verify_digest(fields["digest"], body or b"")

    candidates = [signing_string(covered, method, url, fields, created=created, expires=expires)]
    if query_of(url):
        candidates.append(
            signing_string(
                covered, method, url, fields, created=created, expires=expires, with_query=False
            )
        )
    return CavageSignature(key_id, algorithm, covered, raw, created_at, tuple(candidates))


def _check_strength(method: str, covered: tuple[str, ...]) -> None:
    """Mastodon's verify_signature_strength!, with its reasons in plain words."""
    if "date" not in covered and CREATED not in covered:
        raise SignatureError("signature must cover the Date header or (created)")
    if REQUEST_TARGET not in covered and "digest" not in covered:
        raise SignatureError("signature must cover (request-target) or the Digest header")
    upper = method.upper()
    if upper == "GET" and "host" not in covered:
        raise SignatureError("a GET signature must cover the Host header")
    if upper == "POST" and "digest" not in covered:
        raise SignatureError("a POST signature must cover the Digest header")


def verify_cavage(signature: CavageSignature, public_key: PublicKey) -> None:
    """Verify a checked signature with the signer's key; raise SignatureError if it fails.

    RSA keys: RSASSA-PKCS1-v1_5 with SHA-256 whatever the algorithm says (Mastodon's
    verify_signature). Ed25519 keys: only under hs2019 (Mastodon's cavage path is
    RSA-only; Mitra and others sign hs2019 with Ed25519). The signing string with the
    query string is tried first, then without (pre-4.3 Mastodon, GoToSocial does both).
    """
    if isinstance(public_key, rsa.RSAPublicKey):
        name = algorithms.RSA_V1_5_SHA256
    elif signature.algorithm == HS2019:
        name = algorithms.ED25519
    else:
        raise SignatureError(f"algorithm {signature.algorithm} needs an RSA key, got Ed25519")
    for candidate in signature.signing_strings:
        if algorithms.verify(name, public_key, candidate, signature.signature):
            return
    tried = (
        " (tried with and without the query string)" if len(signature.signing_strings) > 1 else ""
    )
    raise SignatureError(f"signature does not verify with the key {signature.key_id}{tried}")
