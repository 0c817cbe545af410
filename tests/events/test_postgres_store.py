"""What only PostgreSQL shows: several stores (processes) on one log, a held-open append,
notifications, lost connections and the versioned schema.

Each store opened here stands for one server process: its own writer, listener and pool.
"""

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import cast

import asyncpg
import pytest

from events.appends import prepare
from events.envelope import NewEvent, Recorded
from events.errors import ConcurrencyError
from events.postgres_appends import begin_append_sql, write_batch
from events.postgres_schema import SchemaError
from events.postgres_store import PostgresStore
from events.postgres_tables import MIGRATIONS
from events.queue import SessionOpened
from tests.events.conftest import ManualClock, create_project, read_everything, tagged
from tests.pg import schema_dsn, server

pytestmark = pytest.mark.postgres

TIMEOUT = 10


@pytest.fixture
async def dsn(tmp_path: Path) -> str:
    return await schema_dsn(str(tmp_path))


@asynccontextmanager
async def stores(
    dsn: str, count: int, clock: ManualClock | None = None
) -> AsyncIterator[list[PostgresStore]]:
    async with AsyncExitStack() as stack:
        opened = []
        for _ in range(count):
            store = await PostgresStore.open(dsn, clock or ManualClock())
            stack.push_async_callback(store.close)
            opened.append(store)
        yield opened


class Tail:
    """A subscriber running in the background, recording what it saw."""

    def __init__(self, store: PostgresStore, after: int = 0) -> None:
        self.got: list[Recorded] = []
        self._events = cast(AsyncGenerator[Recorded, None], store.subscribe(after))
        self._task = asyncio.create_task(self._run())
        self._arrived = asyncio.Event()

    async def _run(self) -> None:
        async for recorded in self._events:
            self.got.append(recorded)
            self._arrived.set()

    async def until(self, seq: int) -> list[Recorded]:
        async with asyncio.timeout(TIMEOUT):
            while not self.got or self.got[-1].seq < seq:
                self._arrived.clear()
                await self._arrived.wait()
        return self.got

    async def stop(self) -> None:
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task
        await self._events.aclose()


async def test_a_tailing_reader_waits_for_an_append_held_open(dsn: str) -> None:
    """Seqs drawn by one transaction are not passed over while it is still open."""
    async with stores(dsn, 2) as (writer, reader):
        await create_project(writer)
        await writer.append("item-p-a", [tagged("a1")], 0)
        tail = Tail(reader)
        await tail.until(2)

        # Another process's append, stopped between drawing its seq and committing.
        held = await asyncpg.connect(dsn)
        try:
            await held.execute(begin_append_sql(writer.append_key))
            plan = await write_batch(
                held, [prepare("item-p-held", [tagged("held")], 0)], 5.0, writer.channel
            )
            [drawn] = [row.recorded for row in plan.rows]
            assert drawn.seq == 3

            later = [
                asyncio.create_task(writer.append(f"item-p-l{i}", [tagged(f"l{i}")], 0))
                for i in range(5)
            ]
            await asyncio.sleep(0.5)
            # The later appends wait for the held one: nothing after seq 2 is visible anywhere.
            assert not any(task.done() for task in later)
            assert [r.seq for r in tail.got] == [1, 2]
            assert [r.seq for r in await reader.read_all(0)] == [1, 2]
            assert await reader.last_seq() == 2

            await held.execute("COMMIT")
        finally:
            await held.close()

        acked = await asyncio.gather(*later)
        got = await tail.until(8)
        await tail.stop()
    assert [r.seq for r in got] == list(range(1, 9))
    assert got[2].event_id == "held"
    assert sorted(r.seq for [r] in acked) == list(range(4, 9))


async def test_a_held_append_that_rolls_back_leaves_no_gap(dsn: str) -> None:
    async with stores(dsn, 1) as (store,):
        await create_project(store)
        held = await asyncpg.connect(dsn)
        try:
            await held.execute(begin_append_sql(store.append_key))
            await write_batch(held, [prepare("item-p-x", [tagged("x")], 0)], 5.0, store.channel)
            later = asyncio.create_task(store.append("item-p-a", [tagged("a")], 0))
            await asyncio.sleep(0.2)
            assert not later.done()
            await held.execute("ROLLBACK")
        finally:
            await held.close()
        [recorded] = await later
        assert recorded.seq == 2
        assert [r.seq for r in await read_everything(store)] == [1, 2]


