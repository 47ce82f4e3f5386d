"""Who signs an outgoing request: a key id and the RSA private key behind it.

The instance actor signs GETs (FEP-2677, what Mastodon in authorized-fetch mode requires);
the sending actor signs each POST to an inbox. RSA, because every Mastodon release verifies
draft-cavage signatures with RSASSA-PKCS1-v1_5 only (interop.md §2.1, §2.4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from protocols.keys import load_private_key


@dataclass(frozen=True, slots=True)
class Signer:
    """An actor's key id (e.g. `https://node.example/actor#main-key`) and its loaded RSA key.

    Keep one per actor in memory: loading a PEM with validation costs tens of milliseconds.
    """

    key_id: str
    private_key: RSAPrivateKey = field(repr=False)

    @classmethod
    def from_pem(cls, key_id: str, private_key_pem: str) -> Signer:
        """Load a signer from the PEM text the database stores; non-RSA keys are a ValueError.

        Refusing Ed25519 here because Mastodon ≤ 4.6 cannot verify Ed25519 HTTP signatures.
        """
        key = load_private_key(private_key_pem)
        if not isinstance(key, RSAPrivateKey):
            raise ValueError(f"{key_id} must sign with an RSA key, not {type(key).__name__}")
        return cls(key_id, key)
