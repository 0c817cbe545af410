"""The UserStore in PostgreSQL, beside the event log: tables `users` and `api_tokens`.

Usernames are unique without regard to case through an index on `lower(username)`, and keep
the spelling they were created with. Every write is one statement in autocommit, so a user
added on one server process can sign in on any other at once. The tables come from versioned
migrations (component `users` in `schema_migrations`).
"""

import time
from collections.abc import Callable, Sequence

import asyncpg
from argon2 import PasswordHasher

from events.postgres_connections import translated
from events.postgres_schema import Migration, migrate
from server.auth.passwords import HASHER
from server.auth.sql_users import Dialect, Row, SQLUserStore, Statements

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
    (
        2,
        """
        ALTER TABLE users
            ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false,
            ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
        """,
    ),
]
POOL_SIZE = 4
# lower() on both sides, as the indexes are on lower(username).
DIALECT = Dialect(
    param=lambda n: f"${n}", username_is=lambda param: f"lower(username) = lower({param})"
)


class PostgresUserStore(SQLUserStore):
    """A UserStore in a PostgreSQL schema, usually the one the event log lives in."""

    SQL = Statements(DIALECT)
    DUPLICATE = asyncpg.UniqueViolationError

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

    # A database out of reach is the log's StoreUnavailableError (503), as for the event store.
    async def _fetch(self, sql: str, *args: object) -> Sequence[Row]:
        with translated():
            rows: list[Row] = await self._pool.fetch(sql, *args)
        return rows

    async def _execute(self, sql: str, *args: object) -> int:
        with translated():
            # The status reads "UPDATE 3" or "INSERT 0 1": the last word counts the rows.
            status: str = await self._pool.execute(sql, *args)
        return int(status.rpartition(" ")[2])

    async def _close(self) -> None:
        await self._pool.close()
