"""`annolog migrate sqlite:///path postgresql://...`: moves a log from SQLite to PostgreSQL.

Events are copied as stored — seq, stream, version, event id, stamp and the envelope's bytes —
in chunks, each one transaction under the log's append lock, so an interrupted run keeps what
it committed and the next run resumes after the target's last seq (once it has checked that
the target holds the start of this very log). Users, API tokens (a revocation, new password,
disabling or signing out everywhere made since an earlier run is carried over) and read-model
checkpoints follow. The result is verified: the
same number of events, the same last seq and the same SHA-256 over every event on both sides.

Stop the servers on the SQLite file first (or run again after they stop: it resumes), and do
not start servers on the target before it is done.
"""

import hashlib
import sqlite3
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from events.postgres_connections import channel_for
from events.postgres_schema import LOCK_SPACE, current_schema, lock_key, migrate
from events.postgres_tables import COMPONENT as EVENTS
from events.postgres_tables import MIGRATIONS as EVENT_MIGRATIONS
from server.auth.postgres_users import COMPONENT as USERS
from server.auth.postgres_users import MIGRATIONS as USER_MIGRATIONS

CHUNK = 5_000
COLUMNS = ("seq", "stream", "version", "event_id", "type", "actor", "at", "body")
Progress = Callable[[int, int], None]


class MigrationError(RuntimeError):
    """The copy cannot go on: bad arguments, or a target that holds another log."""


@dataclass(frozen=True)
class Report:
    """What a run copied and what it verified."""

    events: int  # in the log, on both sides
    copied: int  # by this run
    last_seq: int
    checksum: str  # SHA-256 (hex) over every event, the same on both sides
    users: int
    tokens: int
    checkpoints: int


def sqlite_path(url: str) -> Path:
    """The file of `sqlite:///path` (a plain path is taken as is)."""
    path = Path(url.removeprefix("sqlite:///") if url.startswith("sqlite:") else url)
    if not path.is_file():
        raise MigrationError(f"{url}: no SQLite file there")
    return path


