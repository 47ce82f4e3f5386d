"""RFC 9421: the RFC's own Appendix B vectors, structured fields, and the Mastodon profile."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from protocols.httpsig import (
    SignatureError,
    make_content_digest,
    read_signature,
    sign_cavage,
    sign_rfc9421,
)
from protocols.httpsig import structured as sf
from protocols.httpsig.algorithms import SigningKey, VerifyingKey
from protocols.httpsig.components import Message, signature_base
from protocols.httpsig.rfc9421 import (
    parse_signatures,
    read_rfc9421,
    sign_message,
    verify_message,
    verify_rfc9421,
)
from protocols.keys import load_private_key
from tests.protocols import rfc9421_vectors as rfc

# ----- B.1 keys -----------------------------------------------------------------------------


def private_key(name: str) -> SigningKey:
    if name == "test-shared-secret":
        return rfc.TEST_SHARED_SECRET
    pem = {
        "test-key-rsa": rfc.TEST_KEY_RSA_PRIVATE,
        "test-key-rsa-pss": rfc.TEST_KEY_RSA_PSS_PRIVATE,
        "test-key-ecc-p256": rfc.TEST_KEY_ECC_P256_PRIVATE,
        "test-key-ed25519": rfc.TEST_KEY_ED25519_PRIVATE,
    }[name]
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(
        key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    )
    return key


def public_key(name: str) -> VerifyingKey:
    if name == "test-shared-secret":
        return rfc.TEST_SHARED_SECRET
    pem = {
        "test-key-rsa": rfc.TEST_KEY_RSA_PUBLIC,
        "test-key-rsa-pss": rfc.TEST_KEY_RSA_PSS_PUBLIC,
        "test-key-ecc-p256": rfc.TEST_KEY_ECC_P256_PUBLIC,
        "test-key-ed25519": rfc.TEST_KEY_ED25519_PUBLIC,
    }[name]
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey)
    return key


@pytest.mark.parametrize(
    "name", ["test-key-rsa", "test-key-rsa-pss", "test-key-ecc-p256", "test-key-ed25519"]
)
def test_b1_private_keys_match_their_public_keys(name: str) -> None:
    key = private_key(name)
    assert not isinstance(key, bytes)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    mine = key.public_key().public_bytes(serialization.Encoding.DER, spki)
    given = public_key(name)
    assert not isinstance(given, bytes)
    assert mine == given.public_bytes(serialization.Encoding.DER, spki)


def test_b15_shared_secret_is_64_bytes() -> None:
    assert len(rfc.TEST_SHARED_SECRET) == 64


# ----- B.2 vectors ------------------------------------------------------------------------------

TEST_REQUEST = Message(rfc.TEST_REQUEST_METHOD, rfc.TEST_REQUEST_URL, rfc.TEST_REQUEST_HEADERS)
TEST_RESPONSE = Message(status=rfc.TEST_RESPONSE_STATUS, headers=rfc.TEST_RESPONSE_HEADERS)


def message_of(vector: dict[str, Any]) -> Message:
    return TEST_REQUEST if vector["message"] == "request" else TEST_RESPONSE


def only(signature_input: str, signature: str) -> Any:
    found = parse_signatures(signature_input, signature)
    assert len(found) == 1
    return next(iter(found.values()))


@pytest.mark.parametrize("vector", rfc.B_2_VECTORS, ids=lambda v: v["section"])
def test_b2_signature_base_matches_byte_for_byte(vector: dict[str, Any]) -> None:
    parsed = only(vector["signature_input"], vector["signature"])
    assert parsed.label == vector["label"]
    assert signature_base(parsed.covered, message_of(vector)) == vector["base"].encode()


@pytest.mark.parametrize("vector", rfc.B_2_VECTORS, ids=lambda v: v["section"])
def test_b2_published_signature_verifies(vector: dict[str, Any]) -> None:
    parsed = only(vector["signature_input"], vector["signature"])
    verify_message(parsed, message_of(vector), public_key(vector["key"]), vector["algorithm"])


TAMPERED_REQUEST = Message(
    "PUT",
    "https://example.net/foo?param=Value&Pet=cat",
    rfc.TEST_REQUEST_HEADERS
    | {
        "Host": "example.net",
        "Date": "Tue, 20 Apr 2021 02:07:56 GMT",
        "Content-Type": "text/plain",
        "Content-Digest": make_content_digest(b"{}", "sha-512"),
    },
)
TAMPERED_RESPONSE = Message(status=201, headers=rfc.TEST_RESPONSE_HEADERS)


@pytest.mark.parametrize(
    "vector",
    [v for v in rfc.B_2_VECTORS if v["section"] != "B.2.1"],  # B.2.1 covers nothing
    ids=lambda v: v["section"],
)
def test_b2_published_signature_fails_on_a_tampered_message(vector: dict[str, Any]) -> None:
    parsed = only(vector["signature_input"], vector["signature"])
    tampered = TAMPERED_REQUEST if vector["message"] == "request" else TAMPERED_RESPONSE
    with pytest.raises(SignatureError, match="does not verify"):
        verify_message(parsed, tampered, public_key(vector["key"]), vector["algorithm"])


@pytest.mark.parametrize(
    "vector", [v for v in rfc.B_2_VECTORS if v["deterministic"]], ids=lambda v: v["section"]
)
def test_b2_deterministic_signatures_are_reproduced_exactly(vector: dict[str, Any]) -> None:
    """hmac-sha256 (B.2.5) and ed25519 (B.2.6): re-signing gives the RFC's bytes."""
    parsed = only(vector["signature_input"], vector["signature"])
    mine = sign_message(
        list(parsed.covered.items),
        parsed.covered.params,
        message_of(vector),
        private_key(vector["key"]),
        vector["label"],
        vector["algorithm"],
    )
    assert mine.signature_input() == vector["signature_input"]
    assert mine.signature_field() == vector["signature"]


