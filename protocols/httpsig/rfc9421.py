"""RFC 9421 HTTP Message Signatures: Signature-Input/Signature, signing, verifying.

Two layers: the generic RFC machinery (`parse_signatures`, `sign_message`,
`verify_message`, enough to reproduce the RFC's Appendix B), and the profile Mastodon
≥ 4.5 applies to server-to-server requests (`sign_rfc9421`, `read_rfc9421`,
`verify_rfc9421`; interop.md §2.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from protocols.httpsig import algorithms, structured
from protocols.httpsig.components import Message, signature_base
from protocols.httpsig.digest import make_content_digest, verify_content_digest
from protocols.httpsig.errors import SignatureError
from protocols.httpsig.message import normalise_headers
from protocols.httpsig.window import check_time_window, from_unix, require_aware

_STRING_PARAMS = ("keyid", "alg", "nonce", "tag")
_INTEGER_PARAMS = ("created", "expires")


@dataclass(frozen=True, slots=True)
class MessageSignature:
    """One labelled signature: its covered components and parameters, and its bytes."""

    label: str
    covered: structured.InnerList
    signature: bytes

    @property
    def components(self) -> tuple[str, ...]:
        """The covered component names, without their parameters."""
        return tuple(str(item.value) for item in self.covered.items)

    @property
    def keyid(self) -> str | None:
        """The `keyid` parameter, if any."""
        value = self.covered.params.get("keyid")
        return value if isinstance(value, str) else None

    @property
    def alg(self) -> str | None:
        """The `alg` parameter, if any."""
        value = self.covered.params.get("alg")
        return value if isinstance(value, str) else None

    @property
    def created(self) -> int | None:
        """The `created` parameter (Unix time), if any."""
        value = self.covered.params.get("created")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def expires(self) -> int | None:
        """The `expires` parameter (Unix time), if any."""
        value = self.covered.params.get("expires")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def signature_input(self) -> str:
        """This signature's Signature-Input member, e.g. `sig1=("@method");created=1`."""
        return structured.serialize_dictionary({self.label: self.covered})

    def signature_field(self) -> str:
        """This signature's Signature member, e.g. `sig1=:base64:`."""
        return structured.serialize_dictionary({self.label: structured.Item(self.signature)})


def _check_params(label: str, covered: structured.InnerList) -> None:
    for name in _STRING_PARAMS:
        if name in covered.params and not isinstance(covered.params[name], str):
            raise SignatureError(f"signature {label}: {name} must be a string")
    for name in _INTEGER_PARAMS:
        value = covered.params.get(name)
        if name in covered.params and (not isinstance(value, int) or isinstance(value, bool)):
            raise SignatureError(f"signature {label}: {name} must be an integer")
    for item in covered.items:
        if not isinstance(item.value, str):
            raise SignatureError(f"signature {label}: covered components must be strings")


def parse_signatures(signature_input: str, signature: str) -> dict[str, MessageSignature]:
    """Pair the members of Signature-Input and Signature by label (RFC 9421 §4.1, §4.2).

    Every Signature-Input member must be an inner list of strings with well-typed
    parameters and have a byte-sequence Signature member under the same label.
    """
    try:
        inputs = structured.parse_dictionary(signature_input)
    except structured.StructuredFieldError as error:
        raise SignatureError(f"Signature-Input is not a structured dictionary: {error}") from None
    try:
        values = structured.parse_dictionary(signature)
    except structured.StructuredFieldError as error:
        raise SignatureError(f"Signature is not a structured dictionary: {error}") from None
    found: dict[str, MessageSignature] = {}
    for label, covered in inputs.items():
        if not isinstance(covered, structured.InnerList):
            raise SignatureError(f"Signature-Input {label} is not an inner list")
        _check_params(label, covered)
        value = values.get(label)
        if value is None:
            raise SignatureError(f"Signature has no value for label {label}")
        if not isinstance(value, structured.Item) or not isinstance(value.value, bytes):
            raise SignatureError(f"Signature {label} is not a byte sequence")
        found[label] = MessageSignature(label, covered, value.value)
    return found


def sign_message(
    components: list[str | structured.Item],
    params: structured.Params,
    message: Message,
    key: algorithms.SigningKey,
    label: str = "sig1",
    algorithm: str | None = None,
) -> MessageSignature:
    """Sign `message` over `components` with the given parameters (RFC 9421 §3.1).

    `params` are serialised in the order given (e.g. created, keyid); `algorithm`
    defaults to the one the key implies. The `alg` parameter is only sent if in `params`.
    """
    items = tuple(c if isinstance(c, structured.Item) else structured.Item(c) for c in components)
    covered = structured.InnerList(items, dict(params))
    _check_params(label, covered)
    base = signature_base(covered, message)
    raw = algorithms.sign(algorithm or algorithms.default_algorithm(key), key, base)
    return MessageSignature(label, covered, raw)


def choose_algorithm(
    signature: MessageSignature, key: algorithms.VerifyingKey, algorithm: str | None = None
) -> str:
    """The algorithm to verify with: the caller's, else `alg`, else what the key implies.

    RFC 9421 §3.2 step 6: when both the caller and `alg` name one, they must agree.
    """
    if algorithm is not None and signature.alg is not None and signature.alg != algorithm:
        raise SignatureError(f"signature names alg {signature.alg}, expected {algorithm}")
    return algorithm or signature.alg or algorithms.default_algorithm(key)