async def test_events_appended_by_one_process_reach_the_subscribers_of_another(dsn: str) -> None:
    async with stores(dsn, 3) as (first, second, third):
        tails = [Tail(store) for store in (first, second, third)]
        await create_project(first)
        for index in range(30):
            writer = (first, second, third)[index % 3]
            await writer.append(f"item-p-{index}", [tagged(f"e{index}")], 0)
        everything = await read_everything(third)
        for tail in tails:
            assert await tail.until(31) == everything
            await tail.stop()


async def test_read_all_on_one_process_sees_what_another_just_acknowledged(dsn: str) -> None:
    async with stores(dsn, 2) as (first, second):
        await create_project(first)
        tail = Tail(second)  # second's live tail lags by a notification; its reads must not
        for index in range(20):
            [recorded] = await first.append(f"item-p-{index}", [tagged(f"e{index}")], 0)
            assert await second.last_seq() == recorded.seq
            assert (await second.read_all(recorded.seq - 1)) == [recorded]
            assert await second.stream_version(recorded.stream) == 1
        await tail.until(21)
        await tail.stop()


async def test_concurrent_writers_in_many_processes_keep_one_dense_order(dsn: str) -> None:
    async with stores(dsn, 3) as trio:
        await create_project(trio[0])
        tails = [Tail(store) for store in trio]

        async def writer(store: PostgresStore, name: str) -> list[Recorded]:
            acked: list[Recorded] = []
            for index in range(40):
                stream = f"item-p-{index % 4}"
                # Another process may win the race for that version: a conflict, not a loss.
                with contextlib.suppress(ConcurrencyError):
                    acked += await store.append(
                        stream, [tagged(f"{name}-{index}")], await store.stream_version(stream)
                    )
                acked += await store.append(
                    f"item-p-{name}-{index}", [tagged(f"o{name}{index}")], 0
                )
            return acked

        results = await asyncio.gather(*(writer(s, f"w{i}") for i, s in enumerate(trio)))
        everything = await read_everything(trio[0])
        assert [r.seq for r in everything] == list(range(1, len(everything) + 1))
        assert {r.event_id for r in everything} == {"p-created"} | {
            r.event_id for acked in results for r in acked
        }
        for stream in {r.stream for r in everything}:
            versions = [r.version for r in everything if r.stream == stream]
            assert versions == list(range(1, len(versions) + 1)), stream
        for tail in tails:
            assert await tail.until(len(everything)) == everything
            await tail.stop()


async def test_stamps_never_go_backwards_across_processes(dsn: str) -> None:
    ahead, behind = ManualClock(now=2000.0), ManualClock(now=1000.0)
    async with stores(dsn, 1, ahead) as (first,), stores(dsn, 1, behind) as (second,):
        await create_project(first)
        [late] = await second.append("item-p-a", [tagged("a")], 0)
        assert late.at == 2000.0
        assert await second.seq_at(1500.0) == 0


async def test_a_retry_through_another_process_returns_the_original(dsn: str) -> None:
    async with stores(dsn, 2) as (first, second):
        await create_project(first)
        original = await first.append("item-p-a", [tagged("a"), tagged("b")], 0)
        assert await second.append("item-p-a", [tagged("a"), tagged("b")], 0) == original
        assert await second.last_seq() == 3


async def test_subscribers_survive_a_lost_listener(dsn: str) -> None:
    async with stores(dsn, 2) as (writer, reader):
        await create_project(writer)
        tail = Tail(reader)
        await tail.until(1)
        await terminate(dsn, "annolog-listener")
        for index in range(5):
            await writer.append(f"item-p-{index}", [tagged(f"e{index}")], 0)
        assert [r.seq for r in await tail.until(6)] == list(range(1, 7))
        await tail.stop()


