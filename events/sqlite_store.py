"""The embedded store: one SQLite file in WAL mode, fsync'd on every commit (synchronous=FULL).

All writes go through one connection; a whole group commit (checks, inserts, COMMIT) runs as
one call in aiosqlite's thread, because every aiosqlite call is a thread hop of >100 µs.
Reads use a second connection, which WAL lets run beside the writer.

Several processes may append to one file (the web server and the assistant worker do). Each
keeps its stream versions and last seq in memory, so a group commit checks, inside its write
transaction (BEGIN IMMEDIATE holds the file's write lock), whether another connection has
committed since its own last commit (`PRAGMA data_version` changes exactly then); if so it
drops the cached versions and re-reads the last seq and stamp before planning. Events that
another process appended reach this process's subscribers through a watcher that polls the
newest seq every `watch_interval` seconds: a gap in the live tail empties it, and readers fall
back to the database.

What says that the file cannot be used now (its write lock held by another process for longer
than `busy_timeout`, an I/O error, a full disk, a file that cannot be opened) is raised as
StoreUnavailableError; the transaction it interrupted was rolled back.
"""

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from events.appends import BatchPlan, Prepared, plan_batch
from events.batching import BatchingStore
from events.codec import decode_recorded
from events.envelope import Recorded
from events.errors import StoreUnavailableError

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    stream TEXT NOT NULL,
    version INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    actor TEXT NOT NULL,
    at REAL NOT NULL,
    body BLOB NOT NULL,
    UNIQUE (stream, version)
);
CREATE TABLE IF NOT EXISTS read_models (
    name TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    state BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL")
# How long a write waits for another process's write lock on the file before giving up.
BUSY_TIMEOUT = 10.0
FETCH = 10_000
WATCH_INTERVAL = 0.1
# SQLite's primary result codes that mean "not now" rather than "never".
UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
    }
)
R = TypeVar("R")


def _connect_options(conn: sqlite3.Connection, busy_timeout: float) -> None:
    for pragma in PRAGMAS:
        conn.execute(pragma)
    conn.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Raises StoreUnavailableError for an SQLite error that says the file is out of reach."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        # Extended result codes (SQLITE_IOERR_WRITE, ...) keep the primary one in the low byte.
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF in UNAVAILABLE_CODES:
            raise StoreUnavailableError(f"SQLite: {exc}") from exc
        raise


