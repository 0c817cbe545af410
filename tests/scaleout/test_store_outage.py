"""The HTTP answer when PostgreSQL cannot take an append: a real uvicorn process on a real
PostgreSQL whose writer connection is cut (twice: one cut is tried again) while it waits for
the append lock. The labeler gets a 503 in the API's error shape, nothing is written, and the
same request sent again is written once."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from events.postgres_appends import begin_append_sql
from events.postgres_schema import lock_key
from server.auth.postgres_users import PostgresUserStore
from tests.pg import database_dsn
from tests.server.auth.conftest import LIGHT
from tests.server.clients import Clients, http_client, make_project, tag
from tests.server.servers import Server

pytestmark = pytest.mark.postgres

TIMEOUT = 10


async def seed_tokens(dsn: str) -> dict[str, list[str]]:
    users = await PostgresUserStore.open(dsn, hasher=LIGHT)
    try:
        tokens: dict[str, list[str]] = {}
        for name, admin in {"admin": True, "ann": False}.items():
            await users.add_user(name, f"{name}-test-password", is_admin=admin)
            tokens[name] = [(await users.create_token(name, "t"))[1]]
        return tokens
    finally:
        await users.close()


@contextlib.asynccontextmanager
async def server_on_postgres(
    tmp_path: Path, database: str
) -> AsyncIterator[tuple[Clients, asyncpg.Connection, asyncpg.Connection]]:
    """A uvicorn on a fresh database; its clients, a connection to hold locks, one to watch."""
    dsn = await database_dsn(database)
    tokens = await seed_tokens(dsn)
    server = Server(tmp_path / "a", {"DATABASE_URL": dsn, "ANNOLOG_MEDIA_DIR": str(tmp_path)})
    server.root.mkdir()
    await server.astart()
    held, watcher = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        async with http_client(server) as http:
            yield Clients(http, tokens), held, watcher
    finally:
        await held.close()
        await watcher.close()
        await server.astop()
    server.assert_clean_log()


async def test_an_append_the_database_cannot_take_is_answered_503_and_can_be_sent_again(
    tmp_path: Path,
) -> None:
    async with server_on_postgres(tmp_path, "store_outage_http") as (clients, held, watcher):
        await make_project(clients("admin"), "out", items=2, members={"ann": "labeler"})
        ann = clients("ann")
        item = (await ann.page("out"))["items"][0]
        path = f"/api/projects/out/items/{item}/events"
        body = {"events": [{"event_id": "sent-twice", "event": tag("a")}]}

        await held.execute(begin_append_sql(await lock_key(held, "append")))
        sent = asyncio.create_task(ann.request("POST", path, json=body))
        first = await cut_waiting_for_a_lock(watcher)
        await cut_waiting_for_a_lock(watcher, first)
        async with asyncio.timeout(TIMEOUT):
            answer = await sent
        await held.execute("ROLLBACK")

        assert answer.status_code == 503, answer.text
        error = answer.json()["error"]
        assert error["code"] == "unavailable"
        assert error["message"].startswith("the event store is unavailable (PostgreSQL: ")
        assert "retried with the same event ids is recognised" in error["message"]
        assert await copies(watcher, "sent-twice") == 0

        written = await ann.post(path, body)
        assert [r["event_id"] for r in written["recorded"]] == ["sent-twice"]
        assert await ann.post(path, body) == written  # a third time: the original answer
        assert await copies(watcher, "sent-twice") == 1


async def cut_waiting_for_a_lock(
    conn: asyncpg.Connection, cut_before: int = 0, application: str = "annolog-writer"
) -> int:
    """Cuts the server's `application` connection once it waits for a lock; returns its pid.

    A backend cut before may still be listed, waiting, for a moment: `cut_before` excludes it.
    """
    async with asyncio.timeout(TIMEOUT):
        while True:
            pid: int | None = await conn.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1"
                " AND wait_event_type = 'Lock' AND datname = current_database() AND pid <> $2",
                application,
                cut_before,
            )
            if pid is not None and await conn.fetchval("SELECT pg_terminate_backend($1)", pid):
                return pid
            await asyncio.sleep(0.02)


async def copies(conn: asyncpg.Connection, event_id: str) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM events WHERE event_id = $1", event_id)
    return count


async def test_a_sign_in_check_the_database_cannot_answer_is_503(tmp_path: Path) -> None:
    """The user store is on the same PostgreSQL: a caller looked up while it is cut off gets
    a 503 too, never a 500, and the next request is answered as usual."""
    async with server_on_postgres(tmp_path, "users_outage_http") as (clients, held, watcher):
        ann = clients("ann")
        assert (await ann.get("/api/session"))["user"] == "ann"
        await asyncio.sleep(1.5)  # past the 1 s cache of token owners

        await held.execute("BEGIN; LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE")
        sent = asyncio.create_task(ann.request("GET", "/api/session"))
        await cut_waiting_for_a_lock(watcher, application="annolog-users")
        async with asyncio.timeout(TIMEOUT):
            answer = await sent
        await held.execute("ROLLBACK")

        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "unavailable"
        assert (await ann.get("/api/session"))["user"] == "ann"