async def test_an_append_after_the_writer_connection_was_cut_is_written(dsn: str) -> None:
    async with stores(dsn, 1) as (store,):
        await create_project(store)
        await terminate(dsn, "annolog-writer")
        [recorded] = await store.append("item-p-a", [tagged("a")], 0)
        assert recorded.seq == 2
        assert [r.event_id for r in await read_everything(store)] == ["p-created", "a"]


async def terminate(dsn: str, application: str) -> None:
    """Cuts every connection of that application name, as a server restart or a network would."""
    conn = await asyncpg.connect(dsn)
    try:
        cut = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1",
            application,
        )
        assert cut >= 1
    finally:
        await conn.close()


async def test_migrations_are_recorded_and_applied_once(dsn: str) -> None:
    async with stores(dsn, 2):
        pass
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT component, version FROM schema_migrations")
        assert [tuple(row) for row in rows] == [("events", version) for version, _ in MIGRATIONS]
        await conn.execute(
            "INSERT INTO schema_migrations (component, version) VALUES ('events', 99)"
        )
    finally:
        await conn.close()
    with pytest.raises(SchemaError, match="version 99, newer than this build"):
        await PostgresStore.open(dsn)


async def test_processes_starting_together_migrate_once(dsn: str) -> None:
    opened = await asyncio.gather(*(PostgresStore.open(dsn) for _ in range(4)))
    try:
        await create_project(opened[0])
        assert [await store.last_seq() for store in opened] == [1, 1, 1, 1]
    finally:
        for store in opened:
            await store.close()


async def test_a_missing_schema_is_named() -> None:
    with pytest.raises(SchemaError, match="CREATE SCHEMA"):
        await PostgresStore.open(server().dsn(search_path="no_such_schema"))


async def test_a_stream_lock_makes_processes_take_turns_on_that_stream_only(dsn: str) -> None:
    async with stores(dsn, 2) as (first, second):
        await create_project(first)
        entered = asyncio.Event()
        release = asyncio.Event()

        async def hold() -> None:
            async with first.stream_lock("queue-p") as seq:
                assert seq == 1
                entered.set()
                await release.wait()
                await first.append("queue-p", [new_session("s1")], 0)

        holder = asyncio.create_task(hold())
        await entered.wait()
        waiter = asyncio.create_task(take_lock(second, "queue-p"))
        async with asyncio.timeout(TIMEOUT):
            assert await take_lock(second, "item-p-a") == 1  # another stream: no wait
        await asyncio.sleep(0.2)
        assert not waiter.done()
        release.set()
        await holder
        # The next holder learns how far the log went under the previous one.
        async with asyncio.timeout(TIMEOUT):
            assert await waiter == 2


async def take_lock(store: PostgresStore, stream: str) -> int:
    async with store.stream_lock(stream) as seq:
        return seq


def new_session(session_id: str) -> NewEvent:
    event = SessionOpened(session_id=session_id, user="ann", lease_until=1.0)
    return NewEvent(event_id=f"open-{session_id}", event=event)


async def test_the_tail_follows_while_stream_lock_holders_take_every_pooled_connection(
    dsn: str,
) -> None:
    # A server's requests hold a pooled connection while they hold (or wait for) a stream
    # lock, and wait for the tail to fold what came before: the follower must not need one.
    async with AsyncExitStack() as stack:
        crowded = await PostgresStore.open(dsn, ManualClock(), pool_size=2)
        stack.push_async_callback(crowded.close)
        other = await PostgresStore.open(dsn, ManualClock())
        stack.push_async_callback(other.close)
        await create_project(other)
        tail = Tail(crowded)
        await tail.until(1)
        await stack.enter_async_context(crowded.stream_lock("item-p-a"))
        await stack.enter_async_context(crowded.stream_lock("item-p-b"))

        await other.append("item-p-c", [tagged("from-elsewhere")], 0)

        seen = await tail.until(2)
        assert [r.event_id for r in seen][-1] == "from-elsewhere"
        await tail.stop()