class SQLiteStore(BatchingStore):
    """An EventStore and CheckpointStore in one SQLite file."""

    def __init__(
        self, writer: aiosqlite.Connection, reader: aiosqlite.Connection, clock: Callable[[], float]
    ) -> None:
        super().__init__(clock)
        self._writer_conn = writer
        self._reader = reader
        # Owned by the writer thread: committed stream versions, read once, then kept until
        # another connection commits (see the module docstring).
        self._versions: dict[str, int] = {}
        self._data_version: int | None = None
        # The newest stamp seen in the file, so that stamps never go backwards across processes.
        self._seen_at = 0.0
        self._watcher: asyncio.Task[None] | None = None
        # A look at the file while this process commits may see its own rows before they are
        # acknowledged, and take them for another process's: such a look is void.
        self._committing = False
        self._commits = 0

    @classmethod
    async def open(
        cls,
        path: str | Path,
        clock: Callable[[], float] = time.time,
        *,
        watch_interval: float | None = WATCH_INTERVAL,
        busy_timeout: float = BUSY_TIMEOUT,
    ) -> "SQLiteStore":
        """Opens (creating if need be) the log in `path`.

        `watch_interval`: how often to look for events other processes appended (None: never,
        for a process that is the file's only writer and reader). `busy_timeout`: how many
        seconds a write waits for another process's write lock before it fails with
        StoreUnavailableError.
        """
        writer = await aiosqlite.connect(str(path), isolation_level=None)
        await _run(writer, _connect_options, busy_timeout)
        await writer.executescript(SCHEMA)
        await writer.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        reader = await aiosqlite.connect(str(path), isolation_level=None)
        await _run(reader, _connect_options, busy_timeout)
        store = cls(writer, reader, clock)
        async with reader.execute("SELECT seq, at FROM events ORDER BY seq DESC LIMIT 1") as cur:
            row = await cur.fetchone()
        store._start(*(row if row else (0, 0.0)))
        store._seen_at = row[1] if row else 0.0
        if watch_interval is not None:
            store._watcher = asyncio.create_task(
                store._watch(watch_interval), name="SQLiteStore-watcher"
            )
        return store

    async def _watch(self, interval: float) -> None:
        """Wakes the subscribers when another process has appended to the file."""
        while not self._closed:
            await asyncio.sleep(interval)
            if self._committing:
                continue  # the commit itself notices what other processes appended
            commits = self._commits
            try:
                with translated():
                    rows = await self._reader.execute_fetchall(
                        "SELECT seq, at FROM events ORDER BY seq DESC LIMIT 1"
                    )
            except StoreUnavailableError:
                continue  # the file is busy or failing for now: look again next time
            if self._committing or self._commits != commits:
                continue
            row = next(iter(rows), None)
            if row is not None and row[0] > self._last_seq:
                self._appended_elsewhere(row[0], row[1])

    def _appended_elsewhere(self, last_seq: int, last_at: float) -> None:
        """Events up to `last_seq` were committed by another connection: the tail now has a gap."""
        self._last_seq = last_seq
        self._last_at = max(self._last_at, last_at)
        self._tail.clear()
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _commit(self, batch: Sequence[Prepared], last_seq: int, now: float) -> BatchPlan:
        self._committing = True
        try:
            with translated():
                plan = await _run(self._writer_conn, self._commit_sync, batch, last_seq, now)
        finally:
            # The caller records the new last seq before anything else runs.
            self._committing = False
            self._commits += 1
        first = plan.rows[0].recorded.seq - 1 if plan.rows else plan.last_seq
        if first > self._last_seq:
            # Another process appended since this one last looked: the tail must not span the
            # gap, and a caller that lost a race must see the newer seq to wait for.
            self._appended_elsewhere(first, plan.last_at)
        return plan

    def _commit_sync(
        self, conn: sqlite3.Connection, batch: Sequence[Prepared], last_seq: int, now: float
    ) -> BatchPlan:
        conn.execute("BEGIN IMMEDIATE")
        try:
            data_version = conn.execute("PRAGMA data_version").fetchone()[0]
            if data_version != self._data_version:
                # Another connection committed since this one last did (or this is the first
                # commit): what is cached may be stale, so read it again under the write lock.
                self._versions.clear()
                row = conn.execute("SELECT seq, at FROM events ORDER BY seq DESC LIMIT 1")
                newest = row.fetchone()
                if newest is not None:
                    last_seq = max(last_seq, newest[0])
                    self._seen_at = max(self._seen_at, newest[1])
                self._data_version = data_version
            now = max(now, self._seen_at)
            plan = plan_batch(
                batch,
                last_seq=last_seq,
                now=now,
                version_of=lambda stream: self._version_of(conn, stream),
                existing=lambda ids: _existing(conn, ids),
            )
            if plan.rows:
                conn.executemany(
                    "INSERT INTO events (seq, stream, version, event_id, type, actor, at, body)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            r.recorded.seq,
                            r.recorded.stream,
                            r.recorded.version,
                            r.recorded.event_id,
                            r.tag,
                            r.recorded.actor,
                            r.recorded.at,
                            r.body,
                        )
                        for r in plan.rows
                    ],
                )
            conn.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (on an I/O error or a full disk): a ROLLBACK
            # then would fail and hide the error that matters.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._versions.update(plan.versions)
        if plan.rows:
            self._seen_at = now
        return plan

    def _version_of(self, conn: sqlite3.Connection, stream: str) -> int:
        version = self._versions.get(stream)
        if version is None:
            row = conn.execute("SELECT max(version) FROM events WHERE stream = ?", (stream,))
            version = row.fetchone()[0] or 0
            self._versions[stream] = version
        return version

    async def _read(self, sql: str, parameters: Sequence[object]) -> Iterable[sqlite3.Row]:
        """The rows of one query on the reader connection."""
        with translated():
            return await self._reader.execute_fetchall(sql, parameters)

    async def _read_after(self, after: int, limit: int) -> list[Recorded]:
        return [decode_recorded(body) for body in await self.read_bodies(after, limit)]

    async def read_bodies(self, after: int, limit: int = FETCH) -> list[bytes]:
        """Stored envelopes as bytes, for replays that decode in bulk."""
        rows = await self._read(
            "SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
        )
        return [body for (body,) in rows]

    async def read_stream(
        self, stream: str, after_version: int = 0, limit: int | None = None
    ) -> list[Recorded]:
        rows = await self._read(
            "SELECT body FROM events WHERE stream = ? AND version > ? ORDER BY version LIMIT ?",
            (stream, after_version, -1 if limit is None else limit),
        )
        return [decode_recorded(body) for (body,) in rows]

    async def stream_version(self, stream: str) -> int:
        rows = await self._read("SELECT max(version) FROM events WHERE stream = ?", (stream,))
        return next(iter(rows))[0] or 0

    async def seq_at(self, at: float) -> int:
        # Stamps never go backwards in seq order, so the primary key serves a binary search.
        low, high = 0, self._last_seq
        while low < high:
            middle = (low + high + 1) // 2
            rows = await self._read(
                "SELECT at FROM events WHERE seq >= ? ORDER BY seq LIMIT 1", (middle,)
            )
            first = next(iter(rows), None)
            if first is not None and first[0] <= at:
                low = middle
            else:
                high = middle - 1
        return low

    async def save_checkpoint(self, name: str, seq: int, state: bytes) -> None:
        with translated():
            await self._writer_conn.execute(
                "INSERT INTO read_models (name, seq, state) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, state = excluded.state",
                (name, seq, state),
            )

    async def load_checkpoint(self, name: str) -> tuple[int, bytes] | None:
        rows = await self._read("SELECT seq, state FROM read_models WHERE name = ?", (name,))
        row = next(iter(rows), None)
        return None if row is None else (row[0], row[1])

    async def drop_checkpoint(self, name: str) -> None:
        with translated():
            await self._writer_conn.execute("DELETE FROM read_models WHERE name = ?", (name,))

    async def _close_backend(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self._reader.close()
        await self._writer_conn.close()


def _existing(conn: sqlite3.Connection, event_ids: Iterable[str]) -> dict[str, Recorded]:
    ids = list(event_ids)
    found: dict[str, Recorded] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for (body,) in conn.execute(f"SELECT body FROM events WHERE event_id IN ({marks})", chunk):
            recorded = decode_recorded(body)
            found[recorded.event_id] = recorded
    return found


async def _run(conn: aiosqlite.Connection, fn: Callable[..., R], *args: Any) -> R:
    """Runs `fn(sqlite3_connection, *args)` in the connection's own thread, as one hop."""
    return cast(R, await conn._execute(fn, conn._conn, *args))  # type: ignore[no-untyped-call]
