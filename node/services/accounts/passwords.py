"""Password hashing (argon2id, the OWASP recommendation) and one-time secrets."""

import secrets

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


def one_time_password() -> str:
    """A random password to print once; its owner changes it at first login."""
    return secrets.token_urlsafe(12)
