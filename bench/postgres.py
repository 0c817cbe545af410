"""What the benchmarks need of PostgreSQL (`--database postgresql://...`): a fresh schema or a
fresh database per run on the server that URL names, and the log read back.

The URL names a server and a database the benchmark may create schemas (append) or databases
(labelers) in; measure on a server with fsync and synchronous_commit on, as in production.
"""

import secrets
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def with_database(url: str, database: str) -> str:
    """The same server's URL, naming another database (query kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def with_schema(url: str, schema: str) -> str:
    """The URL with `search_path` set to `schema` (replacing any query)."""
    return urlunsplit(urlsplit(url)._replace(query=f"search_path={schema}"))


async def fresh_schema(url: str, prefix: str = "bench") -> str:
    """A new, empty schema in the URL's database; returns a URL that uses it."""
    schema = f"{prefix}_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    return with_schema(url, schema)


async def drop_schema(url: str) -> None:
    """Drops the schema a `fresh_schema` URL names, and everything in it."""
    schema = urlsplit(url).query.removeprefix("search_path=")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


async def fresh_database(url: str, name: str, template: str | None = None) -> str:
    """Drops and creates database `name` on the URL's server (a copy of `template` if given)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        copy = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await conn.close()
    return with_database(url, name)


async def drop_database(url: str, name: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def log_bodies(url: str) -> list[bytes]:
    """Every stored envelope of the log at `url`, in seq order."""
    conn = await asyncpg.connect(url)
    try:
        return [row["body"] for row in await conn.fetch("SELECT body FROM events ORDER BY seq")]
    finally:
        await conn.close()


async def server_settings(url: str) -> str:
    """The settings that decide durability, for the figures' caption."""
    conn = await asyncpg.connect(url)
    try:
        version = await conn.fetchval("SHOW server_version")
        fsync = await conn.fetchval("SHOW fsync")
        commit = await conn.fetchval("SHOW synchronous_commit")
    finally:
        await conn.close()
    return f"PostgreSQL {version}, fsync={fsync}, synchronous_commit={commit}"
