"""Body digests: RFC 3230 `Digest` (draft-cavage era) and RFC 9530 `Content-Digest`.

Both are computed over the raw body bytes as received, never over re-serialised JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from protocols.httpsig import structured
from protocols.httpsig.errors import SignatureError

# Algorithm name (lower case) -> (hashlib name, digest length in bytes).
_ALGORITHMS = {"sha-256": ("sha256", 32), "sha-512": ("sha512", 64)}
_HEX_RE = re.compile(r"[0-9a-fA-F]+\Z")


def _hash(algorithm: str, body: bytes) -> bytes:
    return hashlib.new(_ALGORITHMS[algorithm][0], body).digest()


def make_digest(body: bytes) -> str:
    """The RFC 3230 `Digest` value for `body`: "SHA-256=<base64>", as Mastodon sends it."""
    return "SHA-256=" + base64.b64encode(_hash("sha-256", body)).decode("ascii")


def verify_digest(header: str, body: bytes) -> None:
    """Check an RFC 3230 `Digest` header against the raw body; raise SignatureError if not.

    Mastodon's verify_body_digest!: the algorithm token is case-insensitive, the header
    may list several `alg=value` pairs separated by commas, and values are base64 of the
    raw hash — a hex digest (which the Mastodon docs' "Verifying" example wrongly shows)
    is refused. We check SHA-256 and SHA-512 entries; every one present must match and at
    least one must be present. Other algorithms (MD5, SHA…) are ignored.
    """
    checked = 0
    for entry in header.split(","):
        name, sep, value = entry.strip().partition("=")
        if not sep:
            raise SignatureError(f"Digest header entry {entry.strip()!r} has no '='")
        algorithm = name.strip().lower()
        if algorithm not in _ALGORITHMS:
            continue
        value = value.strip()
        expected_length = _ALGORITHMS[algorithm][1]
        if len(value) == 2 * expected_length and _HEX_RE.match(value):
            raise SignatureError(
                f"Digest {algorithm.upper()} value is hex; RFC 3230 requires base64"
            )
        try:
            received = base64.b64decode(value, validate=True)
        except binascii.Error:
            raise SignatureError(f"Digest {algorithm.upper()} value is not base64") from None
        if len(received) != expected_length:
            raise SignatureError(
                f"Digest {algorithm.upper()} value decodes to {len(received)} bytes, "
                f"expected {expected_length}"
            )
        if not hmac.compare_digest(received, _hash(algorithm, body)):
            raise SignatureError(f"Digest {algorithm.upper()} does not match the request body")
        checked += 1
    if not checked:
        raise SignatureError("Digest header has no SHA-256 or SHA-512 value")


def make_content_digest(body: bytes, algorithm: str = "sha-256") -> str:
    """The RFC 9530 `Content-Digest` value for `body`, e.g. "sha-256=:<base64>:".

    Mastodon's RFC 9421 verifier requires a sha-256 member, hence the default.
    """
    algorithm = algorithm.lower()
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    member = structured.Item(_hash(algorithm, body))
    return structured.serialize_dictionary({algorithm: member})


def verify_content_digest(header: str, body: bytes) -> None:
    """Check an RFC 9530 `Content-Digest` header (a structured dictionary) against `body`.

    sha-256 and sha-512 members are checked, each must be a byte sequence of the right
    length and match; at least one must be present. Unknown algorithms are ignored, as
    RFC 9530 §2 lets a recipient do.
    """
    try:
        members = structured.parse_dictionary(header)
    except structured.StructuredFieldError as error:
        raise SignatureError(f"Content-Digest is not a structured dictionary: {error}") from None
    checked = 0
    for algorithm, member in members.items():
        if algorithm not in _ALGORITHMS:
            continue
        if not isinstance(member, structured.Item) or not isinstance(member.value, bytes):
            raise SignatureError(f"Content-Digest {algorithm} is not a byte sequence")
        expected_length = _ALGORITHMS[algorithm][1]
        if len(member.value) != expected_length:
            raise SignatureError(
                f"Content-Digest {algorithm} decodes to {len(member.value)} bytes, "
                f"expected {expected_length}"
            )
        if not hmac.compare_digest(member.value, _hash(algorithm, body)):
            raise SignatureError(f"Content-Digest {algorithm} does not match the request body")
        checked += 1
    if not checked:
        raise SignatureError("Content-Digest has no sha-256 or sha-512 member")