@pytest.mark.parametrize(
    "vector", [v for v in rfc.B_2_VECTORS if not v["deterministic"]], ids=lambda v: v["section"]
)
def test_b2_randomised_algorithms_round_trip(vector: dict[str, Any]) -> None:
    """rsa-pss-sha512 and ecdsa-p256-sha256 differ each time: our signatures must verify."""
    parsed = only(vector["signature_input"], vector["signature"])
    mine = sign_message(
        list(parsed.covered.items),
        parsed.covered.params,
        message_of(vector),
        private_key(vector["key"]),
        vector["label"],
        vector["algorithm"],
    )
    assert mine.signature_input() == vector["signature_input"]
    assert mine.signature != parsed.signature
    verify_message(mine, message_of(vector), public_key(vector["key"]), vector["algorithm"])


def test_pss_key_is_not_verified_as_pkcs1_by_default() -> None:
    """B.2.1 has no alg parameter: the verifier must know the key is for rsa-pss-sha512."""
    parsed = only(rfc.B_2_1["signature_input"], rfc.B_2_1["signature"])
    with pytest.raises(SignatureError, match="rsa-v1_5-sha256"):
        verify_message(parsed, TEST_REQUEST, public_key("test-key-rsa-pss"))


def test_alg_parameter_must_agree_with_the_callers_algorithm() -> None:
    signature = sign_message(
        ["@method"],
        {"created": 1618884473, "alg": "ed25519"},
        TEST_REQUEST,
        private_key("test-key-ed25519"),
    )
    verify_message(signature, TEST_REQUEST, public_key("test-key-ed25519"))
    with pytest.raises(SignatureError, match="names alg ed25519, expected hmac-sha256"):
        verify_message(signature, TEST_REQUEST, rfc.TEST_SHARED_SECRET, "hmac-sha256")


def test_key_of_the_wrong_type_is_refused() -> None:
    parsed = only(rfc.B_2_6["signature_input"], rfc.B_2_6["signature"])
    with pytest.raises(SignatureError, match="ed25519 needs a Ed25519 key, got a RSA key"):
        verify_message(parsed, TEST_REQUEST, public_key("test-key-rsa"), "ed25519")


# ----- B.3, B.4, §4.3 ------------------------------------------------------------------------


