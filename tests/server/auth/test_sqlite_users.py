"""What only the SQLite store can show: the stored rows, the file shared with the log, reopening."""

import hashlib
import sqlite3
from pathlib import Path

from argon2 import PasswordHasher

from events.envelope import NewEvent
from events.project import ProjectCreated
from events.sqlite_store import SQLiteStore
from server.auth.sqlite_users import SQLiteUserStore
from tests.server.auth.conftest import LIGHT, ManualClock

PASSWORD = "correct horse battery"


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


async def test_only_hashes_of_passwords_and_token_secrets_are_stored(db_path: Path) -> None:
    store = await SQLiteUserStore.open(db_path, hasher=LIGHT)
    await store.add_user("alice", PASSWORD)
    token_id, secret = await store.create_token("alice", "script")
    await store.close()

    [(password_hash,)] = rows(db_path, "SELECT password_hash FROM users")
    [token_row] = rows(db_path, "SELECT * FROM api_tokens")
    stored = b"".join(p.read_bytes() for p in db_path.parent.iterdir())

    assert isinstance(password_hash, str)
    assert password_hash.startswith("$argon2id$")
    assert hashlib.sha256(secret.encode()).hexdigest() in token_row
    assert token_id in token_row
    assert PASSWORD.encode() not in stored
    assert secret.encode() not in stored
    assert secret.rpartition("_")[2].encode() not in stored


async def test_users_and_tokens_survive_a_reopen(db_path: Path, clock: ManualClock) -> None:
    store = await SQLiteUserStore.open(db_path, hasher=LIGHT, clock=clock)
    alice = await store.add_user("alice", PASSWORD, display_name="Alice", is_admin=True)
    token_id, secret = await store.create_token("alice", "script")
    await store.close()

    store = await SQLiteUserStore.open(db_path, hasher=LIGHT, clock=clock)
    try:
        assert await store.list_users() == [alice]
        assert await store.authenticate("alice", PASSWORD) == alice
        assert await store.user_for_token(secret) == alice
        assert [t.token_id for t in await store.list_tokens("alice")] == [token_id]
    finally:
        await store.close()


async def test_a_hash_of_older_parameters_is_redone_at_sign_in(db_path: Path) -> None:
    store = await SQLiteUserStore.open(db_path, hasher=LIGHT)
    await store.add_user("alice", PASSWORD)
    await store.close()
    [(old,)] = rows(db_path, "SELECT password_hash FROM users")

    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    store = await SQLiteUserStore.open(db_path, hasher=stronger)
    try:
        assert await store.authenticate("alice", PASSWORD) is not None
    finally:
        await store.close()
    [(new,)] = rows(db_path, "SELECT password_hash FROM users")

    assert isinstance(old, str)
    assert isinstance(new, str)
    assert "m=8,t=1,p=1" in old
    assert "m=16,t=2,p=1" in new


async def test_the_tables_live_beside_the_event_log(db_path: Path, clock: ManualClock) -> None:
    events = await SQLiteStore.open(db_path, clock)
    users = await SQLiteUserStore.open(db_path, hasher=LIGHT, clock=clock)
    try:
        created = ProjectCreated(project_id="p", name="P", project_type="image_multiclass")
        await events.append(
            "project-p", [NewEvent(event_id="e1", event=created, actor="alice", session="s")], 0
        )
        await users.add_user("alice", PASSWORD)
    finally:
        await users.close()
        await events.close()

    tables = {name for (name,) in rows(db_path, "SELECT name FROM sqlite_master")}
    [(journal,)] = rows(db_path, "PRAGMA journal_mode")
    assert {"events", "read_models", "meta", "users", "api_tokens"} <= tables
    assert journal == "wal"
    assert rows(db_path, "SELECT stream, actor FROM events") == [("project-p", "alice")]
    assert rows(db_path, "SELECT username FROM users") == [("alice",)]
