"""The PostgreSQL store while its database is away: a server shut down, a writer whose
connection is cut while it waits for the append lock, a COMMIT whose answer never comes back.

Every call then fails with StoreUnavailableError, nothing else; the log afterwards holds what
was acknowledged and nothing twice, and a retry of the same append is recognised. The tests
run on a PostgreSQL server of their own, which they shut down and start again.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from events.errors import StoreUnavailableError
from events.postgres_appends import begin_append_sql
from events.postgres_store import PostgresStore
from tests import pg
from tests.events.conftest import ManualClock, create_project, read_everything, tagged
from tests.events.test_postgres_store import Tail

pytestmark = pytest.mark.postgres

TIMEOUT = 10


@pytest.fixture(scope="module")
def own_server() -> Iterator[pg.PostgresServer]:
    """A server only these tests use: they stop it and change its settings."""
    running = pg.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def dsn(own_server: pg.PostgresServer, tmp_path: Path) -> str:
    schema = pg.schema_name(str(tmp_path))
    conn = await asyncpg.connect(own_server.dsn())
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    return own_server.dsn(search_path=schema)


@pytest.fixture
async def store(dsn: str) -> AsyncIterator[PostgresStore]:
    opened = await PostgresStore.open(dsn, ManualClock())
    try:
        yield opened
    finally:
        await opened.close()


async def test_every_call_fails_unavailable_while_the_server_is_down_and_the_log_survives(
    own_server: pg.PostgresServer, store: PostgresStore
) -> None:
    await create_project(store)
    await store.append("item-p-a", [tagged("a1")], 0)
    await store.save_checkpoint("workspace", 2, b"state")
    tail = Tail(store)
    await tail.until(2)

    await asyncio.to_thread(own_server.halt)
    try:
        unavailable = pytest.raises(StoreUnavailableError, match=r"unavailable \(PostgreSQL: ")
        with unavailable:
            await store.append("item-p-a", [tagged("a2")], 1)
        with unavailable:
            await store.read_all()
        with unavailable:
            await store.read_stream("item-p-a")
        with unavailable:
            await store.stream_version("item-p-a")
        with unavailable:
            await store.last_seq()
        with unavailable:
            await store.seq_at(1e12)
        with unavailable:
            await store.load_checkpoint("workspace")
        with unavailable:
            await store.save_checkpoint("workspace", 2, b"newer")
        with unavailable:
            async with store.stream_lock("queue-p"):
                pass
    finally:
        await asyncio.to_thread(own_server.resume)

    # The same append again, once the server is back: written once, on a fresh connection.
    [a2] = await store.append("item-p-a", [tagged("a2")], 1)
    assert (a2.seq, a2.version) == (3, 2)
    assert [r.event_id for r in await read_everything(store)] == ["p-created", "a1", "a2"]
    assert await store.load_checkpoint("workspace") == (2, b"state")
    # The subscription rode out the outage: no gap, no duplicate, no error.
    assert [r.seq for r in await tail.until(3)] == [1, 2, 3]
    await tail.stop()


async def test_a_writer_cut_twice_while_waiting_for_the_lock_fails_unavailable_and_writes_nothing(
    dsn: str, store: PostgresStore
) -> None:
    await create_project(store)
    held, watcher = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        await held.execute(begin_append_sql(store.append_key))
        append = asyncio.create_task(store.append("item-p-a", [tagged("a")], 0))
        # The store tries once more on a fresh connection after a cut; a second cut is reported.
        first = await terminate_writer_when(watcher, "wait_event_type = 'Lock'")
        await terminate_writer_when(watcher, f"wait_event_type = 'Lock' AND pid <> {first}")
        with pytest.raises(StoreUnavailableError, match="unavailable"):
            async with asyncio.timeout(TIMEOUT):
                await append
        await held.execute("ROLLBACK")
    finally:
        await held.close()
        await watcher.close()

    [recorded] = await store.append("item-p-a", [tagged("a")], 0)
    assert recorded.seq == 2
    assert [r.event_id for r in await read_everything(store)] == ["p-created", "a"]


async def test_a_commit_cut_off_before_its_answer_is_recognised_when_retried(
    own_server: pg.PostgresServer, dsn: str
) -> None:
    # A COMMIT waits for a synchronous standby that does not exist: it is durable here but
    # not answered. Cutting the writer then is a commit whose acknowledgement was lost.
    admin = await asyncpg.connect(own_server.dsn())
    await admin.execute("ALTER ROLE postgres SET synchronous_commit = on")
    store = await PostgresStore.open(dsn, ManualClock())
    try:
        await create_project(store)
        await admin.execute("ALTER SYSTEM SET synchronous_standby_names = 'nobody_at_all'")
        await admin.execute("SELECT pg_reload_conf()")
        await asyncio.sleep(0.5)  # every backend rereads its configuration
        try:
            append = asyncio.create_task(store.append("item-p-a", [tagged("a")], 0))
            await terminate_writer_when(admin, "wait_event = 'SyncRep'")
            with pytest.raises(StoreUnavailableError, match="same event ids is recognised"):
                async with asyncio.timeout(TIMEOUT):
                    await append
        finally:
            await admin.execute("ALTER SYSTEM RESET synchronous_standby_names")
            await admin.execute("SELECT pg_reload_conf()")

        [retried] = await store.append("item-p-a", [tagged("a")], 0)
        assert retried.seq == 2  # the original envelope: the commit had happened
        assert [r.event_id for r in await read_everything(store)] == ["p-created", "a"]
        [after] = await store.append("item-p-b", [tagged("b")], 0)
        assert after.seq == 3
    finally:
        await store.close()
        await admin.execute("ALTER ROLE postgres RESET synchronous_commit")
        await admin.close()


async def terminate_writer_when(conn: asyncpg.Connection, condition: str) -> int:
    """Waits until the store's writer is in the state `condition` describes, cuts it, and
    returns its pid (a backend being cut may still be listed for a moment: exclude it by pid).

    `conn` must not be inside a transaction: pg_stat_activity would show it the same backends
    all along.
    """
    async with asyncio.timeout(TIMEOUT):
        while True:
            pid: int | None = await conn.fetchval(
                "SELECT pid FROM pg_stat_activity"
                f" WHERE application_name = 'annolog-writer' AND {condition}"
            )
            if pid is not None and await conn.fetchval("SELECT pg_terminate_backend($1)", pid):
                return pid
            await asyncio.sleep(0.02)


async def test_an_outage_is_logged_with_its_cause_once_and_its_end(
    own_server: pg.PostgresServer, store: PostgresStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="events.postgres_follower")
    await create_project(store)
    tail = Tail(store)
    await tail.until(1)

    await asyncio.to_thread(own_server.halt)
    try:
        await asyncio.sleep(3.5)  # the follower tries every second
    finally:
        await asyncio.to_thread(own_server.resume)
    await store.append("item-p-a", [tagged("after")], 0)
    await tail.until(2)
    await tail.stop()
    for _ in range(TIMEOUT * 10):  # the follower's next try comes within a second
        if any(r.getMessage() == "following the log again" for r in caplog.records):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the follower never said it follows the log again")

    failed = [r for r in caplog.records if "following the log failed" in r.getMessage()]
    assert len(failed) >= 2
    assert [bool(r.exc_info) for r in failed] == [True] + [False] * (len(failed) - 1)