def test_b3_tls_terminating_proxy_signature() -> None:
    parsed = only(rfc.B_3["signature_input"], rfc.B_3["signature"])
    message = Message("POST", rfc.B_3_URL, rfc.B_3_HEADERS)
    assert signature_base(parsed.covered, message) == rfc.B_3["base"].encode()
    verify_message(parsed, message, public_key("test-key-ecc-p256"), "ecdsa-p256-sha256")


def b4_message(method: str, url: str, pairs: list[tuple[str, str]]) -> Message:
    """A message whose header mapping repeats field lines, as aiohttp's multidict does."""

    class Pairs(dict[str, str]):
        def items(self) -> Any:  # every field line, in order
            return iter(pairs)

    return Message(method, url, Pairs())


def test_b4_base_and_deterministic_signature() -> None:
    parsed = only(rfc.B_4_SIGNATURE_INPUT, rfc.B_4_SIGNATURE)
    original = b4_message(*rfc.B_4_ORIGINAL)
    assert signature_base(parsed.covered, original) == rfc.B_4_BASE.encode()
    mine = sign_message(
        list(parsed.covered.items),
        parsed.covered.params,
        original,
        private_key("test-key-ed25519"),
        "transform",
    )
    assert mine.signature_field() == rfc.B_4_SIGNATURE


@pytest.mark.parametrize("variant", range(len(rfc.B_4_STILL_VALID)))
def test_b4_safe_transformations_still_verify(variant: int) -> None:
    parsed = only(rfc.B_4_SIGNATURE_INPUT, rfc.B_4_SIGNATURE)
    message = b4_message(*rfc.B_4_STILL_VALID[variant])
    verify_message(parsed, message, public_key("test-key-ed25519"))


@pytest.mark.parametrize("variant", range(len(rfc.B_4_NO_LONGER_VALID)))
def test_b4_unsafe_transformations_break_the_signature(variant: int) -> None:
    parsed = only(rfc.B_4_SIGNATURE_INPUT, rfc.B_4_SIGNATURE)
    message = b4_message(*rfc.B_4_NO_LONGER_VALID[variant])
    with pytest.raises(SignatureError, match="does not verify"):
        verify_message(parsed, message, public_key("test-key-ed25519"))


def test_section_4_3_proxy_rsa_v1_5_signature_is_reproduced_exactly() -> None:
    found = parse_signatures(
        rfc.SECTION_4_3_HEADERS["Signature-Input"], rfc.SECTION_4_3_HEADERS["Signature"]
    )
    assert list(found) == ["sig1", "proxy_sig"]
    proxy = found["proxy_sig"]
    assert proxy.alg == "rsa-v1_5-sha256"
    assert (proxy.created, proxy.expires, proxy.keyid) == (1618884480, 1618884540, "test-key-rsa")
    message = Message("POST", rfc.SECTION_4_3_URL, rfc.SECTION_4_3_HEADERS)
    verify_message(proxy, message, public_key("test-key-rsa"))
    mine = sign_message(
        list(proxy.covered.items),
        proxy.covered.params,
        message,
        private_key("test-key-rsa"),
        "proxy_sig",
    )
    assert mine.signature == proxy.signature
    # The client's own signature was made before the proxy, on the original request.
    client = Message("POST", rfc.SECTION_4_3_SIG1_URL, rfc.TEST_REQUEST_HEADERS)
    verify_message(found["sig1"], client, public_key("test-key-ecc-p256"))


# ----- derived components -------------------------------------------------------------------


def lines(component: str | sf.Item, url: str, method: str = "GET") -> list[str]:
    item = component if isinstance(component, sf.Item) else sf.Item(component)
    base = signature_base(sf.InnerList((item,)), Message(method, url, {}))
    return base.decode().split("\n")[:-1]


