"""`annolog migrate`: a SQLite log, its users and checkpoints copied to PostgreSQL as they are,
resumed after an interruption, refused into another log, verified by counts and checksums."""

import asyncio
import sqlite3
from pathlib import Path

import pytest

from events.envelope import Recorded
from events.errors import DuplicateEventError
from events.postgres_store import PostgresStore
from events.sqlite_store import SQLiteStore
from server.auth.errors import UserDisabled
from server.auth.postgres_users import PostgresUserStore
from server.auth.sqlite_users import SQLiteUserStore
from server.cli import main
from server.migrate import CHUNK, MigrationError, migrate_sqlite_to_postgres
from tests.events.conftest import ManualClock, create_project, read_everything, tagged
from tests.pg import database_dsn
from tests.server.auth.conftest import LIGHT

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery"


@pytest.fixture
async def target(request: pytest.FixtureRequest) -> str:
    return await database_dsn(f"migrate_{request.node.name[5:40].lower()}")


async def make_log(path: Path, events: int, clock: ManualClock | None = None) -> list[Recorded]:
    """A SQLite log of a project and `events` tags over a few items, appends 1 s apart."""
    store = await SQLiteStore.open(path, clock or ManualClock(step=1.0))
    try:
        if await store.last_seq() == 0:
            await create_project(store)
        start = await store.last_seq()
        # Appends of up to 50 events, over a few items (a durable commit each: keep them few).
        for first in range(start, start + events, 50):
            stream = f"item-p-{first // 50 % 7}"
            batch = range(first, min(first + 50, start + events))
            version = await store.stream_version(stream)
            await store.append(stream, [tagged(f"e{i}", f"t{i % 3}") for i in batch], version)
        await store.save_checkpoint("workspace", 3, b"state-at-3")
        return await read_everything(store)
    finally:
        await store.close()


async def test_disabled_users_and_ended_sessions_carry_over_on_a_rerun(
    tmp_path: Path, target: str
) -> None:
    path = tmp_path / "annolog.db"
    await make_log(path, 3)
    users = await SQLiteUserStore.open(path, hasher=LIGHT)
    await users.add_user("alice", PASSWORD)
    await users.add_user("bob", PASSWORD)
    await migrate_sqlite_to_postgres(f"sqlite:///{path}", target)
    await users.revoke_sessions("alice")
    await users.set_disabled("bob", True)
    await users.close()

    await migrate_sqlite_to_postgres(f"sqlite:///{path}", target)

    moved = await PostgresUserStore.open(target, hasher=LIGHT)
    try:
        owner = await moved.authenticate_session("alice", PASSWORD)
        assert owner is not None
        assert owner.epoch == 1
        with pytest.raises(UserDisabled):
            await moved.authenticate("bob", PASSWORD)
    finally:
        await moved.close()


async def test_a_log_users_and_checkpoints_move_as_they_are(tmp_path: Path, target: str) -> None:
    path = tmp_path / "annolog.db"
    before = await make_log(path, 300)
    users = await SQLiteUserStore.open(path, hasher=LIGHT)
    alice = await users.add_user("Alice", PASSWORD, is_admin=True)
    _, secret = await users.create_token("alice", "script")
    await users.close()

    report = await migrate_sqlite_to_postgres(f"sqlite:///{path}", target)
    assert (report.events, report.copied, report.last_seq) == (301, 301, 301)
    assert (report.users, report.tokens, report.checkpoints) == (1, 1, 1)

    store = await PostgresStore.open(target)
    moved = await PostgresUserStore.open(target, hasher=LIGHT)
    try:
        assert await read_everything(store) == before
        assert await store.load_checkpoint("workspace") == (3, b"state-at-3")
        assert await store.stream_version("item-p-0") == len(
            [r for r in before if r.stream == "item-p-0"]
        )
        assert await moved.authenticate("alice", PASSWORD) == alice
        assert await moved.user_for_token(secret) == alice
        # The log goes on where it stopped: the next seq, and stamps that do not go back.
        [after] = await store.append(
            "item-p-0", [tagged("next")], await store.stream_version("item-p-0")
        )
        assert after.seq == 302
        assert after.at >= before[-1].at
        with pytest.raises(DuplicateEventError, match="e1"):
            await store.append("item-p-1", [tagged("e1", "other")], 99)
    finally:
        await moved.close()
        await store.close()


