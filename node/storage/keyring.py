"""Loaded actor keys kept in memory: loading a PEM with validation costs about 30 ms."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from node.storage.models import LocalActor
from protocols.keys import ed25519_to_multibase, load_private_key, public_key_to_pem


@dataclass(frozen=True, slots=True)
class LoadedKeys:
    """One actor's private keys and the public forms its documents publish."""

    rsa_private: rsa.RSAPrivateKey
    ed25519_private: ed25519.Ed25519PrivateKey
    rsa_public_pem: str
    ed25519_multibase: str


class KeyRing:
    """Caches each local actor's loaded keys by actor id for the life of the process."""

    def __init__(self) -> None:
        self._keys: dict[str, LoadedKeys] = {}

    def keys_for(self, actor: LocalActor) -> LoadedKeys:
        """The loaded keys of a local actor, loading them on first use."""
        cached = self._keys.get(actor.id)
        if cached is None:
            cached = self._keys[actor.id] = _load(actor)
        return cached


def _load(actor: LocalActor) -> LoadedKeys:
    rsa_key = load_private_key(actor.rsa_private_pem)
    ed_key = load_private_key(actor.ed25519_private_pem)
    if not isinstance(rsa_key, rsa.RSAPrivateKey) or not isinstance(
        ed_key, ed25519.Ed25519PrivateKey
    ):
        raise ValueError(f"actor {actor.username} has keys of the wrong kinds")
    return LoadedKeys(
        rsa_private=rsa_key,
        ed25519_private=ed_key,
        rsa_public_pem=public_key_to_pem(rsa_key.public_key()),
        ed25519_multibase=ed25519_to_multibase(ed_key.public_key()),
    )