def test_derived_components_of_a_request_url() -> None:
    url = "https://WWW.Example.com:443/path/to?param=value&foo=bar#frag"
    assert lines("@method", url, "POST") == ['"@method": POST']
    assert lines("@target-uri", url) == [
        '"@target-uri": https://WWW.Example.com:443/path/to?param=value&foo=bar'
    ]
    assert lines("@authority", url) == ['"@authority": www.example.com']
    assert lines("@authority", "http://example.com:8080/") == ['"@authority": example.com:8080']
    assert lines("@scheme", url) == ['"@scheme": https']
    assert lines("@path", url) == ['"@path": /path/to']
    assert lines("@path", "https://example.com") == ['"@path": /']
    assert lines("@query", url) == ['"@query": ?param=value&foo=bar']
    assert lines("@query", "https://example.com/x") == ['"@query": ?']
    assert lines("@request-target", url) == ['"@request-target": /path/to?param=value&foo=bar']


def test_query_param_is_decoded_then_reencoded() -> None:
    """The §2.2.8 rule: form-urlencoded parsing, then percent-encoding again.

    Modelled on the RFC's example but not copied from it (not checked against its text).
    """
    url = (
        "https://example.com/parameters?var=this%20is%20a%20big%0Amultiline%20value"
        "&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something"
    )

    def param(name: str) -> list[str]:
        return lines(sf.Item("@query-param", {"name": name}), url)

    assert param("var") == ['"@query-param";name="var": this%20is%20a%20big%0Amultiline%20value']
    assert param("bar") == ['"@query-param";name="bar": with%20plus%20whitespace']
    assert param("fa%C3%A7ade%22%3A%20") == [
        '"@query-param";name="fa%C3%A7ade%22%3A%20": something'
    ]


def test_query_param_repeated_gives_one_line_each() -> None:
    url = "https://example.com/?a=1&b=2&a=3&qux="
    item = sf.Item("@query-param", {"name": "a"})
    assert lines(item, url) == ['"@query-param";name="a": 1', '"@query-param";name="a": 3']
    assert lines(sf.Item("@query-param", {"name": "qux"}), url) == ['"@query-param";name="qux": ']
    with pytest.raises(SignatureError, match="'nope' is not in the request URL"):
        lines(sf.Item("@query-param", {"name": "nope"}), url)


def test_structured_field_components() -> None:
    """§2.1.1/§2.1.2 rules: `sf` re-serialises, `key` picks one dictionary member.

    Modelled on the RFC's Example-Dict but not copied from it (not checked against its text).
    """
    headers = {"Example-Dict": "  a=1,    b=2;x=1;y=2,   c=(a   b   c)"}
    message = Message("GET", "https://example.com/", headers)

    def line(params: sf.Params) -> str:
        base = signature_base(sf.InnerList((sf.Item("example-dict", params),)), message)
        return base.decode().split("\n")[0]

    assert line({}) == '"example-dict": a=1,    b=2;x=1;y=2,   c=(a   b   c)'
    assert line({"sf": True}) == '"example-dict";sf: a=1, b=2;x=1;y=2, c=(a b c)'
    assert line({"key": "a"}) == '"example-dict";key="a": 1'
    assert line({"key": "b"}) == '"example-dict";key="b": 2;x=1;y=2'
    assert line({"key": "c"}) == '"example-dict";key="c": (a b c)'


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (sf.Item("@status"), "only available on responses"),
        (sf.Item("@unknown"), "not supported"),
        (sf.Item("@method", {"req": True}), "unsupported parameters"),
        (sf.Item("x-absent"), "missing from the message"),
        (sf.Item("Date"), "must be lower case"),
        (sf.Item("date", {"bs": True}), "unsupported parameters"),
        (sf.Item("date", {"sf": True}), "structured type of header 'date' is unknown"),
        (sf.Item(sf.Token("date")), "must be strings"),
    ],
)
def test_unsupported_or_missing_components(item: sf.Item, reason: str) -> None:
    message = Message("GET", "https://example.com/", {"Date": "today"})
    with pytest.raises(SignatureError, match=reason):
        signature_base(sf.InnerList((item,)), message)


def test_duplicate_component_is_refused() -> None:
    covered = sf.InnerList((sf.Item("@method"), sf.Item("@method")))
    with pytest.raises(SignatureError, match="covered twice"):
        signature_base(covered, TEST_REQUEST)


