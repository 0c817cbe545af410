"""What only the PostgreSQL store can show: stored rows, the schema shared with the log, two
processes seeing one another's users at once, migrations recorded."""

import hashlib
from pathlib import Path

import asyncpg
import pytest
from argon2 import PasswordHasher

from events.envelope import NewEvent
from events.postgres_store import PostgresStore
from events.project import ProjectCreated
from server.auth.errors import DuplicateUser
from server.auth.postgres_users import PostgresUserStore
from tests.pg import schema_dsn
from tests.server.auth.conftest import LIGHT, ManualClock

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery"


@pytest.fixture
async def dsn(tmp_path: Path) -> str:
    return await schema_dsn(str(tmp_path))


async def rows(dsn: str, sql: str) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_only_hashes_of_passwords_and_token_secrets_are_stored(dsn: str) -> None:
    store = await PostgresUserStore.open(dsn, hasher=LIGHT)
    await store.add_user("alice", PASSWORD)
    token_id, secret = await store.create_token("alice", "script")
    await store.close()

    [(password_hash,)] = await rows(dsn, "SELECT password_hash FROM users")
    [token_row] = await rows(dsn, "SELECT * FROM api_tokens")
    everything = repr(await rows(dsn, "SELECT * FROM users")) + repr(token_row)

    assert isinstance(password_hash, str)
    assert password_hash.startswith("$argon2id$")
    assert hashlib.sha256(secret.encode()).hexdigest() in token_row
    assert token_id in token_row
    assert PASSWORD not in everything
    assert secret.rpartition("_")[2] not in everything


async def test_a_user_added_on_one_process_signs_in_on_another(dsn: str) -> None:
    first = await PostgresUserStore.open(dsn, hasher=LIGHT)
    second = await PostgresUserStore.open(dsn, hasher=LIGHT)
    try:
        alice = await first.add_user("Alice", PASSWORD, is_admin=True)
        assert await second.authenticate("alice", PASSWORD) == alice
        with pytest.raises(DuplicateUser):
            await second.add_user("ALICE", PASSWORD)
        _, secret = await second.create_token("alice", "script")
        assert await first.user_for_token(secret) == alice
    finally:
        await first.close()
        await second.close()


async def test_a_hash_of_older_parameters_is_redone_at_sign_in(dsn: str) -> None:
    store = await PostgresUserStore.open(dsn, hasher=LIGHT)
    await store.add_user("alice", PASSWORD)
    await store.close()
    [(old,)] = await rows(dsn, "SELECT password_hash FROM users")

    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    store = await PostgresUserStore.open(dsn, hasher=stronger)
    try:
        assert await store.authenticate("alice", PASSWORD) is not None
    finally:
        await store.close()
    [(new,)] = await rows(dsn, "SELECT password_hash FROM users")
    assert "m=8,t=1,p=1" in str(old)
    assert "m=16,t=2,p=1" in str(new)


async def test_the_tables_live_beside_the_event_log(dsn: str) -> None:
    events = await PostgresStore.open(dsn, ManualClock())
    users = await PostgresUserStore.open(dsn, hasher=LIGHT)
    try:
        created = ProjectCreated(project_id="p", name="P", project_type="image_multiclass")
        await events.append(
            "project-p", [NewEvent(event_id="e1", event=created, actor="alice", session="s")], 0
        )
        await users.add_user("alice", PASSWORD)
    finally:
        await users.close()
        await events.close()

    assert await rows(dsn, "SELECT stream, actor FROM events") == [("project-p", "alice")]
    assert await rows(dsn, "SELECT username FROM users") == [("alice",)]
    migrations = await rows(dsn, "SELECT component, version FROM schema_migrations ORDER BY 1, 2")
    assert migrations == [("events", 1), ("users", 1), ("users", 2)]