async def test_an_interrupted_copy_resumes_where_it_stopped(tmp_path: Path, target: str) -> None:
    path = tmp_path / "annolog.db"
    before = await make_log(path, CHUNK + 500)
    seen: list[int] = []

    def interrupt_after_the_first_chunk(done: int, total: int) -> None:
        seen.append(done)
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await migrate_sqlite_to_postgres(str(path), target, interrupt_after_the_first_chunk)
    assert seen == [0, CHUNK]

    report = await migrate_sqlite_to_postgres(f"sqlite:///{path}", target)
    assert (report.copied, report.events) == (len(before) - CHUNK, len(before))

    # Events appended to the source since then go over on the next run, and only they.
    more = await make_log(path, 40)
    report = await migrate_sqlite_to_postgres(f"sqlite:///{path}", target)
    assert (report.copied, report.events) == (40, len(more))
    again = await migrate_sqlite_to_postgres(f"sqlite:///{path}", target)
    assert again.copied == 0
    assert again.checksum == report.checksum

    store = await PostgresStore.open(target)
    try:
        assert await read_everything(store) == more
    finally:
        await store.close()


async def test_a_target_holding_another_log_is_refused(tmp_path: Path, target: str) -> None:
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    await make_log(ours, 20)
    await make_log(theirs, 10, ManualClock(now=5.0, step=1.0))
    await migrate_sqlite_to_postgres(str(theirs), target)
    with pytest.raises(MigrationError, match="seq 11 is not the source's"):
        await migrate_sqlite_to_postgres(str(ours), target)

    shorter = tmp_path / "shorter.db"
    await make_log(shorter, 3)
    with pytest.raises(MigrationError, match="longer than the source's"):
        await migrate_sqlite_to_postgres(str(shorter), target)


async def test_a_changed_event_fails_verification(tmp_path: Path, target: str) -> None:
    path = tmp_path / "annolog.db"
    await make_log(path, 20)
    await migrate_sqlite_to_postgres(str(path), target)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET actor = 'mallory' WHERE seq = 5")
    conn.close()
    with pytest.raises(MigrationError, match="checksums do not match"):
        await migrate_sqlite_to_postgres(str(path), target)


async def test_bad_arguments_are_named(tmp_path: Path, target: str) -> None:
    with pytest.raises(MigrationError, match="no SQLite file"):
        await migrate_sqlite_to_postgres(f"sqlite:///{tmp_path}/missing.db", target)
    with pytest.raises(MigrationError, match="must be a postgresql:// URL"):
        await migrate_sqlite_to_postgres(f"sqlite:///{tmp_path}/missing.db", "mysql://x")


def test_the_command_copies_and_says_what_it_verified(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "annolog.db"
    asyncio.run(make_log(path, 50))
    assert main(["migrate", f"sqlite:///{path}", target]) == 0
    out = capsys.readouterr().out
    assert "copied 51 events (51 in the log, last seq 51)" in out
    assert "verified: same count, last seq and SHA-256" in out

    assert main(["migrate", f"sqlite:///{tmp_path}/nothing.db", target]) == 1
    assert "no SQLite file there" in capsys.readouterr().err


def test_reproject_rebuilds_from_the_postgresql_log_that_database_url_names(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "annolog.db"
    asyncio.run(make_log(path, 30))
    assert main(["migrate", str(path), target]) == 0
    monkeypatch.setenv("DATABASE_URL", target)
    monkeypatch.delenv("ANNOLOG_DATABASE", raising=False)
    assert main(["--db", str(tmp_path / "unused.db"), "reproject"]) == 0
    assert "workspace: rebuilt up to seq 31, 1 projects" in capsys.readouterr().out
    assert not (tmp_path / "unused.db").exists()
