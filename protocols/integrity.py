"""Object integrity proofs: the `eddsa-jcs-2022` Data Integrity cryptosuite (FEP-8b32).

A proof travels inside the document it protects, so a document keeps its authorship when it
is carried outside HTTP (a USB stick between two villages, a coordinator's aggregate): the
receiver checks it with the author's Ed25519 key, whoever handed it over. The algorithm is the
W3C vc-di-eddsa one: the proof options and the document are each canonicalised with JCS
(RFC 8785), hashed with SHA-256, and the two hashes concatenated are signed with Ed25519.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from protocols.keys import base58btc_decode, base58btc_encode

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_PURPOSE = "assertionMethod"


class ProofError(ValueError):
    """A document's proof is missing, malformed or does not verify; the message says which."""


def sign_document(
    document: dict[str, Any],
    key: ed25519.Ed25519PrivateKey,
    verification_method: str,
    created: str,
) -> dict[str, Any]:
    """A copy of `document` carrying an `eddsa-jcs-2022` proof made with `key`.

    `verification_method` is the id of the key as its owner publishes it (for an actor,
    `<actor>#ed25519-key`), `created` an XML Schema dateTime in UTC. An existing `proof`
    is replaced: one author, one proof.
    """
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    if "@context" in unsecured:
        options["@context"] = unsecured["@context"]
    signature = key.sign(_hash_data(options, unsecured))
    return {**unsecured, "proof": {**options, "proofValue": "z" + base58btc_encode(signature)}}


def proof_of(document: dict[str, Any]) -> dict[str, Any]:
    """The document's single `eddsa-jcs-2022` proof, checked for shape (not yet verified).

    Refused with a reason: no proof, several proofs, another type or cryptosuite, another
    purpose, or a field that is not a string.
    """
    proof = document.get("proof")
    if proof is None:
        raise ProofError("the document carries no proof")
    if isinstance(proof, list):
        raise ProofError("the document carries several proofs; one is expected")
    if not isinstance(proof, dict):
        raise ProofError("the proof is not an object")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"the proof is not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise ProofError(f"the proof's purpose is not {PROOF_PURPOSE}")
    for name in ("verificationMethod", "created", "proofValue"):
        if not isinstance(proof.get(name), str):
            raise ProofError(f"the proof's {name} is missing or not a string")
    return proof


def verify_document(document: dict[str, Any], public_key: ed25519.Ed25519PublicKey) -> None:
    """Check the document's proof against `public_key`; raise ProofError when it does not hold.

    The caller has found `public_key` from the proof's verificationMethod and checked that the
    key belongs to the document's author: this function answers only "was this exact document
    signed by this key".
    """
    proof = proof_of(document)
    options = {name: value for name, value in proof.items() if name != "proofValue"}
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    if "@context" in options and options["@context"] != unsecured.get("@context"):
        raise ProofError("the proof's @context differs from the document's")
    value = proof["proofValue"]
    if not value.startswith("z"):
        raise ProofError("the proofValue is not base58btc multibase ('z' prefix)")
    try:
        signature = base58btc_decode(value[1:])
    except ValueError as error:
        raise ProofError(f"the proofValue is not base58btc: {error}") from None
    try:
        public_key.verify(signature, _hash_data(options, unsecured))
    except InvalidSignature:
        raise ProofError(
            "the proof does not verify: the document was changed or signed by another key"
        ) from None


def _hash_data(options: dict[str, Any], unsecured: dict[str, Any]) -> bytes:
    """SHA-256 of the canonical proof options, then of the canonical document (vc-di-eddsa)."""
    try:
        canonical_options = rfc8785.dumps(options)
        canonical_document = rfc8785.dumps(unsecured)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as error:
        raise ProofError(f"the document cannot be canonicalised (RFC 8785): {error}") from None
    return hashlib.sha256(canonical_options).digest() + hashlib.sha256(canonical_document).digest()
