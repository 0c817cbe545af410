"""Fixtures of the auth tests: one `users` fixture that runs every test on each UserStore.

Stores hash with LIGHT, argon2id at its smallest cost, so that a test's dozens of hashes take
milliseconds; the secure defaults are checked on their own in test_passwords.py.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from server.auth.base_users import BaseUserStore
from server.auth.memory_users import MemoryUserStore
from server.auth.postgres_users import PostgresUserStore
from server.auth.sqlite_users import SQLiteUserStore
from tests.pg import postgres_session, schema_dsn

__all__ = ["postgres_session"]  # the fixture that stops the test server at the end

LIGHT = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
SECRET_KEY = b"k" * 32


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


Opener = Callable[[Path, ManualClock], Awaitable[BaseUserStore]]


async def _open_memory(path: Path, clock: ManualClock) -> BaseUserStore:
    return MemoryUserStore(LIGHT, clock)


async def _open_sqlite(path: Path, clock: ManualClock) -> BaseUserStore:
    return await SQLiteUserStore.open(path, hasher=LIGHT, clock=clock)


async def _open_postgres(path: Path, clock: ManualClock) -> BaseUserStore:
    # A schema per test directory: alone in it, and a reopen finds the same users.
    dsn = await schema_dsn(str(path.parent))
    return await PostgresUserStore.open(dsn, hasher=LIGHT, clock=clock)


OPENERS: dict[str, Opener] = {
    "memory": _open_memory,
    "sqlite": _open_sqlite,
    "postgres": _open_postgres,
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "annolog.db"


@pytest.fixture(
    params=[
        pytest.param(name, marks=pytest.mark.postgres) if name == "postgres" else name
        for name in sorted(OPENERS)
    ]
)
async def users(
    request: pytest.FixtureRequest, db_path: Path, clock: ManualClock
) -> AsyncIterator[BaseUserStore]:
    store = await OPENERS[request.param](db_path, clock)
    yield store
    await store.close()
