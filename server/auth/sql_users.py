"""SQLUserStore: the UserStore over tables `users` and `api_tokens`, each statement written once.

A backend supplies its Dialect (how a parameter is written, how a username is matched without
regard to case so that its index is used), the exception its driver raises for a taken
username, and three ways of talking to its connection: fetch rows, execute, close.
"""

from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NamedTuple

from server.auth.base_users import BaseUserStore
from server.auth.errors import DuplicateUser
from server.auth.users import Account, StoredToken, TokenInfo, User

USER_COLUMNS = "username, display_name, is_admin, created_at, disabled"
TOKEN_COLUMNS = "token_id, username, label, created_at, revoked_at"
Row = Sequence[Any]


class Dialect(NamedTuple):
    """What differs between SQL backends in the user store's statements."""

    # The n-th statement parameter, counted from 1.
    param: Callable[[int], str]
    # The condition that a row's `username` equals this parameter without regard to case.
    username_is: Callable[[str], str]


class Statements:
    """The user store's statements in one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        p, username_is = dialect.param, dialect.username_is

        def params(count: int) -> str:
            return ", ".join(p(n) for n in range(1, count + 1))

        self.account = (
            f"SELECT {USER_COLUMNS}, password_hash, session_epoch FROM users"
            f" WHERE {username_is(p(1))}"
        )
        self.users = f"SELECT {USER_COLUMNS} FROM users"
        self.insert_user = (
            f"INSERT INTO users ({USER_COLUMNS}, password_hash, session_epoch) VALUES ({params(7)})"
        )
        self.store_hash = (
            f"UPDATE users SET password_hash = {p(1)}, session_epoch = session_epoch + 1"
            f" WHERE {username_is(p(2))}"
        )
        self.rehash = (
            f"UPDATE users SET password_hash = {p(1)}"
            f" WHERE {username_is(p(2))} AND password_hash = {p(3)}"
        )
        self.next_epoch = (
            f"UPDATE users SET session_epoch = session_epoch + 1 WHERE {username_is(p(1))}"
        )
        self.store_disabled = (
            f"UPDATE users SET disabled = {p(1)}, session_epoch = session_epoch + {p(2)}"
            f" WHERE {username_is(p(3))}"
        )
        self.insert_token = (
            f"INSERT INTO api_tokens ({TOKEN_COLUMNS}, secret_sha256) VALUES ({params(6)})"
        )
        self.token = (
            f"SELECT {TOKEN_COLUMNS}, secret_sha256 FROM api_tokens WHERE token_id = {p(1)}"
        )
        self.tokens = f"SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE {username_is(p(1))}"
        self.revoke = (
            f"UPDATE api_tokens SET revoked_at = coalesce(revoked_at, {p(1)})"
            f" WHERE token_id = {p(2)}"
        )


def user_of(row: Row) -> User:
    """A User from the USER_COLUMNS of a row."""
    username, display_name, is_admin, created_at, disabled = row
    return User(
        username=username,
        display_name=display_name,
        is_admin=bool(is_admin),
        created_at=created_at,
        disabled=bool(disabled),
    )


def token_info_of(row: Row) -> TokenInfo:
    """A TokenInfo from the TOKEN_COLUMNS of a row."""
    token_id, username, label, created_at, revoked_at = row
    return TokenInfo(
        token_id=token_id,
        username=username,
        label=label,
        created_at=created_at,
        revoked_at=revoked_at,
    )


class SQLUserStore(BaseUserStore):
    """The UserStore primitives in SQL, for a backend that says how to run a statement."""

    SQL: ClassVar[Statements]
    # What the driver raises when an insert breaks the unique username index.
    DUPLICATE: ClassVar[type[Exception]]

    @abstractmethod
    async def _fetch(self, sql: str, *args: object) -> Sequence[Row]:
        """The rows a statement answers."""

    @abstractmethod
    async def _execute(self, sql: str, *args: object) -> int:
        """Runs a statement alone (autocommit); how many rows it changed."""

    async def _account(self, username: str) -> Account | None:
        rows = await self._fetch(self.SQL.account, username)
        if not rows:
            return None
        *user, password_hash, session_epoch = rows[0]
        return Account(user_of(user), password_hash, session_epoch)

    async def _users(self) -> list[User]:
        return [user_of(row) for row in await self._fetch(self.SQL.users)]

    async def _insert_user(self, account: Account) -> None:
        user = account.user
        try:
            await self._execute(
                self.SQL.insert_user,
                user.username,
                user.display_name,
                user.is_admin,
                user.created_at,
                user.disabled,
                account.password_hash,
                account.session_epoch,
            )
        except self.DUPLICATE as exc:
            raise DuplicateUser(user.username) from exc

    async def _store_hash(self, username: str, password_hash: str) -> bool:
        return bool(await self._execute(self.SQL.store_hash, password_hash, username))

    async def _rehash(self, username: str, old_hash: str, new_hash: str) -> None:
        await self._execute(self.SQL.rehash, new_hash, username, old_hash)

    async def _next_epoch(self, username: str) -> bool:
        return bool(await self._execute(self.SQL.next_epoch, username))

    async def _store_disabled(self, username: str, disabled: bool) -> bool:
        # Disabling ends the sessions in the same statement, so no cookie outlives it.
        return bool(await self._execute(self.SQL.store_disabled, disabled, int(disabled), username))

    async def _insert_token(self, token: StoredToken) -> None:
        info = token.info
        await self._execute(
            self.SQL.insert_token,
            info.token_id,
            info.username,
            info.label,
            info.created_at,
            info.revoked_at,
            token.digest,
        )

    async def _token(self, token_id: str) -> StoredToken | None:
        rows = await self._fetch(self.SQL.token, token_id)
        if not rows:
            return None
        *info, digest = rows[0]
        return StoredToken(token_info_of(info), digest)

    async def _tokens(self, username: str) -> list[TokenInfo]:
        return [token_info_of(row) for row in await self._fetch(self.SQL.tokens, username)]

    async def _revoke(self, token_id: str, at: float) -> bool:
        return bool(await self._execute(self.SQL.revoke, at, token_id))
