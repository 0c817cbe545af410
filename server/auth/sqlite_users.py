"""The UserStore in the event log's SQLite file: tables `users` and `api_tokens`, own connection.

The connection runs in autocommit with the event store's pragmas (WAL, synchronous=FULL, a busy
timeout), so that each write is one durable statement that waits, rather than fails, while the
event store's writer holds the lock.
"""

import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import aiosqlite
from argon2 import PasswordHasher

from server.auth.errors import DuplicateUser
from server.auth.passwords import HASHER
from server.auth.users import Account, BaseUserStore, StoredToken, TokenInfo, User

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY COLLATE NOCASE,
    display_name TEXT NOT NULL,
    is_admin INTEGER NOT NULL,
    created_at REAL NOT NULL,
    password_hash TEXT NOT NULL
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
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=10000")
USER_COLUMNS = "username, display_name, is_admin, created_at"
TOKEN_COLUMNS = "token_id, username, label, created_at, revoked_at"


def _user(row: Iterable[Any]) -> User:
    username, display_name, is_admin, created_at = row
    return User(
        username=username,
        display_name=display_name,
        is_admin=bool(is_admin),
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


class SQLiteUserStore(BaseUserStore):
    """A UserStore in a SQLite file, usually the one the event log lives in."""

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
        """The store in this file, its tables made if missing."""
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            for pragma in PRAGMAS:
                async with conn.execute(pragma):
                    pass
            await conn.executescript(SCHEMA)
        except BaseException:
            await conn.close()
            raise
        store = cls(conn, hasher, clock)
        # Made now so that the first sign-in of an unknown user is not slower than the rest.
        await store._dummy()
        return store

    async def _account(self, username: str) -> Account | None:
        rows = list(
            await self._conn.execute_fetchall(
                f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ?",
                (username,),
            )
        )
        if not rows:
            return None
        *user, password_hash = rows[0]
        return Account(_user(user), password_hash)

    async def _users(self) -> list[User]:
        rows = await self._conn.execute_fetchall(f"SELECT {USER_COLUMNS} FROM users")
        return [_user(row) for row in rows]

    async def _insert_user(self, account: Account) -> None:
        user = account.user
        try:
            await self._conn.execute_insert(
                f"INSERT INTO users ({USER_COLUMNS}, password_hash) VALUES (?, ?, ?, ?, ?)",
                (
                    user.username,
                    user.display_name,
                    int(user.is_admin),
                    user.created_at,
                    account.password_hash,
                ),
            )
        except sqlite3.IntegrityError as exc:
            raise DuplicateUser(user.username) from exc

    async def _store_hash(self, username: str, password_hash: str) -> bool:
        async with self._conn.execute(
            "UPDATE users SET password_hash = ? WHERE username = ?", (password_hash, username)
        ) as cursor:
            return bool(cursor.rowcount)

    async def _insert_token(self, token: StoredToken) -> None:
        info = token.info
        await self._conn.execute_insert(
            f"INSERT INTO api_tokens ({TOKEN_COLUMNS}, secret_sha256) VALUES (?, ?, ?, ?, ?, ?)",
            (
                info.token_id,
                info.username,
                info.label,
                info.created_at,
                info.revoked_at,
                token.digest,
            ),
        )

    async def _token(self, token_id: str) -> StoredToken | None:
        rows = list(
            await self._conn.execute_fetchall(
                f"SELECT {TOKEN_COLUMNS}, secret_sha256 FROM api_tokens WHERE token_id = ?",
                (token_id,),
            )
        )
        if not rows:
            return None
        *info, digest = rows[0]
        return StoredToken(_token_info(info), digest)

    async def _tokens(self, username: str) -> list[TokenInfo]:
        rows = await self._conn.execute_fetchall(
            f"SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE username = ?", (username,)
        )
        return [_token_info(row) for row in rows]

    async def _revoke(self, token_id: str, at: float) -> bool:
        async with self._conn.execute(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE token_id = ?",
            (at, token_id),
        ) as cursor:
            return bool(cursor.rowcount)

    async def _close(self) -> None:
        await self._conn.close()
