"""Password hashing with argon2id.

HASHER uses argon2-cffi's defaults, RFC 9106's low-memory profile (argon2id, t=3, m=64 MiB,
p=4): tens of milliseconds and 64 MiB per hash, which is the point. Tests pass a lighter
PasswordHasher to the stores instead of changing this one.
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    """The encoded argon2id hash of a password, with a fresh salt."""
    result: str = hasher.hash(password)
    return result


def verify_password(stored: str, password: str, hasher: PasswordHasher = HASHER) -> bool:
    """Whether the password matches the stored hash; a malformed hash matches nothing."""
    try:
        return bool(hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str, hasher: PasswordHasher = HASHER) -> bool:
    """Whether the stored hash was made with other parameters than the hasher's."""
    try:
        return bool(hasher.check_needs_rehash(stored))
    except (InvalidHashError, ValueError):
        return True