class Digest:
    """A running SHA-256 over events, fed in seq order from either side."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0
        self.last_seq = 0

    def add(self, row: tuple[Any, ...]) -> None:
        seq, stream, version, event_id, type_, actor, at, body = row
        head = f"{seq}\0{stream}\0{version}\0{event_id}\0{type_}\0{actor}\0".encode()
        self._hash.update(head + struct.pack("<dQ", at, len(body)) + bytes(body))
        self.count += 1
        self.last_seq = seq

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _source_rows(source: sqlite3.Connection, after: int, until: int) -> Iterator[list[Any]]:
    while after < until:
        rows = source.execute(
            f"SELECT {', '.join(COLUMNS)} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq"
            " LIMIT ?",
            (after, until, CHUNK),
        ).fetchall()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _table_exists(source: sqlite3.Connection, name: str) -> bool:
    row = source.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return row.fetchone() is not None


async def migrate_sqlite_to_postgres(
    source_url: str, target_url: str, progress: Progress | None = None
) -> Report:
    """Copies the log, users and checkpoints; resumes an interrupted run; verifies the copy."""
    if not target_url.startswith(("postgres://", "postgresql://")):
        raise MigrationError(f"{target_url}: the target must be a postgresql:// URL")
    path = sqlite_path(source_url)
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = await asyncpg.connect(target_url)
    try:
        if not _table_exists(source, "events"):
            raise MigrationError(f"{source_url}: no event log in this file")
        await migrate(target, EVENTS, EVENT_MIGRATIONS)
        await migrate(target, USERS, USER_MIGRATIONS)
        # One reading of the source's end: events appended to it later wait for the next run.
        until: int = source.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
        start = await _resume_point(source, target, until)
        copied = await _copy_events(source, target, start, until, progress)
        users, tokens = await _copy_users(source, target)
        checkpoints = await _copy_checkpoints(source, target, until)
        checksum = await _verify(source, target, until)
    finally:
        source.close()
        await target.close()
    return Report(until, copied, until, checksum, users, tokens, checkpoints)


async def _resume_point(source: sqlite3.Connection, target: asyncpg.Connection, until: int) -> int:
    """The target's last seq, once it is shown to hold the start of this source's log."""
    count, last = await target.fetchrow("SELECT count(*), coalesce(max(seq), 0) FROM events")
    if count != last:
        raise MigrationError(f"the target's log has gaps ({count} events up to seq {last})")
    if last > until:
        raise MigrationError(
            f"the target's log is longer than the source's ({last} > {until} events):"
            " it is another log"
        )
    if last:
        theirs = await target.fetchrow("SELECT event_id, body FROM events WHERE seq = $1", last)
        ours = source.execute("SELECT event_id, body FROM events WHERE seq = ?", (last,)).fetchone()
        if ours is None or (ours[0], bytes(ours[1])) != (theirs[0], bytes(theirs[1])):
            raise MigrationError(
                f"the target's event at seq {last} is not the source's: it holds another log"
            )
    return int(last)


async def _copy_events(
    source: sqlite3.Connection,
    target: asyncpg.Connection,
    start: int,
    until: int,
    progress: Progress | None,
) -> int:
    channel = channel_for(await current_schema(target))
    key = await lock_key(target, "append")
    copied = 0
    if progress is not None:
        progress(start, until)
    for rows in _source_rows(source, start, until):
        async with target.transaction():
            # The append lock: no server can interleave its own seqs with these.
            await target.execute("SELECT pg_advisory_xact_lock($1, $2)", LOCK_SPACE, key)
            last = await target.fetchval("SELECT coalesce(max(seq), 0) FROM events")
            if last != rows[0][0] - 1:
                raise MigrationError(
                    f"the target's log moved to seq {last} while copying: is a server using it?"
                )
            await target.copy_records_to_table(
                "events",
                records=[(*row[:7], bytes(row[7])) for row in rows],
                columns=COLUMNS,
                schema_name=await current_schema(target),
            )
            await target.execute("SELECT pg_notify($1, $2)", channel, str(rows[-1][0]))
        copied += len(rows)
        if progress is not None:
            progress(rows[-1][0], until)
    return copied


async def _copy_users(source: sqlite3.Connection, target: asyncpg.Connection) -> tuple[int, int]:
    users = tokens = 0
    if _table_exists(source, "users"):
        columns = {row[1] for row in source.execute("PRAGMA table_info(users)")}
        # A file no server of this version has opened lacks these: nobody disabled, epoch 0.
        disabled = "disabled" if "disabled" in columns else "0"
        epoch = "session_epoch" if "session_epoch" in columns else "0"
        rows = source.execute(
            "SELECT username, display_name, is_admin, created_at, password_hash,"
            f" {disabled}, {epoch} FROM users"
        ).fetchall()
        # A user disabled or signed out everywhere since an earlier run stays so on the target.
        await target.executemany(
            "INSERT INTO users (username, display_name, is_admin, created_at, password_hash,"
            " disabled, session_epoch) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT ((lower(username))) DO UPDATE SET disabled = excluded.disabled,"
            " session_epoch = greatest(users.session_epoch, excluded.session_epoch),"
            " password_hash = excluded.password_hash",
            [(u, d, bool(a), c, h, bool(x), e) for u, d, a, c, h, x, e in rows],
        )
        users = len(rows)
    if _table_exists(source, "api_tokens"):
        rows = source.execute(
            "SELECT token_id, username, label, created_at, revoked_at, secret_sha256"
            " FROM api_tokens"
        ).fetchall()
        await target.executemany(
            "INSERT INTO api_tokens"
            " (token_id, username, label, created_at, revoked_at, secret_sha256)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (token_id) DO UPDATE"
            " SET revoked_at = coalesce(api_tokens.revoked_at, excluded.revoked_at)",
            rows,
        )
        tokens = len(rows)
    return users, tokens


async def _copy_checkpoints(
    source: sqlite3.Connection, target: asyncpg.Connection, until: int
) -> int:
    if not _table_exists(source, "read_models"):
        return 0
    rows = source.execute(
        "SELECT name, seq, state FROM read_models WHERE seq <= ?", (until,)
    ).fetchall()
    # A checkpoint folds the same log up to its seq, so it is as good on the target; a newer
    # one already there (a server ran on the target) is kept.
    await target.executemany(
        "INSERT INTO read_models (name, seq, state) VALUES ($1, $2, $3)"
        " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, state = excluded.state"
        " WHERE read_models.seq < excluded.seq",
        [(name, seq, bytes(state)) for name, seq, state in rows],
    )
    return len(rows)


async def _verify(source: sqlite3.Connection, target: asyncpg.Connection, until: int) -> str:
    ours, theirs = Digest(), Digest()
    for rows in _source_rows(source, 0, until):
        for row in rows:
            ours.add(row)
    after = 0
    while True:
        rows = await target.fetch(
            f"SELECT {', '.join(COLUMNS)} FROM events WHERE seq > $1 AND seq <= $2"
            " ORDER BY seq LIMIT $3",
            after,
            until,
            CHUNK,
        )
        for row in rows:
            theirs.add(tuple(row))
        if len(rows) < CHUNK:
            break
        after = rows[-1]["seq"]
    if (ours.count, ours.last_seq) != (theirs.count, theirs.last_seq):
        raise MigrationError(
            f"verification failed: the source has {ours.count} events up to seq"
            f" {ours.last_seq}, the target {theirs.count} up to seq {theirs.last_seq}"
        )
    if ours.hexdigest() != theirs.hexdigest():
        raise MigrationError("verification failed: the events differ (checksums do not match)")
    missing = await _missing_users(source, target)
    if missing:
        raise MigrationError(f"verification failed: users not in the target: {missing}")
    return ours.hexdigest()


async def _missing_users(source: sqlite3.Connection, target: asyncpg.Connection) -> list[str]:
    if not _table_exists(source, "users"):
        return []
    ours = {name.lower() for (name,) in source.execute("SELECT username FROM users")}
    theirs = {row[0] for row in await target.fetch("SELECT lower(username) FROM users")}
    return sorted(ours - theirs)