# ----- Signature-Input / Signature parsing ----------------------------------------------------


@pytest.mark.parametrize(
    ("signature_input", "signature", "reason"),
    [
        ('sig1=("@method")', "sig2=:AAAA:", "no value for label sig1"),
        ('sig1="@method"', "sig1=:AAAA:", "not an inner list"),
        ('sig1=("@method")', 'sig1="AAAA"', "not a byte sequence"),
        ('sig1=("@method");created="now"', "sig1=:AAAA:", "created must be an integer"),
        ("sig1=(@method)", "sig1=:AAAA:", "not a structured dictionary"),
        ('sig1=("@method")', 'keyId="x",signature="y"', "Signature is not a structured"),
        ("sig1=(method)", "sig1=:AAAA:", "components must be strings"),
    ],
)
def test_malformed_signature_fields(signature_input: str, signature: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        parse_signatures(signature_input, signature)


# ----- RFC 8941 structured fields ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ('a=1, b="x\\"y", c=tok/en:x, d=?0, e, f=:AQID:;p', None),
        ("a=(1 2);q=?1, b=()", "a=(1 2);q, b=()"),
        ("a=-0.5, b=12.25, c=1.0", "a=-0.5, b=12.25, c=1.0"),
        ("  a=1  ,\tb=2  ", "a=1, b=2"),
        ("a=1, a=2", "a=2"),  # last value wins (RFC 8941 §4.2.2)
        ("a=?1", "a"),
        ("", ""),
    ],
)
def test_dictionary_round_trip(text: str, canonical: str | None) -> None:
    parsed = sf.parse_dictionary(text)
    assert sf.serialize_dictionary(parsed) == (text if canonical is None else canonical)


def test_dictionary_values() -> None:
    parsed = sf.parse_dictionary('a=1, b="s", c=tok, d=?1, e=:AQID:;p=2, f=("x" y);z')
    assert parsed["a"] == sf.Item(1)
    assert parsed["b"] == sf.Item("s")
    assert parsed["c"] == sf.Item(sf.Token("tok"))
    assert parsed["d"] == sf.Item(True)
    assert parsed["e"] == sf.Item(b"\x01\x02\x03", {"p": 2})
    assert parsed["f"] == sf.InnerList((sf.Item("x"), sf.Item(sf.Token("y"))), {"z": True})


@pytest.mark.parametrize(
    "text",
    [
        "a=1,",
        "a=1,,b=2",
        "A=1",
        'a="unterminated',
        'a="bad\\escape"',
        "a=:not base64!:",
        "a=?2",
        "a=1234567890123456",
        "a=1.2345",
        "a=(1 2",
        "a=(1,2)",
        "a=1 b=2",
        "a=é",
    ],
)
def test_invalid_dictionaries(text: str) -> None:
    with pytest.raises(sf.StructuredFieldError):
        sf.parse_dictionary(text)


def test_list_and_item() -> None:
    assert sf.serialize_list(sf.parse_list("a, (b c);d, 3")) == "a, (b c);d, 3"
    assert sf.parse_item('"x";y=1') == sf.Item("x", {"y": 1})
    with pytest.raises(sf.StructuredFieldError):
        sf.parse_item("x y")
    with pytest.raises(sf.StructuredFieldError):
        sf.serialize_bare_item("é")
    with pytest.raises(sf.StructuredFieldError):
        sf.serialize_bare_item(sf.Token("1abc"))


# ----- the Mastodon profile -----------------------------------------------------------------

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
INBOX = "https://town.example/actors/commons/inbox"
KEY_ID = "https://town.example/actors/commons#main-key"
BODY = b'{"type":"Follow"}'


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signed_9421(
    key: Any,
    method: str = "POST",
    url: str = INBOX,
    body: bytes | None = BODY,
    now: datetime = NOW,
) -> dict[str, str]:
    headers = {"Content-Type": "application/activity+json"}
    return headers | sign_rfc9421(method, url, headers, body, key, KEY_ID, now)


