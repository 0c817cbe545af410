"""The UserStore in PostgreSQL, beside the event log: tables `users` and `api_tokens`.

Usernames are unique without regard to case through an index on `lower(username)`, and keep
the spelling they were created with. Every write is one statement in autocommit, so a user
added on one server process can sign in on any other at once. The tables come from versioned
migrations (component `users` in `schema_migrations`).
"""

import time
from collections.abc import Callable, Iterable
from typing import Any

import asyncpg
from argon2 import PasswordHasher

from events.postgres_schema import Migration, migrate
from server.auth.errors import DuplicateUser
from server.auth.passwords import HASHER
from server.auth.users import Account, BaseUserStore, StoredToken, TokenInfo, User

COMPONENT = "users"
MIGRATIONS: list[Migration] = [
    (
        1,
        """
        CREATE TABLE users (
            username TEXT PRIMARY KEY,
            display_name TEXT NOT NULL,
            is_admin BOOLEAN NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            password_hash TEXT NOT NULL
        );
        CREATE UNIQUE INDEX users_by_lower_username ON users (lower(username));
        CREATE TABLE api_tokens (
            token_id TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            label TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            revoked_at DOUBLE PRECISION,
            secret_sha256 TEXT NOT NULL
        );
        CREATE INDEX api_tokens_by_username ON api_tokens (lower(username));
        """,
    ),
]
POOL_SIZE = 4
USER_COLUMNS = "username, display_name, is_admin, created_at"
TOKEN_COLUMNS = "token_id, username, label, created_at, revoked_at"


def _user(row: Iterable[Any]) -> User:
    username, display_name, is_admin, created_at = row
    return User(
        username=username,
        display_name=display_name,
        is_admin=is_admin,
        created_at=created_at,
    )


def _token_info(row: Iterable[Any]) -> TokenInfo:
    token_id, username, label, created_at, revoked_at = row
    return TokenInfo(
        token_id=token_id,
        username=username,
        label=label,
        created_at=created_at,
        revoked_at=revoked_at,
    )


class PostgresUserStore(BaseUserStore):
    """A UserStore in a PostgreSQL schema, usually the one the event log lives in."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        hasher: PasswordHasher = HASHER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(hasher, clock)
        self._pool = pool

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        hasher: PasswordHasher = HASHER,
        clock: Callable[[], float] = time.time,
        pool_size: int = POOL_SIZE,
    ) -> "PostgresUserStore":
        """The store at this URL (`?search_path=...` picks a schema), its tables migrated."""
        pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=pool_size,
            server_settings={"application_name": "annolog-users"},
        )
        try:
            async with pool.acquire() as conn:
                await migrate(conn, COMPONENT, MIGRATIONS)
            store = cls(pool, hasher, clock)
            # Made now so that the first sign-in of an unknown user is not slower than the rest.
            await store._dummy()
        except BaseException:
            await pool.close()
            raise
        return store

    async def _account(self, username: str) -> Account | None:
        row = await self._pool.fetchrow(
            f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(username) = lower($1)",
            username,
        )
        if row is None:
            return None
        *user, password_hash = row
        return Account(_user(user), password_hash)

    async def _users(self) -> list[User]:
        rows = await self._pool.fetch(f"SELECT {USER_COLUMNS} FROM users")
        return [_user(row) for row in rows]

    async def _insert_user(self, account: Account) -> None:
        user = account.user
        try:
            await self._pool.execute(
                f"INSERT INTO users ({USER_COLUMNS}, password_hash) VALUES ($1, $2, $3, $4, $5)",
                user.username,
                user.display_name,
                user.is_admin,
                user.created_at,
                account.password_hash,
            )
        except asyncpg.UniqueViolationError as exc:
            raise DuplicateUser(user.username) from exc

    async def _store_hash(self, username: str, password_hash: str) -> bool:
        status: str = await self._pool.execute(
            "UPDATE users SET password_hash = $1 WHERE lower(username) = lower($2)",
            password_hash,
            username,
        )
        return status != "UPDATE 0"

    async def _insert_token(self, token: StoredToken) -> None:
        info = token.info
        await self._pool.execute(
            f"INSERT INTO api_tokens ({TOKEN_COLUMNS}, secret_sha256)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            info.token_id,
            info.username,
            info.label,
            info.created_at,
            info.revoked_at,
            token.digest,
        )

    async def _token(self, token_id: str) -> StoredToken | None:
        row = await self._pool.fetchrow(
            f"SELECT {TOKEN_COLUMNS}, secret_sha256 FROM api_tokens WHERE token_id = $1",
            token_id,
        )
        if row is None:
            return None
        *info, digest = row
        return StoredToken(_token_info(info), digest)

    async def _tokens(self, username: str) -> list[TokenInfo]:
        rows = await self._pool.fetch(
            f"SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE lower(username) = lower($1)", username
        )
        return [_token_info(row) for row in rows]

    async def _revoke(self, token_id: str, at: float) -> bool:
        status: str = await self._pool.execute(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE token_id = $2",
            at,
            token_id,
        )
        return status != "UPDATE 0"

    async def _close(self) -> None:
        await self._pool.close()
