"""The scale-out store: the log in PostgreSQL (asyncpg), shared by many server processes.

Appends. One transaction per group commit, serialized across every process by a transaction
advisory lock taken before the log's last seq is read: a batch draws its seqs only after the
previous batch committed, so commit order equals seq order and a reader tailing by seq can
never pass over an event that commits later. Under the lock the batch is planned by
`plan_batch` against the committed versions and event ids (read in bulk, not cached: other
processes append) — idempotency, conflicts and stream rules exactly as on SQLite — inserted in
one statement and announced with NOTIFY, whose payload is the new last seq.

Reads. `read_all` and the other reads go to the database, so they are never staler than what a
caller was told by any process. Subscribers follow a live tail that only grows by events read
back from the database after its end, when a notification, this process's own commit or a
periodic poll says there is more: the tail is always a gap-free prefix of the log.

Connections per process: one writer, one listener, and a small pool for reads.
"""

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence

import asyncpg

from events.appends import BatchPlan, Prepared, plan_batch
from events.batching import BatchingStore
from events.codec import decode_recorded
from events.envelope import Recorded
from events.postgres_schema import (
    LOCK_SPACE,
    STREAM_LOCK_SPACE,
    Migration,
    current_schema,
    lock_key,
    migrate,
)
from events.streams import project_stream

log = logging.getLogger(__name__)

COMPONENT = "events"
MIGRATIONS: list[Migration] = [
    (
        1,
        """
        CREATE TABLE events (
            seq BIGINT PRIMARY KEY,
            stream TEXT NOT NULL,
            version INTEGER NOT NULL,
            event_id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            actor TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            body BYTEA NOT NULL,
            UNIQUE (stream, version)
        );
        CREATE TABLE read_models (
            name TEXT PRIMARY KEY,
            seq BIGINT NOT NULL,
            state BYTEA NOT NULL
        );
        """,
    ),
]
FETCH = 10_000
POOL_SIZE = 8
# How often the follower reads the log even without a notification, and checks its listener.
POLL_SECONDS = 1.0
PING_TIMEOUT = 5.0
# A writer that stalls inside its transaction must not hold the append lock for ever.
WRITER_SETTINGS = {
    "application_name": "annolog-writer",
    "idle_in_transaction_session_timeout": "60s",
}

LAST = "SELECT seq, at FROM events ORDER BY seq DESC LIMIT 1"
# Everything a batch is planned against, in one round trip while the lock is held: the log's
# last seq and stamp, the versions of the streams named (in the order given), and the stored
# envelopes of the event ids that are already in the log.
STATE = """
SELECT
    (SELECT seq FROM events ORDER BY seq DESC LIMIT 1),
    (SELECT at FROM events ORDER BY seq DESC LIMIT 1),
    ARRAY(
        SELECT coalesce((SELECT max(version) FROM events e WHERE e.stream = u.stream), 0)
        FROM unnest($1::text[]) WITH ORDINALITY AS u(stream, position) ORDER BY position
    ),
    ARRAY(SELECT body FROM events WHERE event_id = ANY($2::text[]))
"""
INSERT = """
WITH written AS (
    INSERT INTO events (seq, stream, version, event_id, type, actor, at, body)
    SELECT * FROM unnest(
        $1::bigint[], $2::text[], $3::integer[], $4::text[],
        $5::text[], $6::text[], $7::double precision[], $8::bytea[]
    )
)
SELECT pg_notify($9, $10)
"""
READ_AFTER = "SELECT body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"
# What a dropped connection raises (a server that restarted, a cut socket); asyncpg may also
# find a connection cut while idle in a state it reports as an internal error.
CONNECTION_LOST = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)


def channel_for(schema: str) -> str:
    """The NOTIFY channel of the log in this schema (a short name, whatever the schema's)."""
    return "annolog_" + hashlib.sha1(schema.encode()).hexdigest()[:16]


def begin_append_sql(key: int) -> str:
    """BEGIN, then wait for the append lock: two statements, so the reads that follow take
    their snapshot after the lock is granted and see the batch committed just before."""
    return f"BEGIN; SELECT pg_advisory_xact_lock({LOCK_SPACE}, {key})"


