"""The UserStore in the event log's SQLite file: tables `users` and `api_tokens`, own connection.

The connection runs in autocommit with the event store's pragmas (WAL, synchronous=FULL, a busy
timeout), so that each write is one durable statement that waits, rather than fails, while the
event store's writer holds the lock. A file made before users could be disabled gains the
`disabled` and `session_epoch` columns when it is opened.
"""

import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import aiosqlite
from argon2 import PasswordHasher

from server.auth.passwords import HASHER
from server.auth.sql_users import Dialect, Row, SQLUserStore, Statements

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY COLLATE NOCASE,
    display_name TEXT NOT NULL,
    is_admin INTEGER NOT NULL,
    created_at REAL NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    session_epoch INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS api_tokens (
    token_id TEXT PRIMARY KEY,
    username TEXT NOT NULL COLLATE NOCASE,
    label TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL,
    secret_sha256 TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS api_tokens_by_username ON api_tokens (username);
"""
# Columns added since the first schema, with how to add them to an older file.
ADDED_COLUMNS = {
    "disabled": "ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0",
    "session_epoch": "ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0",
}
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=10000")
# Both columns are NOCASE, so a plain comparison ignores case and uses their index.
DIALECT = Dialect(param=lambda n: f"?{n}", username_is=lambda param: f"username = {param}")


class SQLiteUserStore(SQLUserStore):
    """A UserStore in a SQLite file, usually the one the event log lives in."""

    SQL = Statements(DIALECT)
    DUPLICATE = sqlite3.IntegrityError

    def __init__(
        self,
        conn: aiosqlite.Connection,
        hasher: PasswordHasher = HASHER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(hasher, clock)
        self._conn = conn

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        hasher: PasswordHasher = HASHER,
        clock: Callable[[], float] = time.time,
    ) -> "SQLiteUserStore":
        """The store in this file, its tables made or brought up to date if needed."""
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            for pragma in PRAGMAS:
                async with conn.execute(pragma):
                    pass
            await conn.executescript(SCHEMA)
            await _add_missing_columns(conn)
        except BaseException:
            await conn.close()
            raise
        store = cls(conn, hasher, clock)
        # Made now so that the first sign-in of an unknown user is not slower than the rest.
        await store._dummy()
        return store

    async def _fetch(self, sql: str, *args: object) -> Sequence[Row]:
        return list(await self._conn.execute_fetchall(sql, args))

    async def _execute(self, sql: str, *args: object) -> int:
        async with self._conn.execute(sql, args) as cursor:
            return cursor.rowcount

    async def _close(self) -> None:
        await self._conn.close()


async def _add_missing_columns(conn: aiosqlite.Connection) -> None:
    # IMMEDIATE takes the write lock first, so two processes opening an old file at once
    # cannot both see a column missing and both add it.
    await conn.execute("BEGIN IMMEDIATE")
    try:
        columns = {row[1] for row in await conn.execute_fetchall("PRAGMA table_info(users)")}
        for name, statement in ADDED_COLUMNS.items():
            if name not in columns:
                await conn.execute(statement)
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")
