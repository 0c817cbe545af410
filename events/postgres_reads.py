"""The reads of the PostgreSQL store: every one goes to the database, through the read pool.

The database, not this process's live tail, answers them, so that a read is never staler
than what any process has acknowledged. A database out of reach raises StoreUnavailableError.
"""

import asyncpg

from events.codec import decode_recorded
from events.envelope import Recorded
from events.postgres_connections import translated

FETCH = 10_000
READ_AFTER = "SELECT body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"
LAST_SEQ = "SELECT coalesce(max(seq), 0) FROM events"


async def read_after(
    on: asyncpg.Pool | asyncpg.Connection, after: int, limit: int
) -> list[Recorded]:
    """Committed events with seq > after, in order (through a pool or one connection)."""
    return [decode_recorded(body) for body in await read_bodies(on, after, limit)]


async def read_bodies(on: asyncpg.Pool | asyncpg.Connection, after: int, limit: int) -> list[bytes]:
    """Stored envelopes with seq > after as bytes, for replays that decode in bulk."""
    with translated():
        rows = await on.fetch(READ_AFTER, after, limit)
    return [body for (body,) in rows]


async def last_seq(pool: asyncpg.Pool) -> int:
    """The seq of the newest committed event (0 for an empty log)."""
    with translated():
        seq: int = await pool.fetchval(LAST_SEQ)
    return seq


async def read_stream(
    pool: asyncpg.Pool, stream: str, after_version: int, limit: int | None
) -> list[Recorded]:
    """Events of one stream whose version is greater than `after_version`, in order."""
    with translated():
        rows = await pool.fetch(
            "SELECT body FROM events WHERE stream = $1 AND version > $2 ORDER BY version LIMIT $3",
            stream,
            after_version,
            limit,
        )
    return [decode_recorded(body) for (body,) in rows]


async def stream_version(pool: asyncpg.Pool, stream: str) -> int:
    """The version of a stream (0 when it has no events)."""
    with translated():
        version: int = await pool.fetchval(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream = $1", stream
        )
    return version


async def seq_at(pool: asyncpg.Pool, at: float, newest: int) -> int:
    """The seq of the newest event stamped at or before `at`, searching seqs up to `newest`."""
    # Stamps never go backwards in seq order and seqs are dense: a binary search on the key.
    low, high = 0, newest
    with translated():
        async with pool.acquire() as conn:
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