async def write_batch(
    conn: asyncpg.Connection, batch: Sequence[Prepared], now: float, channel: str
) -> BatchPlan:
    """Plans and inserts one group commit; the caller holds the append lock (see above)."""
    streams = list({p.stream for p in batch} | {project_stream(p.name.project) for p in batch})
    ids = [new.event_id for prepared in batch for new in prepared.events]
    last_seq, last_at, stream_versions, bodies = await conn.fetchrow(STATE, streams, ids)
    if last_seq is None:
        last_seq, last_at = 0, 0.0
    versions = dict(zip(streams, stream_versions, strict=True))
    found: dict[str, Recorded] = {}
    for body in bodies:
        recorded = decode_recorded(body)
        found[recorded.event_id] = recorded
    plan = plan_batch(
        batch,
        last_seq=last_seq,
        # Stamps never go backwards, whichever process (and clock) wrote the last batch.
        now=max(now, last_at),
        version_of=versions.__getitem__,
        existing=lambda _: found,
    )
    if plan.rows:
        rows = [row.recorded for row in plan.rows]
        await conn.execute(
            INSERT,
            [r.seq for r in rows],
            [r.stream for r in rows],
            [r.version for r in rows],
            [r.event_id for r in rows],
            [row.tag for row in plan.rows],
            [r.actor for r in rows],
            [r.at for r in rows],
            [row.body for row in plan.rows],
            channel,
            str(plan.last_seq),
        )
    return plan


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
        self._listener: asyncpg.Connection | None = None
        self._poked = asyncio.Event()
        self._follower: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls, dsn: str, clock: Callable[[], float] = time.time, *, pool_size: int = POOL_SIZE
    ) -> "PostgresStore":
        """The store at this URL (`?search_path=...` picks a schema), its schema migrated."""
        writer = await asyncpg.connect(dsn, server_settings=WRITER_SETTINGS)
        pool: asyncpg.Pool | None = None
        try:
            await migrate(writer, COMPONENT, MIGRATIONS)
            channel = channel_for(await current_schema(writer))
            key = await lock_key(writer, "append")
            pool = await asyncpg.create_pool(
                dsn,
                min_size=1,
                max_size=pool_size,
                server_settings={"application_name": "annolog-reader"},
            )
            store = cls(dsn, writer, pool, channel, key, clock)
            await store._listen()
            last = await writer.fetchrow(LAST)
        except BaseException:
            await writer.close()
            if pool is not None:
                await pool.close()
            raise
        store._start(*((last["seq"], last["at"]) if last else (0, 0.0)))
        store._follower = asyncio.create_task(store._follow(), name="PostgresStore.follow")
        return store

    # Appends

    async def _begin_batch(self) -> None:
        # The lock is taken before the batch is: appends that arrive while another process
        # holds it join this batch, so group commit holds up under contention.
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
                # Before COMMIT was sent nothing can have been written: one more try on a fresh
                # connection. A COMMIT that lost its answer may have happened: the callers hear
                # the error and retry with the same event ids, which the log recognises.
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
            self._poked.set()

    # The live tail

    def _accept(self, events: list[Recorded]) -> None:
        """Adds events read or written in seq order to the tail, skipping those it has."""
        fresh = [r for r in events if r.seq > self._last_seq]
        if not fresh:
            return
        if fresh[0].seq != self._last_seq + 1:
            self._poked.set()
            return
        self._last_seq = fresh[-1].seq
        self._last_at = fresh[-1].at
        self._publish(fresh)

    async def _listen(self) -> None:
        self._listener = await asyncpg.connect(
            self._dsn, server_settings={"application_name": "annolog-listener"}
        )
        await self._listener.add_listener(self.channel, self._notified)

    def _notified(self, conn: object, pid: int, channel: str, payload: str) -> None:
        try:
            seq = int(payload)
        except ValueError:
            seq = self._last_seq + 1
        if seq > self._last_seq:
            self._poked.set()

    async def _follow(self) -> None:
        while not self._closed:
            try:
                async with asyncio.timeout(POLL_SECONDS):
                    await self._poked.wait()
            except TimeoutError:
                pass
            self._poked.clear()
            try:
                await self._check_listener()
                await self._catch_up()
            except (*CONNECTION_LOST, asyncpg.PostgresError, TimeoutError):
                log.warning("following the log failed; trying again", exc_info=True)
                await asyncio.sleep(POLL_SECONDS)
            except Exception:
                # The subscribers depend on this task: it logs what went wrong and goes on.
                log.exception("following the log failed; trying again")
                await asyncio.sleep(POLL_SECONDS)

    async def _check_listener(self) -> None:
        listener = self._listener
        if listener is not None and not listener.is_closed():
            try:
                async with asyncio.timeout(PING_TIMEOUT):
                    await listener.execute("SELECT 1")
                return
            except (*CONNECTION_LOST, asyncpg.PostgresError, TimeoutError):
                listener.terminate()
        # Notifications sent while no one listened are lost; the catch-up that follows reads
        # the log itself, so nothing is.
        await self._listen()

    async def _catch_up(self) -> None:
        while not self._closed:
            events = await self._read_after(self._last_seq, FETCH)
            self._accept(events)
            if len(events) < FETCH:
                return

    @contextlib.asynccontextmanager
    async def stream_lock(self, stream: str) -> AsyncIterator[int]:
        """Holds `stream`'s decision lock across every process; yields the log's last seq.

        A writer that decides on its read model and appends at the version it saw takes this
        around decide + append, so processes take turns on a hot stream (a project's queue)
        instead of racing and retrying; it folds up to the yielded seq before deciding.
        """
        async with self._pool.acquire() as conn:
            key = f"{self.channel}:{stream}"
            await conn.execute("SELECT pg_advisory_lock($1, hashtext($2))", STREAM_LOCK_SPACE, key)
            try:
                yield await conn.fetchval("SELECT coalesce(max(seq), 0) FROM events")
            finally:
                await conn.execute(
                    "SELECT pg_advisory_unlock($1, hashtext($2))", STREAM_LOCK_SPACE, key
                )

    # Reads

    async def _read_after(self, after: int, limit: int) -> list[Recorded]:
        rows = await self._pool.fetch(READ_AFTER, after, limit)
        return [decode_recorded(body) for (body,) in rows]

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[Recorded]:
        # Never from the tail: it may lag behind what another process already acknowledged.
        return await self._read_after(after, limit)

    async def read_bodies(self, after: int, limit: int = FETCH) -> list[bytes]:
        """Stored envelopes as bytes, for replays that decode in bulk."""
        rows = await self._pool.fetch(READ_AFTER, after, limit)
        return [body for (body,) in rows]

    async def last_seq(self) -> int:
        seq: int = await self._pool.fetchval("SELECT coalesce(max(seq), 0) FROM events")
        if seq > self._last_seq:
            self._poked.set()
        return seq

    async def read_stream(
        self, stream: str, after_version: int = 0, limit: int | None = None
    ) -> list[Recorded]:
        rows = await self._pool.fetch(
            "SELECT body FROM events WHERE stream = $1 AND version > $2 ORDER BY version LIMIT $3",
            stream,
            after_version,
            limit,
        )
        return [decode_recorded(body) for (body,) in rows]

    async def stream_version(self, stream: str) -> int:
        version: int = await self._pool.fetchval(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream = $1", stream
        )
        return version

    async def seq_at(self, at: float) -> int:
        # Stamps never go backwards in seq order and seqs are dense: a binary search on the key.
        low, high = 0, await self.last_seq()
        async with self._pool.acquire() as conn:
            while low < high:
                middle = (low + high + 1) // 2
                first = await conn.fetchval(
                    "SELECT at FROM events WHERE seq >= $1 ORDER BY seq LIMIT 1", middle
                )
                if first is not None and first <= at:
                    low = middle
                else:
                    high = middle - 1
        return low

    # Checkpoints

    async def save_checkpoint(self, name: str, seq: int, state: bytes) -> None:
        await self._pool.execute(
            "INSERT INTO read_models (name, seq, state) VALUES ($1, $2, $3)"
            " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, state = excluded.state",
            name,
            seq,
            state,
        )

    async def load_checkpoint(self, name: str) -> tuple[int, bytes] | None:
        row = await self._pool.fetchrow("SELECT seq, state FROM read_models WHERE name = $1", name)
        return None if row is None else (row["seq"], row["state"])

    async def drop_checkpoint(self, name: str) -> None:
        await self._pool.execute("DELETE FROM read_models WHERE name = $1", name)

    async def _close_backend(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        for conn in (self._listener, self._writer_conn):
            if conn is not None:
                with contextlib.suppress(OSError, asyncpg.InterfaceError):
                    await conn.close()
        await self._pool.close()
