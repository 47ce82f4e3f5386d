"""HTTP signatures for server-to-server ActivityPub, framework-free.

draft-cavage-12 (what every Mastodon release verifies) and RFC 9421 (Mastodon ≥ 4.5
verifies it), with RFC 3230 Digest and RFC 9530 Content-Digest. Pure functions over
method, URL, headers, body, keys and `now`: no I/O. The inbox uses `read_signature`
then `PendingSignature.verify`; deliveries use `sign_cavage` (or `sign_rfc9421`).
"""

from protocols.httpsig.cavage import read_cavage, sign_cavage, verify_cavage
from protocols.httpsig.digest import (
    make_content_digest,
    make_digest,
    verify_content_digest,
    verify_digest,
)
from protocols.httpsig.errors import SignatureError
from protocols.httpsig.rfc9421 import read_rfc9421, sign_rfc9421, verify_rfc9421
from protocols.httpsig.verify import PendingSignature, read_signature

__all__ = [
    "PendingSignature",
    "SignatureError",
    "make_content_digest",
    "make_digest",
    "read_cavage",
    "read_rfc9421",
    "read_signature",
    "sign_cavage",
    "sign_rfc9421",
    "verify_cavage",
    "verify_content_digest",
    "verify_digest",
    "verify_rfc9421",
]
