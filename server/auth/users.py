"""Users and their API tokens: what they are, the UserStore protocol, and their input rules.

Usernames are unique without regard to case and keep the spelling they were created with.
An API token reads `al_<token_id>_<secret>` and is shown once; a store keeps only the SHA-256 of
the whole string, which suffices because the secret holds 256 random bits (a slow hash guards
guessable passwords, not random keys).

Each user has a session epoch, a counter that every session cookie carries a copy of. Signing
out everywhere, a new password and disabling the user raise it, so that every cookie issued
before then no longer matches and is refused, copies included.
"""

import hashlib
import re
from typing import Protocol

import msgspec

from server.auth.errors import InvalidInput

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
MAX_DISPLAY_NAME = 100
MAX_LABEL = 100
TOKEN_PREFIX = "al"
TOKEN_ID = re.compile(r"[0-9a-f]{16}")
# Longer than any token this module makes; refused before hashing so junk costs nothing.
MAX_TOKEN = 128


class User(msgspec.Struct, frozen=True, kw_only=True):
    """A person who signs in; a global admin may create projects and manage users."""

    username: str
    display_name: str = ""
    is_admin: bool = False
    created_at: float
    disabled: bool = False


class TokenInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What is known of an API token besides its secret."""

    token_id: str
    username: str
    label: str
    created_at: float
    revoked_at: float | None = None


class SessionOwner(msgspec.Struct, frozen=True):
    """A user who has just proved their password, and the session epoch a new cookie carries."""

    user: User
    epoch: int


class UserStore(Protocol):
    """Users, their password hashes and their API tokens."""

    async def add_user(
        self, username: str, password: str, *, display_name: str = "", is_admin: bool = False
    ) -> User: ...

    async def authenticate(self, username: str, password: str) -> User | None: ...

    async def authenticate_session(self, username: str, password: str) -> SessionOwner | None: ...

    async def session_user(self, username: str, epoch: int) -> User | None: ...

    async def revoke_sessions(self, username: str) -> None: ...

    async def set_disabled(self, username: str, disabled: bool) -> User: ...

    async def get(self, username: str) -> User | None: ...

    async def list_users(self) -> list[User]: ...

    async def set_password(self, username: str, password: str) -> None: ...

    async def create_token(self, username: str, label: str) -> tuple[str, str]: ...

    async def user_for_token(self, secret: str) -> User | None: ...

    async def list_tokens(self, username: str) -> list[TokenInfo]: ...

    async def revoke_token(self, token_id: str) -> None: ...

    async def close(self) -> None: ...


class Account(msgspec.Struct, frozen=True):
    """A user as stored: with the hash of their password and their session epoch."""

    user: User
    password_hash: str
    session_epoch: int = 0


class StoredToken(msgspec.Struct, frozen=True):
    """A token as stored: with the SHA-256 (hex) of its secret."""

    info: TokenInfo
    digest: str


def check_username(username: str) -> str:
    """The username if it follows the rule, else InvalidInput naming `username`."""
    if not USERNAME.fullmatch(username):
        raise InvalidInput(
            "username",
            "1 to 64 letters, digits or _ . @ + -, starting with a letter or digit",
        )
    return username


def check_password(password: str) -> str:
    """The password if its length is allowed, else InvalidInput naming `password`."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput("password", f"{MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def check_text(field: str, value: str, longest: int, *, required: bool) -> str:
    """A trimmed one-line text of at most `longest` characters, else InvalidInput naming it."""
    value = value.strip()
    if required and not value:
        raise InvalidInput(field, "must not be empty")
    if len(value) > longest or not value.isprintable():
        raise InvalidInput(field, f"at most {longest} printable characters on one line")
    return value


def token_id_of(secret: str) -> str | None:
    """The token id inside a token's secret, or None if it is not shaped like one."""
    if len(secret) > MAX_TOKEN:
        return None
    prefix, _, rest = secret.partition("_")
    token_id, _, random_part = rest.partition("_")
    if prefix != TOKEN_PREFIX or not TOKEN_ID.fullmatch(token_id) or not random_part:
        return None
    return token_id


def digest_of(secret: str) -> str:
    """The SHA-256 (hex) of a token secret: all a store keeps of it."""
    return hashlib.sha256(secret.encode()).hexdigest()
