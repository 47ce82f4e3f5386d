"""RFC 3230 Digest and RFC 9530 Content-Digest: make, verify, refuse."""

from __future__ import annotations

import base64
import hashlib

import pytest

from protocols.httpsig import (
    SignatureError,
    make_content_digest,
    make_digest,
    verify_content_digest,
    verify_digest,
)
from tests.protocols import rfc9421_vectors as rfc

BODY = b'{"hello": "world"}'
SHA256_B64 = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
SHA512_B64 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()


def test_make_digest_is_base64_sha256_with_mastodon_casing() -> None:
    assert make_digest(BODY) == f"SHA-256={SHA256_B64}"


@pytest.mark.parametrize(
    "header",
    [
        f"SHA-256={SHA256_B64}",
        f"sha-256={SHA256_B64}",  # algorithm token is case-insensitive
        f"SHA-512={SHA512_B64}",  # SHA-512 alone is accepted too
        f"SHA-512={SHA512_B64}, SHA-256={SHA256_B64}",  # comma-separated list
        f"MD5=XrY7u+Ae7tCTyyK7j1rNww==,SHA-256={SHA256_B64}",  # unknown algorithm ignored
    ],
)
def test_verify_digest_accepts(header: str) -> None:
    verify_digest(header, BODY)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (f"SHA-256={SHA256_B64}", "does not match the request body"),
        ("SHA-256=" + hashlib.sha256(BODY).hexdigest(), "hex"),
        ("SHA-256=" + base64.b64encode(b"short").decode(), "decodes to 5 bytes"),
        ("SHA-256=not*base64", "not base64"),
        ("MD5=XrY7u+Ae7tCTyyK7j1rNww==", "no SHA-256 or SHA-512"),
        ("SHA-256", "has no '='"),
    ],
)
def test_verify_digest_refuses(header: str, reason: str) -> None:
    body = BODY + b" " if "match" in reason else BODY
    with pytest.raises(SignatureError, match=reason):
        verify_digest(header, body)


def test_verify_digest_refuses_when_one_listed_digest_is_wrong() -> None:
    with pytest.raises(SignatureError, match="SHA-512 does not match"):
        other = base64.b64encode(hashlib.sha512(b"other").digest()).decode()
        verify_digest(f"SHA-256={SHA256_B64},SHA-512={other}", BODY)


def test_make_content_digest() -> None:
    assert make_content_digest(BODY) == f"sha-256=:{SHA256_B64}:"
    assert make_content_digest(BODY, "sha-512") == rfc.TEST_REQUEST_HEADERS["Content-Digest"]
    with pytest.raises(ValueError, match="unsupported"):
        make_content_digest(BODY, "md5")


def test_rfc9530_examples() -> None:
    """RFC 9530 §2 (sha-512) and Appendix B (sha-256) over `{"hello": "world"}` + LF."""
    assert make_content_digest(rfc.RFC9530_BODY, "sha-512") == rfc.RFC9530_SHA512
    assert make_content_digest(rfc.RFC9530_BODY) == rfc.RFC9530_SHA256
    verify_content_digest(rfc.RFC9530_SHA512, rfc.RFC9530_BODY)
    verify_content_digest(f"{rfc.RFC9530_SHA256}, {rfc.RFC9530_SHA512}", rfc.RFC9530_BODY)


def test_rfc9421_test_messages_carry_matching_content_digests() -> None:
    verify_content_digest(rfc.TEST_REQUEST_HEADERS["Content-Digest"], rfc.TEST_REQUEST_BODY)
    verify_content_digest(rfc.TEST_RESPONSE_HEADERS["Content-Digest"], rfc.TEST_RESPONSE_BODY)


def test_content_digest_ignores_unknown_algorithms() -> None:
    verify_content_digest(f"md5=:AAAA:, sha-256=:{SHA256_B64}:", BODY)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (f"sha-256=:{SHA256_B64}:", "does not match the request body"),
        (f"sha-256={SHA256_B64}", "not a structured dictionary"),  # RFC 3230 form
        ('sha-256="abc"', "not a byte sequence"),
        (f"sha-512=:{SHA256_B64}:", "decodes to 32 bytes, expected 64"),
        ("md5=:AAAA:", "no sha-256 or sha-512"),
        ("", "no sha-256 or sha-512"),
    ],
)
def test_content_digest_refuses(header: str, reason: str) -> None:
    body = BODY + b"!" if "match" in reason else BODY
    with pytest.raises(SignatureError, match=reason):
        verify_content_digest(header, body)