def hand_signed(
    key: rsa.RSAPrivateKey,
    components: list[str | sf.Item],
    params: sf.Params,
    body: bytes = BODY,
    label: str = "sig1",
) -> dict[str, str]:
    headers = {"Content-Digest": make_content_digest(body)}
    signature = sign_message(components, params, Message("POST", INBOX, headers), key, label)
    return headers | {
        "Signature-Input": signature.signature_input(),
        "Signature": signature.signature_field(),
    }


def test_sign_rfc9421_headers(rsa_key: rsa.RSAPrivateKey) -> None:
    added = sign_rfc9421("POST", INBOX, {}, BODY, rsa_key, KEY_ID, NOW)
    assert added["Content-Digest"] == make_content_digest(BODY)
    assert added["Signature-Input"] == (
        f'sig1=("@method" "@target-uri" "content-digest");created={int(NOW.timestamp())}'
        f';keyid="{KEY_ID}"'
    )
    assert added["Signature"].startswith("sig1=:")


def test_post_round_trip_rsa(rsa_key: rsa.RSAPrivateKey) -> None:
    pending = read_signature("POST", INBOX, signed_9421(rsa_key), BODY, NOW)
    assert (pending.scheme, pending.key_id, pending.created) == ("rfc9421", KEY_ID, NOW)
    pending.verify(rsa_key.public_key())


def test_post_round_trip_ed25519() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    read_signature("POST", INBOX, signed_9421(key), BODY, NOW).verify(key.public_key())


def test_get_round_trip_without_content_digest(rsa_key: rsa.RSAPrivateKey) -> None:
    url = "https://town.example/actors/commons?page=1"
    headers = signed_9421(rsa_key, "GET", url, None)
    assert "Content-Digest" not in headers
    assert '("@method" "@target-uri")' in headers["Signature-Input"]
    read_signature("GET", url, headers, None, NOW).verify(rsa_key.public_key())


def test_custom_label(rsa_key: rsa.RSAPrivateKey) -> None:
    added = sign_rfc9421("GET", INBOX, {}, None, rsa_key, KEY_ID, NOW, label="mastodon")
    assert added["Signature-Input"].startswith("mastodon=(")
    read_rfc9421("GET", INBOX, added, None, NOW, label="mastodon")


def test_tampered_body(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureError, match="Content-Digest sha-256 does not match"):
        read_signature("POST", INBOX, signed_9421(rsa_key), BODY + b" ", NOW)


def test_tampered_target_uri(rsa_key: rsa.RSAPrivateKey) -> None:
    pending = read_signature("POST", INBOX + "?x=1", signed_9421(rsa_key), BODY, NOW)
    with pytest.raises(SignatureError, match="does not verify"):
        pending.verify(rsa_key.public_key())


def test_tampered_method(rsa_key: rsa.RSAPrivateKey) -> None:
    pending = read_signature("PUT", INBOX, signed_9421(rsa_key), BODY, NOW)
    with pytest.raises(SignatureError, match="does not verify"):
        pending.verify(rsa_key.public_key())


