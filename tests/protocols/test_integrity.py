"""eddsa-jcs-2022 proofs: the W3C vc-di-eddsa test vector, tampering, and malformed proofs."""

import copy

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from protocols.integrity import ProofError, proof_of, sign_document, verify_document
from protocols.keys import base58btc_decode, ed25519_from_multibase

# From the W3C Data Integrity EdDSA Cryptosuites v1.0, test vectors for eddsa-jcs-2022
# (w3c/vc-di-eddsa TestVectors/keyPair.json and TestVectors/eddsa-jcs-2022/signedJCS.json).
PUBLIC_KEY_MULTIBASE = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
SECRET_KEY_MULTIBASE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]
UNSIGNED = {
    "@context": CONTEXT,
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
METHOD = "https://vc.example/issuers/5678#" + PUBLIC_KEY_MULTIBASE
CREATED = "2023-02-24T23:36:38Z"
PROOF_VALUE = (
    "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4"
)


def vector_private_key() -> ed25519.Ed25519PrivateKey:
    decoded = base58btc_decode(SECRET_KEY_MULTIBASE[1:])
    assert decoded[:2] == b"\x80\x26"  # multicodec ed25519-priv
    return ed25519.Ed25519PrivateKey.from_private_bytes(decoded[2:])


def vector_public_key() -> ed25519.Ed25519PublicKey:
    return ed25519_from_multibase(PUBLIC_KEY_MULTIBASE)


def test_signing_reproduces_the_w3c_vector_byte_for_byte():
    signed = sign_document(UNSIGNED, vector_private_key(), METHOD, CREATED)
    assert signed["proof"] == {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": CREATED,
        "verificationMethod": METHOD,
        "proofPurpose": "assertionMethod",
        "@context": CONTEXT,
        "proofValue": PROOF_VALUE,
    }
    verify_document(signed, vector_public_key())


def test_the_w3c_signed_document_verifies():
    signed = {
        **UNSIGNED,
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": CREATED,
            "verificationMethod": METHOD,
            "proofPurpose": "assertionMethod",
            "@context": CONTEXT,
            "proofValue": PROOF_VALUE,
        },
    }
    verify_document(signed, vector_public_key())


def test_key_order_and_spacing_do_not_matter():
    signed = sign_document(UNSIGNED, vector_private_key(), METHOD, CREATED)
    reordered = dict(reversed(list(signed.items())))
    verify_document(reordered, vector_public_key())


def test_a_document_without_context_signs_and_verifies():
    key = ed25519.Ed25519PrivateKey.generate()
    document = {"id": "https://a.example/1", "type": "Note"}
    signed = sign_document(document, key, "https://a.example/actor#k", CREATED)
    assert "@context" not in signed["proof"]
    verify_document(signed, key.public_key())


def test_signing_replaces_an_existing_proof():
    key = ed25519.Ed25519PrivateKey.generate()
    once = sign_document(UNSIGNED, key, METHOD, CREATED)
    twice = sign_document(once, key, METHOD, "2024-01-01T00:00:00Z")
    assert twice["proof"]["created"] == "2024-01-01T00:00:00Z"
    verify_document(twice, key.public_key())


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.__setitem__("name", "Forged Credential"),
        lambda d: d["credentialSubject"].__setitem__("alumniOf", "Elsewhere"),
        lambda d: d.__setitem__("extra", True),
        lambda d: d.pop("validFrom"),
        lambda d: d["proof"].__setitem__("created", "2030-01-01T00:00:00Z"),
        lambda d: d["proof"].__setitem__("verificationMethod", "https://evil.example/#k"),
        lambda d: d.__setitem__("@context", CONTEXT[:1]),
    ],
    ids=["name", "nested", "added", "removed", "created", "method", "context"],
)
def test_any_change_breaks_the_proof(change):
    signed = copy.deepcopy(sign_document(UNSIGNED, vector_private_key(), METHOD, CREATED))
    change(signed)
    with pytest.raises(ProofError):
        verify_document(signed, vector_public_key())


def test_another_key_does_not_verify():
    signed = sign_document(UNSIGNED, vector_private_key(), METHOD, CREATED)
    with pytest.raises(ProofError, match="changed or signed by another key"):
        verify_document(signed, ed25519.Ed25519PrivateKey.generate().public_key())


JCS = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022"}


@pytest.mark.parametrize(
    ("proof", "reason"),
    [
        (None, "no proof"),
        ([{}, {}], "several proofs"),
        ("z123", "not an object"),
        ({"type": "Ed25519Signature2020"}, "DataIntegrityProof"),
        ({"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}, "eddsa-jcs-2022"),
        ({**JCS, "proofPurpose": "authentication"}, "purpose"),
        (
            {
                **JCS,
                "proofPurpose": "assertionMethod",
                "verificationMethod": METHOD,
                "created": CREATED,
                "proofValue": 5,
            },
            "proofValue",
        ),
    ],
)
def test_malformed_proofs_are_refused_with_a_reason(proof, reason):
    document = dict(UNSIGNED)
    if proof is not None:
        document["proof"] = proof
    with pytest.raises(ProofError, match=reason):
        proof_of(document)


def test_a_proof_value_that_is_not_base58_is_refused():
    signed = sign_document(UNSIGNED, vector_private_key(), METHOD, CREATED)
    signed["proof"]["proofValue"] = "z0OIl"
    with pytest.raises(ProofError, match="base58btc"):
        verify_document(signed, vector_public_key())
    signed["proof"]["proofValue"] = "u" + PROOF_VALUE[1:]
    with pytest.raises(ProofError, match="multibase"):
        verify_document(signed, vector_public_key())


def test_values_jcs_cannot_express_are_refused():
    signed = sign_document(UNSIGNED, vector_private_key(), METHOD, CREATED)
    signed["big"] = 2**60
    with pytest.raises(ProofError, match="canonicalised"):
        verify_document(signed, vector_public_key())
