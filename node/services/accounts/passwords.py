"""Password hashing (argon2id, the OWASP recommendation) and one-time secrets."""

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of the password, salted, for storage."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """A hash of a random password nobody knows, computed once per process."""
    return _hasher.hash(secrets.token_urlsafe(16))


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether the password matches an account's hash, at the same cost when there is no
    account (None) or its hash is unusable (a deleted account's): those are verified
    against a dummy hash, so neither the answer nor its timing tells that an account exists."""
    if password_hash is None or not password_hash.startswith("$argon2"):
        verify_password(_dummy_hash(), password)
        return False
    return verify_password(password_hash, password)


def one_time_password() -> str:
    """A random password to print once; its owner changes it at first login."""
    return secrets.token_urlsafe(12)
