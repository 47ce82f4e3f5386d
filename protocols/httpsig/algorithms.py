"""Signature algorithms by their registered names (RFC 9421 §3.3 / §6.2.2).

`rsa-v1_5-sha256` is also what draft-cavage `rsa-sha256` and `hs2019` mean for RSA
keys in the fediverse; `ed25519` is what hs2019 means for Ed25519 keys.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from protocols.httpsig.errors import SignatureError

SigningKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | bytes
VerifyingKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | bytes

RSA_V1_5_SHA256 = "rsa-v1_5-sha256"
RSA_PSS_SHA512 = "rsa-pss-sha512"
ECDSA_P256_SHA256 = "ecdsa-p256-sha256"
ED25519 = "ed25519"
HMAC_SHA256 = "hmac-sha256"
ALGORITHMS = (RSA_V1_5_SHA256, RSA_PSS_SHA512, ECDSA_P256_SHA256, ED25519, HMAC_SHA256)

# RFC 9421 §3.3.1: RSASSA-PSS with SHA-512, MGF1(SHA-512) and a 64-byte salt.
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
_P256_SIZE = 32


def _kind(key: SigningKey | VerifyingKey) -> str:
    if isinstance(key, bytes):
        return "shared secret"
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "Ed25519"
    return f"EC {key.curve.name}"


def default_algorithm(key: SigningKey | VerifyingKey) -> str:
    """The algorithm a key implies when the signature does not name one.

    RSA keys mean rsa-v1_5-sha256 (the only one Mastodon ≤ 4.6 verifies); PSS needs an
    explicit `alg` or an explicit choice by the caller.
    """
    kind = _kind(key)
    if kind == "RSA":
        return RSA_V1_5_SHA256
    if kind == "Ed25519":
        return ED25519
    if kind == "shared secret":
        return HMAC_SHA256
    if kind == "EC secp256r1":
        return ECDSA_P256_SHA256
    raise SignatureError(f"no signature algorithm for a {kind} key")


def _require(algorithm: str, key: SigningKey | VerifyingKey) -> None:
    wanted = {
        RSA_V1_5_SHA256: "RSA",
        RSA_PSS_SHA512: "RSA",
        ECDSA_P256_SHA256: "EC secp256r1",
        ED25519: "Ed25519",
        HMAC_SHA256: "shared secret",
    }.get(algorithm)
    if wanted is None:
        raise SignatureError(f"signature algorithm {algorithm!r} is not supported")
    if _kind(key) != wanted:
        raise SignatureError(f"algorithm {algorithm} needs a {wanted} key, got a {_kind(key)} key")


def sign(algorithm: str, key: SigningKey, message: bytes) -> bytes:
    """Sign `message` with `key` using the named algorithm; ECDSA output is r‖s (64 bytes)."""
    _require(algorithm, key)
    if isinstance(key, bytes):
        return hmac.new(key, message, hashlib.sha256).digest()
    if isinstance(key, rsa.RSAPrivateKey):
        if algorithm == RSA_PSS_SHA512:
            return key.sign(message, _PSS, hashes.SHA512())
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(_P256_SIZE, "big") + s.to_bytes(_P256_SIZE, "big")


def verify(algorithm: str, key: VerifyingKey, message: bytes, signature: bytes) -> bool:
    """Whether `signature` over `message` verifies; a key unfit for the algorithm raises."""
    _require(algorithm, key)
    try:
        if isinstance(key, bytes):
            expected = hmac.new(key, message, hashlib.sha256).digest()
            return hmac.compare_digest(expected, signature)
        if isinstance(key, rsa.RSAPublicKey):
            if algorithm == RSA_PSS_SHA512:
                key.verify(signature, message, _PSS, hashes.SHA512())
            else:
                key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        else:
            if len(signature) != 2 * _P256_SIZE:
                return False
            r = int.from_bytes(signature[:_P256_SIZE], "big")
            s = int.from_bytes(signature[_P256_SIZE:], "big")
            key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
