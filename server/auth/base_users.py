"""BaseUserStore: the UserStore rules over a few storage primitives that each backend provides.

Passwords are hashed off the event loop, a few at a time: an argon2id hash costs tens of
milliseconds and 64 MiB, and a burst of sign-ins must neither stall the loop nor exhaust memory.

A token's owner, and the user and session epoch a cookie names, are remembered for
CACHE_SECONDS so that a request costs no database round trip. Only a match is remembered: a
cookie whose epoch differs from the remembered one is judged on a fresh read, so a sign-in
right after a revocation works on every process at once. A revocation, new password or
disabling by this process takes effect here at once; by another process (servers sharing
PostgreSQL) within CACHE_SECONDS.
"""

import asyncio
import hmac
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TypeVar

import msgspec
from argon2 import PasswordHasher

from server.auth.errors import (
    DuplicateUser,
    SessionRevoked,
    StoreClosed,
    UnknownToken,
    UnknownUser,
    UserDisabled,
)
from server.auth.passwords import HASHER, hash_password, needs_rehash, verify_password
from server.auth.users import (
    MAX_DISPLAY_NAME,
    MAX_LABEL,
    MAX_PASSWORD,
    MIN_PASSWORD,
    TOKEN_ID,
    TOKEN_PREFIX,
    USERNAME,
    Account,
    SessionOwner,
    StoredToken,
    TokenInfo,
    User,
    check_password,
    check_text,
    check_username,
    digest_of,
    token_id_of,
)

# argon2id with p=4 already keeps several cores busy; more hashes at once only queue for them.
HASH_SLOTS = 2
CACHE_SECONDS = 1.0
CACHE_SIZE = 10_000
T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


def _remember(cache: dict[K, tuple[float, V]], key: K, value: V) -> None:
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = (time.monotonic() + CACHE_SECONDS, value)


def _recall(cache: dict[K, tuple[float, V]], key: K) -> V | None:
    known = cache.get(key)
    return known[1] if known is not None and known[0] > time.monotonic() else None


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
        # SHA-256 of a token's secret -> (until, on time.monotonic(), (token id, owner)).
        self._token_owners: dict[str, tuple[float, tuple[str, User]]] = {}
        # Lowercased username -> (until, (user, session epoch)).
        self._session_owners: dict[str, tuple[float, tuple[User, int]]] = {}

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
        """The user if the password is theirs, else None; UserDisabled if they are disabled."""
        owner = await self.authenticate_session(username, password)
        return owner.user if owner else None

    async def authenticate_session(self, username: str, password: str) -> SessionOwner | None:
        """The user and the epoch for a new session cookie if the password is theirs, else None.

        Answers in about the same time whether the user exists or not. A disabled user with
        the right password gets UserDisabled: only someone who knows the password learns it.
        """
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
        if account.user.disabled:
            raise UserDisabled(account.user.username)
        if needs_rehash(account.password_hash, self._hasher):
            # Parameters were raised since this hash was made; the password is at hand now.
            fresh = await self._off_loop(hash_password, password, self._hasher)
            await self._rehash(account.user.username, account.password_hash, fresh)
        return SessionOwner(account.user, account.session_epoch)

    async def session_user(self, username: str, epoch: int) -> User | None:
        """The user a session cookie of this epoch names, or None if there is no such user.

        SessionRevoked if the user's sessions were revoked since the cookie was issued, or
        the user is disabled.
        """
        self._check_open()
        if not USERNAME.fullmatch(username):
            return None
        key = username.lower()
        known = _recall(self._session_owners, key)
        if known is not None and not known[0].disabled and known[1] == epoch:
            return known[0]
        account = await self._account(username)
        if account is None:
            self._session_owners.pop(key, None)
            return None
        _remember(self._session_owners, key, (account.user, account.session_epoch))
        if account.user.disabled or account.session_epoch != epoch:
            raise SessionRevoked(account.user.username)
        return account.user

    async def revoke_sessions(self, username: str) -> None:
        """Ends every session cookie of the user issued until now; UnknownUser if none."""
        self._check_open()
        account = await self._existing(username)
        if not await self._next_epoch(account.user.username):
            raise UnknownUser(username)
        self._forget(account.user.username)

    async def set_disabled(self, username: str, disabled: bool) -> User:
        """Disables a user (ending their sessions, refusing their tokens) or enables them."""
        self._check_open()
        account = await self._existing(username)
        if not await self._store_disabled(account.user.username, disabled):
            raise UnknownUser(username)
        self._forget(account.user.username)
        return msgspec.structs.replace(account.user, disabled=disabled)

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
        """Replaces a user's password and ends their sessions; UnknownUser if there is none."""
        self._check_open()
        check_password(password)
        account = await self._existing(username)
        password_hash = await self._off_loop(hash_password, password, self._hasher)
        if not await self._store_hash(account.user.username, password_hash):
            raise UnknownUser(username)
        self._forget(account.user.username)

    async def create_token(self, username: str, label: str) -> tuple[str, str]:
        """A new API token's (token_id, secret); the secret is not kept, so show it once."""
        self._check_open()
        label = check_text("label", label, MAX_LABEL, required=True)
        account = await self._existing(username)
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
        """The owner of a live token with this secret, or None; UserDisabled if they are."""
        self._check_open()
        token_id = token_id_of(secret)
        if token_id is None:
            return None
        digest = digest_of(secret)
        known = _recall(self._token_owners, digest)
        owner = known[1] if known is not None else await self._token_owner(token_id, digest)
        if owner is None:
            return None
        if known is None:
            _remember(self._token_owners, digest, (token_id, owner))
        if owner.disabled:
            raise UserDisabled(owner.username)
        return owner

    async def list_tokens(self, username: str) -> list[TokenInfo]:
        """A user's tokens, revoked ones included, oldest first."""
        self._check_open()
        account = await self._existing(username)
        tokens = await self._tokens(account.user.username)
        return sorted(tokens, key=lambda t: (t.created_at, t.token_id))

    async def revoke_token(self, token_id: str) -> None:
        """Revokes a token for good (again is a no-op); UnknownToken if there is no such token."""
        self._check_open()
        if not TOKEN_ID.fullmatch(token_id) or not await self._revoke(token_id, self._clock()):
            raise UnknownToken(token_id)
        for digest, (_, (known_id, _)) in list(self._token_owners.items()):
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

    async def _existing(self, username: str) -> Account:
        account = await self._account(username) if USERNAME.fullmatch(username) else None
        if account is None:
            raise UnknownUser(username)
        return account

    async def _token_owner(self, token_id: str, digest: str) -> User | None:
        token = await self._token(token_id)
        if token is None or token.info.revoked_at is not None:
            return None
        if not hmac.compare_digest(token.digest, digest):
            return None
        account = await self._account(token.info.username)
        return account.user if account else None

    def _forget(self, username: str) -> None:
        key = username.lower()
        self._session_owners.pop(key, None)
        for digest, (_, (_, owner)) in list(self._token_owners.items()):
            if owner.username.lower() == key:
                del self._token_owners[digest]

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
        """Replaces a password hash and raises the session epoch; False if there is no user."""

    @abstractmethod
    async def _rehash(self, username: str, old_hash: str, new_hash: str) -> None:
        """Replaces a password hash by one of the same password, unless it changed meanwhile."""

    @abstractmethod
    async def _next_epoch(self, username: str) -> bool:
        """Raises the user's session epoch by one; False if there is no such user."""

    @abstractmethod
    async def _store_disabled(self, username: str, disabled: bool) -> bool:
        """Sets the disabled flag, raising the epoch when disabling; False if there is no user."""

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
