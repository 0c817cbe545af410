"""Versioned schema migrations on PostgreSQL, and the advisory-lock keys annolog uses.

Each component (the log, the users) has numbered steps. `migrate` applies those a database
lacks, in order, each in its own transaction recorded in `schema_migrations`, under a session
advisory lock so that processes starting together do not race. A database whose schema is
newer than this build is refused rather than used.

Advisory locks are per database; the keys here also depend on the schema (`current_schema()`),
so that two annologs in two schemas of one database do not share locks or channels.
"""

from collections.abc import Sequence

import asyncpg

# The first of the two int4 keys of every annolog advisory lock: b"anno" read as an int.
LOCK_SPACE = 0x616E6E6F
# Per-stream decision locks live apart, so that no stream's key can equal the append lock's.
STREAM_LOCK_SPACE = LOCK_SPACE + 1

Migration = tuple[int, str]

SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)
"""


class SchemaError(RuntimeError):
    """The database cannot be used: no schema to write in, or a schema newer than this build."""


async def lock_key(conn: asyncpg.Connection, purpose: str) -> int:
    """The second key of the advisory lock for `purpose` in this connection's schema."""
    key: int = await conn.fetchval("SELECT hashtext(current_schema() || ':' || $1)", purpose)
    return key


async def current_schema(conn: asyncpg.Connection) -> str:
    schema: str | None = await conn.fetchval("SELECT current_schema()")
    if schema is None:
        path = await conn.fetchval("SHOW search_path")
        raise SchemaError(
            f"no schema of search_path {path!r} exists: create it (CREATE SCHEMA ...) first"
        )
    return schema


async def migrate(conn: asyncpg.Connection, component: str, steps: Sequence[Migration]) -> int:
    """Applies the steps of `component` the database lacks; returns its version afterwards."""
    await current_schema(conn)
    known = max(version for version, _ in steps)
    key = await lock_key(conn, "migrate")
    await conn.execute("SELECT pg_advisory_lock($1, $2)", LOCK_SPACE, key)
    try:
        await conn.execute(SCHEMA_MIGRATIONS)
        applied: int = await conn.fetchval(
            "SELECT coalesce(max(version), 0) FROM schema_migrations WHERE component = $1",
            component,
        )
        if applied > known:
            raise SchemaError(
                f"the database's {component} schema is at version {applied}, newer than this"
                f" build knows ({known}): upgrade annolog"
            )
        for version, sql in sorted(steps):
            if version <= applied:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (component, version) VALUES ($1, $2)",
                    component,
                    version,
                )
            applied = version
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1, $2)", LOCK_SPACE, key)