def test_wrong_key(rsa_key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pending = read_signature("POST", INBOX, signed_9421(rsa_key), BODY, NOW)
    with pytest.raises(SignatureError, match=f"does not verify with the key {KEY_ID}"):
        pending.verify(other.public_key())
    verify_rfc9421(
        read_rfc9421("POST", INBOX, signed_9421(rsa_key), BODY, NOW), rsa_key.public_key()
    )


@pytest.mark.parametrize(
    ("shift", "reason"),
    [
        (timedelta(hours=-2), "created parameter is 2 hours in the past; allowed skew is 1 hour"),
        (timedelta(hours=2), "created parameter is 2 hours in the future; allowed skew is 1 hour"),
    ],
)
def test_created_out_of_window(rsa_key: rsa.RSAPrivateKey, shift: timedelta, reason: str) -> None:
    headers = signed_9421(rsa_key, now=NOW + shift)
    with pytest.raises(SignatureError, match=reason):
        read_signature("POST", INBOX, headers, BODY, NOW)


def test_expired(rsa_key: rsa.RSAPrivateKey) -> None:
    created = int(NOW.timestamp()) - 600
    headers = hand_signed(
        rsa_key,
        ["@method", "@target-uri", "content-digest"],
        {"created": created, "keyid": KEY_ID, "expires": created + 300},
    )
    with pytest.raises(SignatureError, match="signature expired 5 minutes ago"):
        read_signature("POST", INBOX, headers, BODY, NOW)


CREATED = int(NOW.timestamp())
FULL = ["@method", "@target-uri", "content-digest"]


@pytest.mark.parametrize(
    ("components", "params", "reason"),
    [
        (FULL, {"keyid": KEY_ID}, "no created parameter"),
        (FULL, {"created": CREATED}, "no keyid parameter"),
        (["@target-uri", "content-digest"], {"created": CREATED, "keyid": KEY_ID}, "@method"),
        (
            ["@method", "@path", "@authority", "content-digest"],
            {"created": CREATED, "keyid": KEY_ID},
            "must cover @target-uri",
        ),
        (
            ["@method", "@target-uri"],
            {"created": CREATED, "keyid": KEY_ID},
            "a request with a body must cover Content-Digest",
        ),
    ],
)
def test_mastodon_coverage_rules(
    rsa_key: rsa.RSAPrivateKey, components: list[str | sf.Item], params: sf.Params, reason: str
) -> None:
    headers = hand_signed(rsa_key, components, params)
    with pytest.raises(SignatureError, match=reason):
        read_signature("POST", INBOX, headers, BODY, NOW)


def test_exactly_one_signature(rsa_key: rsa.RSAPrivateKey) -> None:
    one = signed_9421(rsa_key)
    two = {
        **one,
        "Signature-Input": one["Signature-Input"]
        + ", "
        + one["Signature-Input"].replace("sig1=", "sig2="),
        "Signature": one["Signature"] + ", " + one["Signature"].replace("sig1=", "sig2="),
    }
    with pytest.raises(SignatureError, match="carries 2 signatures; exactly one is accepted"):
        read_signature("POST", INBOX, two, BODY, NOW)
    picked = read_rfc9421("POST", INBOX, two, BODY, NOW, label="sig2")
    assert picked.signature.label == "sig2"
    verify_rfc9421(picked, rsa_key.public_key())
    with pytest.raises(SignatureError, match="no signature labelled sig3"):
        read_rfc9421("POST", INBOX, two, BODY, NOW, label="sig3")


def test_signature_input_wins_over_a_cavage_signature(rsa_key: rsa.RSAPrivateKey) -> None:
    """Mastodon ≥ 4.5 reads RFC 9421 whenever Signature-Input is present."""
    cavage = sign_cavage("POST", INBOX, {}, BODY, rsa_key, KEY_ID, NOW)
    headers = cavage | {"Signature-Input": 'sig1=("@method")'}
    with pytest.raises(SignatureError, match="Signature is not a structured dictionary"):
        read_signature("POST", INBOX, headers, BODY, NOW)


def test_signature_input_without_signature() -> None:
    with pytest.raises(SignatureError, match="need both Signature-Input and Signature"):
        read_rfc9421("GET", INBOX, {"Signature-Input": 'sig1=("@method")'}, None, NOW)


def test_missing_content_digest_header(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = signed_9421(rsa_key)
    del headers["Content-Digest"]
    with pytest.raises(SignatureError, match="'content-digest' is missing"):
        read_signature("POST", INBOX, headers, BODY, NOW)


def test_keys_from_protocols_keys_sign_rfc9421() -> None:
    from protocols.keys import generate_actor_keys

    pair = generate_actor_keys()
    for pem in (pair.rsa_private_pem, pair.ed25519_private_pem):
        key = load_private_key(pem)
        headers = signed_9421(key)
        read_signature("POST", INBOX, headers, BODY, NOW).verify(key.public_key())


def test_signature_bytes_are_standard_base64(rsa_key: rsa.RSAPrivateKey) -> None:
    value = signed_9421(rsa_key)["Signature"]
    assert len(base64.b64decode(value.removeprefix("sig1=:").removesuffix(":"))) == 256