def verify_message(
    signature: MessageSignature,
    message: Message,
    key: algorithms.VerifyingKey,
    algorithm: str | None = None,
) -> None:
    """Rebuild the signature base from `message` and verify it (RFC 9421 §3.2 steps 5-9).

    No policy here (time, required components): see `read_rfc9421` for that.
    """
    base = signature_base(signature.covered, message)
    verify_base(signature, base, key, algorithm)


def verify_base(
    signature: MessageSignature,
    base: bytes,
    key: algorithms.VerifyingKey,
    algorithm: str | None = None,
) -> None:
    """Verify `signature` over an already built base; raise SignatureError if it fails."""
    name = choose_algorithm(signature, key, algorithm)
    if not algorithms.verify(name, key, base, signature.signature):
        who = f" with the key {signature.keyid}" if signature.keyid else ""
        raise SignatureError(f"signature {signature.label} does not verify{who} ({name})")


# ----- the Mastodon profile -----------------------------------------------------------


def _needs_digest(method: str, body: bytes | None) -> bool:
    return bool(body) or method.upper() == "POST"


def sign_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    private_key: algorithms.SigningKey,
    key_id: str,
    now: datetime,
    label: str = "sig1",
) -> dict[str, str]:
    """Sign an outgoing request as Mastodon main (4.7) does; return the headers to add.

    Covers `@method @target-uri` plus `content-digest` when there is a body (and always
    for POST), with the parameters `created` and `keyid`; adds a sha-256 Content-Digest.
    `url` must be exactly the URL requested. No `alg` parameter: the verifier derives it
    from the key (rsa-v1_5-sha256 for RSA, the only one Mastodon ≤ 4.6 accepts).
    """
    added: dict[str, str] = {}
    components: list[str | structured.Item] = ["@method", "@target-uri"]
    fields = normalise_headers(headers)
    if _needs_digest(method, body):
        added["Content-Digest"] = make_content_digest(body or b"")
        fields["content-digest"] = added["Content-Digest"]
        components.append("content-digest")
    created = int(require_aware(now).timestamp())
    signature = sign_message(
        components,
        {"created": created, "keyid": key_id},
        Message(method=method, url=url, headers=fields),
        private_key,
        label,
    )
    added["Signature-Input"] = signature.signature_input()
    added["Signature"] = signature.signature_field()
    return added


@dataclass(frozen=True, slots=True)
class Rfc9421Request:
    """A received RFC 9421 signature that passed every key-independent check."""

    signature: MessageSignature
    base: bytes
    created: datetime


def read_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    now: datetime,
    label: str | None = None,
) -> Rfc9421Request:
    """Parse and check an incoming RFC 9421 signature as Mastodon ≥ 4.5 does.

    Mastodon's HttpMessageSignature: exactly one signature (or the one `label` names);
    `created` and `keyid` present; covered components include `@method` and
    `@target-uri`; a body (or any POST) needs `content-digest` covered and matching the
    raw body. Time window as for draft-cavage; `expires` honoured. `url` is the public
    URL the client requested (scheme and host in front of any TLS proxy).
    """
    fields = normalise_headers(headers)
    if "signature-input" not in fields or "signature" not in fields:
        raise SignatureError("RFC 9421 signatures need both Signature-Input and Signature")
    found = parse_signatures(fields["signature-input"], fields["signature"])
    if label is not None:
        if label not in found:
            raise SignatureError(f"request has no signature labelled {label}")
        signature = found[label]
    elif len(found) != 1:
        raise SignatureError(f"request carries {len(found)} signatures; exactly one is accepted")
    else:
        signature = next(iter(found.values()))
    if not signature.keyid:
        raise SignatureError(f"signature {signature.label} has no keyid parameter")
    if signature.created is None:
        raise SignatureError(f"signature {signature.label} has no created parameter")
    for required in ("@method", "@target-uri"):
        if required not in signature.components:
            raise SignatureError(f"signature must cover {required}")
    created_at = from_unix(signature.created, "created parameter")
    expires = signature.expires
    expires_at = from_unix(expires, "expires parameter") if expires is not None else None
    check_time_window(created_at, now, "created parameter", expires_at)
    if _needs_digest(method, body):
        if "content-digest" not in signature.components:
            raise SignatureError("a request with a body must cover Content-Digest")
        if "content-digest" not in fields:
            raise SignatureError("covered header field 'content-digest' is missing")
        verify_content_digest(fields["content-digest"], body or b"")
    base = signature_base(signature.covered, Message(method=method, url=url, headers=fields))
    return Rfc9421Request(signature, base, created_at)


def verify_rfc9421(request: Rfc9421Request, public_key: algorithms.VerifyingKey) -> None:
    """Verify a checked request signature with the signer's key.

    The algorithm is `alg` if given, else implied by the key: rsa-v1_5-sha256 for RSA
    (Mastodon ≤ 4.6 knows no other), ed25519 for Ed25519 keys (Mastodon main, #39518).
    """
    verify_base(request.signature, request.base, public_key)
