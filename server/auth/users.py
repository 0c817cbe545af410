"""Users and their API tokens: the UserStore protocol, the rules every store shares, a memory store.

Usernames are unique without regard to case and keep the spelling they were created with.
Passwords are hashed off the event loop, a few at a time: an argon2id hash costs tens of
milliseconds and 64 MiB, and a burst of sign-ins must neither stall the loop nor exhaust memory.
An API token reads `al_<token_id>_<secret>` and is shown once; a store keeps only the SHA-256 of
the whole string, which suffices because the secret holds 256 random bits (a slow hash guards
guessable passwords, not random keys).
"""

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Protocol, TypeVar

import msgspec
from argon2 import PasswordHasher

from server.auth.errors import DuplicateUser, InvalidInput, StoreClosed, UnknownToken, UnknownUser
from server.auth.passwords import HASHER, hash_password, needs_rehash, verify_password

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
MAX_DISPLAY_NAME = 100
MAX_LABEL = 100
TOKEN_PREFIX = "al"
TOKEN_ID = re.compile(r"[0-9a-f]{16}")
# Longer than any token this module makes; refused before hashing so junk costs nothing.
MAX_TOKEN = 128
# argon2id with p=4 already keeps several cores busy; more hashes at once only queue for them.
HASH_SLOTS = 2
# A token's owner is remembered this long, so that a script's requests cost no database round
# trip each. A revocation by this process takes effect at once; by another process (servers
# sharing PostgreSQL) within this time.
TOKEN_CACHE_SECONDS = 1.0
TOKEN_CACHE_SIZE = 10_000
T = TypeVar("T")


class User(msgspec.Struct, frozen=True, kw_only=True):
    """A person who signs in; a global admin may create projects and manage users."""

    username: str
    display_name: str = ""
    is_admin: bool = False
    created_at: float


class TokenInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What is known of an API token besides its secret."""

    token_id: str
    username: str
    label: str
    created_at: float
    revoked_at: float | None = None


class UserStore(Protocol):
    """Users, their password hashes and their API tokens."""

    async def add_user(
        self, username: str, password: str, *, display_name: str = "", is_admin: bool = False
    ) -> User: ...

    async def authenticate(self, username: str, password: str) -> User | None: ...

    async def get(self, username: str) -> User | None: ...

    async def list_users(self) -> list[User]: ...

    async def set_password(self, username: str, password: str) -> None: ...

    async def create_token(self, username: str, label: str) -> tuple[str, str]: ...

    async def user_for_token(self, secret: str) -> User | None: ...

    async def list_tokens(self, username: str) -> list[TokenInfo]: ...

    async def revoke_token(self, token_id: str) -> None: ...

    async def close(self) -> None: ...


class Account(msgspec.Struct, frozen=True):
    """A user as stored: with the hash of their password."""

    user: User
    password_hash: str


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


class BaseUserStore(ABC):
    """The UserStore rules over a few storage primitives that each backend provides."""

    def __init__(
        self, hasher: PasswordHasher = HASHER, clock: Callable[[], float] = time.time
    ) -> None:
        self._hasher = hasher
        self._clock = clock
        self._slots = asyncio.Semaphore(HASH_SLOTS)
        self._dummy_hash: str | None = None
        self._closed = False
        # SHA-256 of a token's secret -> (until, on time.monotonic(), token id, owner).
        self._token_owners: dict[str, tuple[float, str, User]] = {}

    async def add_user(
        self, username: str, password: str, *, display_name: str = "", is_admin: bool = False
    ) -> User:
        """A new user; DuplicateUser if the username is taken in any case."""
        self._check_open()
        check_username(username)
        check_password(password)
        display_name = check_text("display_name", display_name, MAX_DISPLAY_NAME, required=False)
        # Checked before hashing to spare the cost; the insert stays the real guard.
        if await self._account(username) is not None:
            raise DuplicateUser(username)
        password_hash = await self._off_loop(hash_password, password, self._hasher)
        user = User(
            username=username,
            display_name=display_name,
            is_admin=is_admin,
            created_at=self._clock(),
        )
        await self._insert_user(Account(user, password_hash))
        return user

    async def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password is theirs, else None, in about the same time either way."""
        self._check_open()
        # Shapes no account can have are public rules, so refusing them fast reveals nothing.
        if not USERNAME.fullmatch(username) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            return None
        account = await self._account(username)
        if account is None:
            # A hash as costly as a real one, so that timing does not tell who exists.
            await self._off_loop(verify_password, await self._dummy(), password, self._hasher)
            return None
        ok = await self._off_loop(verify_password, account.password_hash, password, self._hasher)
        if not ok:
            return None
        if needs_rehash(account.password_hash, self._hasher):
            # Parameters were raised since this hash was made; the password is at hand now.
            fresh = await self._off_loop(hash_password, password, self._hasher)
            await self._store_hash(account.user.username, fresh)
        return account.user

    async def get(self, username: str) -> User | None:
        """The user with this username in any case, or None."""
        self._check_open()
        if not USERNAME.fullmatch(username):
            return None
        account = await self._account(username)
        return account.user if account else None

    async def list_users(self) -> list[User]:
        """Every user, by username."""
        self._check_open()
        return sorted(await self._users(), key=lambda u: (u.username.lower(), u.username))

    async def set_password(self, username: str, password: str) -> None:
        """Replaces a user's password; UnknownUser if there is no such user."""
        self._check_open()
        check_password(password)
        account = await self._account(username) if USERNAME.fullmatch(username) else None
        if account is None:
            raise UnknownUser(username)
        password_hash = await self._off_loop(hash_password, password, self._hasher)
        if not await self._store_hash(account.user.username, password_hash):
            raise UnknownUser(username)

    async def create_token(self, username: str, label: str) -> tuple[str, str]:
        """A new API token's (token_id, secret); the secret is not kept, so show it once."""
        self._check_open()
        label = check_text("label", label, MAX_LABEL, required=True)
        account = await self._account(username) if USERNAME.fullmatch(username) else None
        if account is None:
            raise UnknownUser(username)
        token_id = secrets.token_hex(8)
        secret = f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
        info = TokenInfo(
            token_id=token_id,
            username=account.user.username,
            label=label,
            created_at=self._clock(),
        )
        await self._insert_token(StoredToken(info, digest_of(secret)))
        return token_id, secret

    async def user_for_token(self, secret: str) -> User | None:
        """The owner of a live token with this secret, or None."""
        self._check_open()
        token_id = token_id_of(secret)
        if token_id is None:
            return None
        digest = digest_of(secret)
        now = time.monotonic()
        known = self._token_owners.get(digest)
        if known is not None and known[0] > now:
            return known[2]
        token = await self._token(token_id)
        if token is None or token.info.revoked_at is not None:
            return None
        if not hmac.compare_digest(token.digest, digest):
            return None
        account = await self._account(token.info.username)
        if account is None:
            return None
        if len(self._token_owners) >= TOKEN_CACHE_SIZE:
            self._token_owners.clear()
        self._token_owners[digest] = (now + TOKEN_CACHE_SECONDS, token_id, account.user)
        return account.user

    async def list_tokens(self, username: str) -> list[TokenInfo]:
        """A user's tokens, revoked ones included, oldest first."""
        self._check_open()
        account = await self._account(username) if USERNAME.fullmatch(username) else None
        if account is None:
            raise UnknownUser(username)
        tokens = await self._tokens(account.user.username)
        return sorted(tokens, key=lambda t: (t.created_at, t.token_id))

    async def revoke_token(self, token_id: str) -> None:
        """Revokes a token for good (again is a no-op); UnknownToken if there is no such token."""
        self._check_open()
        if not TOKEN_ID.fullmatch(token_id) or not await self._revoke(token_id, self._clock()):
            raise UnknownToken(token_id)
        for digest, (_, known_id, _) in list(self._token_owners.items()):
            if known_id == token_id:
                del self._token_owners[digest]

    async def close(self) -> None:
        """Releases the store; calls after this raise StoreClosed."""
        if not self._closed:
            self._closed = True
            await self._close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed()

    async def _off_loop(self, func: Callable[..., T], *args: object) -> T:
        async with self._slots:
            return await asyncio.to_thread(func, *args)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._off_loop(
                hash_password, secrets.token_urlsafe(16), self._hasher
            )
        return self._dummy_hash

    @abstractmethod
    async def _account(self, username: str) -> Account | None:
        """The account whose username equals this one without regard to case."""

    @abstractmethod
    async def _users(self) -> list[User]: ...

    @abstractmethod
    async def _insert_user(self, account: Account) -> None:
        """Stores a new account; DuplicateUser if its username is taken in any case."""

    @abstractmethod
    async def _store_hash(self, username: str, password_hash: str) -> bool:
        """Replaces a password hash; False if there is no such user."""

    @abstractmethod
    async def _insert_token(self, token: StoredToken) -> None: ...

    @abstractmethod
    async def _token(self, token_id: str) -> StoredToken | None: ...

    @abstractmethod
    async def _tokens(self, username: str) -> list[TokenInfo]: ...

    @abstractmethod
    async def _revoke(self, token_id: str, at: float) -> bool:
        """Marks a token revoked unless it already is; False if there is no such token."""

    @abstractmethod
    async def _close(self) -> None: ...


class MemoryUserStore(BaseUserStore):
    """A UserStore in dictionaries, for tests and the in-memory server."""

    def __init__(
        self, hasher: PasswordHasher = HASHER, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(hasher, clock)
        self._accounts: dict[str, Account] = {}
        self._stored_tokens: dict[str, StoredToken] = {}

    async def _account(self, username: str) -> Account | None:
        return self._accounts.get(username.lower())

    async def _users(self) -> list[User]:
        return [account.user for account in self._accounts.values()]

    async def _insert_user(self, account: Account) -> None:
        key = account.user.username.lower()
        if key in self._accounts:
            raise DuplicateUser(account.user.username)
        self._accounts[key] = account

    async def _store_hash(self, username: str, password_hash: str) -> bool:
        account = self._accounts.get(username.lower())
        if account is None:
            return False
        self._accounts[username.lower()] = Account(account.user, password_hash)
        return True

    async def _insert_token(self, token: StoredToken) -> None:
        self._stored_tokens[token.info.token_id] = token

    async def _token(self, token_id: str) -> StoredToken | None:
        return self._stored_tokens.get(token_id)

    async def _tokens(self, username: str) -> list[TokenInfo]:
        key = username.lower()
        return [t.info for t in self._stored_tokens.values() if t.info.username.lower() == key]

    async def _revoke(self, token_id: str, at: float) -> bool:
        token = self._stored_tokens.get(token_id)
        if token is None:
            return False
        if token.info.revoked_at is None:
            revoked = msgspec.structs.replace(token.info, revoked_at=at)
            self._stored_tokens[token_id] = StoredToken(revoked, token.digest)
        return True

    async def _close(self) -> None:
        pass
