"""The append path of the PostgreSQL store: the append lock, and one group commit's SQL.

A batch draws its seqs only while it holds the log's transaction advisory lock, taken before
the log's last seq is read: commit order is then seq order, across every process. Under the
lock the batch is planned by `plan_batch` against the committed versions and event ids (read in
bulk, not cached: other processes append), inserted in one statement and announced with
NOTIFY, whose payload is the new last seq.
"""

from collections.abc import Sequence

import asyncpg

from events.appends import BatchPlan, Prepared, plan_batch
from events.codec import decode_recorded
from events.envelope import Recorded
from events.postgres_schema import LOCK_SPACE
from events.streams import project_stream

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
