"""Actor key pairs: RSA-2048 for draft-cavage signatures, Ed25519 for FEP-521a Multikeys.

Private keys travel as PEM text (what the database stores); loading a PEM is slow
(tens of milliseconds with validation), so callers keep the loaded objects in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

RSA_KEY_BITS = 2048
# Multicodec prefix of an Ed25519 public key (0xed, varint-encoded), FEP-521a / W3C Multikey.
_ED25519_MULTICODEC = b"\xed\x01"
_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey


@dataclass(frozen=True, slots=True)
class ActorKeyPair:
    """The PEM-encoded private keys of one actor: RSA for Mastodon, Ed25519 for proofs."""

    rsa_private_pem: str
    ed25519_private_pem: str


def generate_actor_keys() -> ActorKeyPair:
    """Make a fresh RSA-2048 and Ed25519 key pair for a new actor."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    return ActorKeyPair(private_key_to_pem(rsa_key), private_key_to_pem(ed_key))


def private_key_to_pem(key: PrivateKey) -> str:
    """Serialise a private key as unencrypted PKCS#8 PEM text."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def load_private_key(pem: str) -> PrivateKey:
    """Load an RSA or Ed25519 private key from PEM; anything else is a ValueError.

    Private keys are only ever this node's own, generated here and read back from its
    database, never remote input: the RSA consistency checks, 70 ms a key on small hardware
    and paid at every signature from a fresh process, are skipped."""
    key = serialization.load_pem_private_key(
        pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ValueError(f"unsupported private key type {type(key).__name__}")
    return key


def public_key_to_pem(key: PublicKey) -> str:
    """Serialise a public key as SubjectPublicKeyInfo PEM (the `publicKeyPem` format)."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key_pem(pem: str) -> PublicKey:
    """Load an RSA or Ed25519 public key from PEM; anything else is a ValueError."""
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise ValueError(f"unsupported public key type {type(key).__name__}")
    return key


def base58btc_encode(data: bytes) -> str:
    """Encode bytes in Bitcoin's base58 alphabet (leading zero bytes become '1').

    >>> base58btc_encode(b"hello world")
    'StV1DL6CwTryKyV'
    """
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_BASE58_ALPHABET[rest])
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """Decode base58btc text; a character outside the alphabet is a ValueError.

    >>> base58btc_decode("StV1DL6CwTryKyV")
    b'hello world'
    """
    number = 0
    for char in text:
        index = _BASE58_ALPHABET.find(char)
        if index < 0:
            raise ValueError(f"invalid base58 character {char!r}")
        number = number * 58 + index
    leading_ones = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading_ones + body


def ed25519_to_multibase(key: ed25519.Ed25519PublicKey) -> str:
    """The `publicKeyMultibase` value of an Ed25519 key: 'z' + base58btc(multicodec + raw)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58btc_encode(_ED25519_MULTICODEC + raw)


def ed25519_from_multibase(value: str) -> ed25519.Ed25519PublicKey:
    """Read an Ed25519 key from a `publicKeyMultibase` value; other key kinds are a ValueError."""
    if not value.startswith("z"):
        raise ValueError("publicKeyMultibase must be base58btc ('z' prefix)")
    decoded = base58btc_decode(value[1:])
    if not decoded.startswith(_ED25519_MULTICODEC) or len(decoded) != 34:
        raise ValueError("publicKeyMultibase is not an Ed25519 public key")
    return ed25519.Ed25519PublicKey.from_public_bytes(decoded[2:])
