"""The scale-out store: the log in PostgreSQL (asyncpg), shared by many server processes.

This module puts the parts together: the append path (`postgres_appends`: one transaction per
group commit under the log's append lock, so commit order is seq order across processes), the
reads (`postgres_reads`: always from the database, never staler than what any process
acknowledged), the live tail's follower (`postgres_follower`) and the checkpoints
(`postgres_checkpoints`). `postgres_connections` says how it connects and translates what the
driver raises when the database is out of reach into StoreUnavailableError.

Connections per process: one writer, one listener, and a small pool for reads.
"""

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence

import asyncpg

from events import postgres_checkpoints, postgres_reads
from events.appends import BatchPlan, Prepared
from events.batching import BatchingStore
from events.envelope import Recorded
from events.postgres_appends import LAST, begin_append_sql, write_batch
from events.postgres_connections import (
    CONNECTION_LOST,
    POOL_SIZE,
    READER_SETTINGS,
    WRITER_SETTINGS,
    channel_for,
    translated,
)
from events.postgres_follower import LogFollower
from events.postgres_schema import STREAM_LOCK_SPACE, current_schema, lock_key, migrate
from events.postgres_tables import COMPONENT, MIGRATIONS


class PostgresStore(BatchingStore):
    """An EventStore and CheckpointStore in a PostgreSQL schema, safe for many processes."""

    def __init__(
        self,
        dsn: str,
        writer: asyncpg.Connection,
        pool: asyncpg.Pool,
        channel: str,
        append_key: int,
        clock: Callable[[], float],
    ) -> None:
        super().__init__(clock)
        self._dsn = dsn
        self._writer_conn: asyncpg.Connection | None = writer
        self._pool = pool
        self.channel = channel
        self.append_key = append_key
        self._follower = LogFollower(
            dsn, channel, postgres_reads.read_after, self._tail_end, self._accept
        )

    @classmethod
    async def open(
        cls, dsn: str, clock: Callable[[], float] = time.time, *, pool_size: int = POOL_SIZE
    ) -> "PostgresStore":
        """The store at this URL (`?search_path=...` picks a schema), its schema migrated."""
        writer = await asyncpg.connect(dsn, server_settings=WRITER_SETTINGS)
        pool: asyncpg.Pool | None = None
        store: PostgresStore | None = None
        try:
            await migrate(writer, COMPONENT, MIGRATIONS)
            channel = channel_for(await current_schema(writer))
            key = await lock_key(writer, "append")
            pool = await asyncpg.create_pool(
                dsn, min_size=1, max_size=pool_size, server_settings=READER_SETTINGS
            )
            store = cls(dsn, writer, pool, channel, key, clock)
            await store._follower.listen()
            last = await writer.fetchrow(LAST)
        except BaseException:
            await writer.close()
            if store is not None:
                await store._follower.stop()
            if pool is not None:
                await pool.close()
            raise
        store._start(*((last["seq"], last["at"]) if last else (0, 0.0)))
        store._follower.start()
        return store

    # Appends

    async def _begin_batch(self) -> None:
        # The lock is taken before the batch is: appends that arrive while another process
        # holds it join this batch, so group commit holds up under contention.
        with translated():
            for attempt in range(2):
                conn = self._writer_conn
                if conn is None or conn.is_closed():
                    conn = self._writer_conn = await asyncpg.connect(
                        self._dsn, server_settings=WRITER_SETTINGS
                    )
                try:
                    await conn.execute(begin_append_sql(self.append_key))
                    return
                except CONNECTION_LOST:
                    conn.terminate()  # a server restart or a cut connection: once more, afresh
                    if attempt == 1:
                        raise
                except BaseException:
                    await self._abandon(conn)
                    raise

    async def _commit(self, batch: Sequence[Prepared], last_seq: int, now: float) -> BatchPlan:
        # `last_seq` is only what this process committed last; the log's is read under the lock.
        with translated():
            for attempt in range(2):
                if attempt:
                    await self._begin_batch()
                conn = self._writer_conn
                assert conn is not None
                committing = False
                try:
                    plan = await write_batch(conn, batch, now, self.channel)
                    committing = True
                    await conn.execute("COMMIT")
                    return plan
                except CONNECTION_LOST:
                    conn.terminate()
                    # Before COMMIT was sent nothing can have been written: one more try on a
                    # fresh connection. A COMMIT that lost its answer may have happened: the
                    # callers hear the error and retry with the same event ids, which the log
                    # recognises.
                    if committing or attempt == 1:
                        raise
                except BaseException:
                    await self._abandon(conn)
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    async def _abandon(conn: asyncpg.Connection) -> None:
        """Rolls back whatever the writer had begun, or drops the connection if it cannot."""
        try:
            if not conn.is_closed() and conn.is_in_transaction():
                await conn.execute("ROLLBACK")
        except Exception:
            conn.terminate()  # the next batch connects afresh

    def _committed(self, plan: BatchPlan) -> None:
        events = [row.recorded for row in plan.rows]
        if events[0].seq == self._last_seq + 1:
            self._accept(events)
        else:
            # Other processes appended in between: the follower reads theirs, then ours.
            self._follower.poke()

    # The live tail

    def _tail_end(self) -> int:
        return self._last_seq

    def _accept(self, events: list[Recorded]) -> None:
        """Adds events read or written in seq order to the tail, skipping those it has."""
        fresh = [r for r in events if r.seq > self._last_seq]
        if not fresh:
            return
        if fresh[0].seq != self._last_seq + 1:
            self._follower.poke()
            return
        self._last_seq = fresh[-1].seq
        self._last_at = fresh[-1].at
        self._publish(fresh)

    @contextlib.asynccontextmanager
    async def stream_lock(self, stream: str) -> AsyncIterator[int]:
        """Holds `stream`'s decision lock across every process; yields the log's last seq.

        A writer that decides on its read model and appends at the version it saw takes this
        around decide + append, so processes take turns on a hot stream (a project's queue)
        instead of racing and retrying; it folds up to the yielded seq before deciding.
        """
        key = f"{self.channel}:{stream}"
        with translated():
            conn = await self._pool.acquire()
        try:
            with translated():
                await conn.execute(
                    "SELECT pg_advisory_lock($1, hashtext($2))", STREAM_LOCK_SPACE, key
                )
                last_seq: int = await conn.fetchval(postgres_reads.LAST_SEQ)
            try:
                yield last_seq
            finally:
                try:
                    await conn.execute(
                        "SELECT pg_advisory_unlock($1, hashtext($2))", STREAM_LOCK_SPACE, key
                    )
                except CONNECTION_LOST:
                    # The lock ended with the session; what was done under it stands.
                    conn.terminate()
        finally:
            await self._pool.release(conn)

    # Reads

    async def _read_after(self, after: int, limit: int) -> list[Recorded]:
        return await postgres_reads.read_after(self._pool, after, limit)

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[Recorded]:
        # Never from the tail: it may lag behind what another process already acknowledged.
        return await self._read_after(after, limit)

    async def read_bodies(self, after: int, limit: int = postgres_reads.FETCH) -> list[bytes]:
        """Stored envelopes as bytes, for replays that decode in bulk."""
        return await postgres_reads.read_bodies(self._pool, after, limit)

    async def last_seq(self) -> int:
        seq = await postgres_reads.last_seq(self._pool)
        if seq > self._last_seq:
            self._follower.poke()
        return seq

    async def read_stream(
        self, stream: str, after_version: int = 0, limit: int | None = None
    ) -> list[Recorded]:
        return await postgres_reads.read_stream(self._pool, stream, after_version, limit)

    async def stream_version(self, stream: str) -> int:
        return await postgres_reads.stream_version(self._pool, stream)

    async def seq_at(self, at: float) -> int:
        return await postgres_reads.seq_at(self._pool, at, await self.last_seq())

    # Checkpoints

    async def save_checkpoint(self, name: str, seq: int, state: bytes) -> None:
        await postgres_checkpoints.save_checkpoint(self._pool, name, seq, state)

    async def load_checkpoint(self, name: str) -> tuple[int, bytes] | None:
        return await postgres_checkpoints.load_checkpoint(self._pool, name)

    async def drop_checkpoint(self, name: str) -> None:
        await postgres_checkpoints.drop_checkpoint(self._pool, name)

    async def _close_backend(self) -> None:
        await self._follower.stop()
        if self._writer_conn is not None:
            with contextlib.suppress(OSError, asyncpg.InterfaceError):
                await self._writer_conn.close()
        await self._pool.close()
