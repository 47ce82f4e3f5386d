"""The inbox's entry point: read a request's signature, then verify it once the key is known.

The split exists because the caller fetches the key asynchronously by key id, and
refetches it once (key rotation) when verification fails — so everything that does not
need the key (digest, time window, coverage) is checked first, exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from protocols.httpsig.cavage import CavageSignature, read_cavage, verify_cavage
from protocols.httpsig.errors import SignatureError
from protocols.httpsig.message import normalise_headers
from protocols.httpsig.rfc9421 import Rfc9421Request, read_rfc9421, verify_rfc9421
from protocols.keys import PublicKey

Scheme = Literal["cavage", "rfc9421"]


@dataclass(frozen=True, slots=True)
class PendingSignature:
    """A signature that passed every check not needing the key; `verify` does the rest."""

    scheme: Scheme
    key_id: str
    created: datetime
    _detail: CavageSignature | Rfc9421Request = field(repr=False)

    def verify(self, public_key: PublicKey) -> None:
        """Verify with the signer's public key (RSA or Ed25519); raise SignatureError if not.

        May be called again with a refetched key after a failure.
        """
        if isinstance(self._detail, CavageSignature):
            verify_cavage(self._detail, public_key)
        else:
            verify_rfc9421(self._detail, public_key)


def read_signature(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    now: datetime,
) -> PendingSignature:
    """Detect the scheme and run the key-independent checks of an incoming request.

    RFC 9421 iff a Signature-Input header is present (Mastodon ≥ 4.5's rule, so a request
    carrying both forms is read as RFC 9421), else draft-cavage. `url` is the public URL
    the client requested; `body` the raw bytes received; `now` the current time (aware).
    """
    fields = normalise_headers(headers)
    if "signature-input" in fields:
        checked = read_rfc9421(method, url, fields, body, now)
        key_id = checked.signature.keyid or ""
        return PendingSignature("rfc9421", key_id, checked.created, checked)
    if "signature" in fields:
        cavage = read_cavage(method, url, fields, body, now)
        return PendingSignature("cavage", cavage.key_id, cavage.created, cavage)
    raise SignatureError("request is not signed: no Signature or Signature-Input header")
