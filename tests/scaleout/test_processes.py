"""Two real uvicorn processes on one PostgreSQL: labelers on both race for pages, events reach
websocket watchers on the other process, and killing the reaper's leader moves leadership
while leases still expire.

Each test gets a database of its own, users made straight in the user store (API tokens, so no
password hashing), and two servers sharing the database, the media folder and the secret key.
A labeler keeps to one process, as behind a proxy with sticky sessions (docs/deploy.md).
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from server.auth.postgres_users import PostgresUserStore
from tests.pg import database_dsn
from tests.server.auth.conftest import LIGHT
from tests.server.clients import Api, Clients, http_client, make_project, read_log, tag
from tests.server.servers import Server
from tests.server.sockets import Socket
from tests.server.test_queue_race import check_handouts

pytestmark = pytest.mark.postgres

USERS = {"admin": True, "ann": False, "bob": False, "carl": False, "audrey": False}
SESSIONS = 4  # API tokens (sessions) per labeler
LEASE = 10  # seconds, the shortest lease a project may have


@dataclass
class Cluster:
    dsn: str
    servers: list[Server]
    tokens: dict[str, list[str]]

    async def leader_pid(self) -> int | None:
        """The process holding the reaper's lock, as PostgreSQL sees it."""
        conn = await asyncpg.connect(self.dsn)
        try:
            name = await conn.fetchval(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a"
                " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
                " AND a.application_name LIKE 'annolog-leader-reaper-%'"
            )
        finally:
            await conn.close()
        return None if name is None else int(name.rsplit("-", 1)[1])

    async def wait_for_leader(self, among: list[Server], within: float = 10.0) -> Server:
        pids = {server.process.pid: server for server in among if server.process is not None}
        async with asyncio.timeout(within):
            while True:
                pid = await self.leader_pid()
                if pid in pids:
                    return pids[pid]
                await asyncio.sleep(0.05)


@pytest.fixture
async def sockets() -> AsyncIterator[list[Socket]]:
    """A list the test appends its sockets to; every one is closed after the test."""
    opened: list[Socket] = []
    yield opened
    for socket_ in opened:
        await socket_.close()


async def seed_users(dsn: str) -> dict[str, list[str]]:
    users = await PostgresUserStore.open(dsn, hasher=LIGHT)
    try:
        tokens: dict[str, list[str]] = {}
        for name, admin in USERS.items():
            await users.add_user(name, f"{name}-test-password", is_admin=admin)
            tokens[name] = [(await users.create_token(name, f"t{i}"))[1] for i in range(SESSIONS)]
        return tokens
    finally:
        await users.close()


@pytest.fixture
async def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cluster]:
    dsn = await database_dsn(f"scaleout_{request.node.name[5:45].lower()}")
    tokens = await seed_users(dsn)
    env = {"DATABASE_URL": dsn, "ANNOLOG_MEDIA_DIR": str(tmp_path / "media")}
    servers = [Server(tmp_path / name, env) for name in ("a", "b")]
    for server in servers:
        server.root.mkdir()
    await asyncio.gather(*(server.astart() for server in servers))
    try:
        yield Cluster(dsn, servers, tokens)
    finally:
        for server in servers:
            alive = server.process is not None
            await server.astop()
            if alive:
                server.assert_clean_log()


async def label_until_done(
    api: Api, project: str, handed: list[tuple[str, str]], conflicts: list[str]
) -> int:
    """Next page → tag each item → submit, until finished; a 409 `conflict` (the queue kept
    changing under this process's decisions) is tried again, as the client does."""
    pages = 0
    while True:
        answer = await api.request("POST", f"/api/projects/{project}/page")
        if answer.status_code == 409 and answer.json()["error"]["code"] == "conflict":
            conflicts.append(api.name)
            await asyncio.sleep(0.05)
            continue
        assert answer.status_code == 200, answer.text
        page = answer.json()
        if not page["items"]:
            assert page["finished"], page
            return pages
        pages += 1
        handed += [(api.name, item) for item in page["items"]]
        for item in page["items"]:
            await api.gestures(project, item, tag("a"))
        submitted = await api.submit(project)
        assert sorted(submitted["submitted"]) == sorted(page["items"])


async def test_labelers_on_both_processes_never_get_one_item_at_once(cluster: Cluster) -> None:
    a, b = cluster.servers
    async with http_client(a, 40) as on_a, http_client(b, 40) as on_b:
        via_a, via_b = Clients(on_a, cluster.tokens), Clients(on_b, cluster.tokens)
        items = await make_project(via_a("admin"), "race", items=90, page_size=3)
        # Every labeler has sessions on both processes, all labeling at once.
        labelers = [
            (via_a if index % 2 == 0 else via_b)(user, index)
            for user in ("ann", "bob", "carl")
            for index in range(SESSIONS)
        ]
        handed: list[tuple[str, str]] = []
        conflicts: list[str] = []
        pages = await asyncio.gather(
            *(label_until_done(api, "race", handed, conflicts) for api in labelers)
        )
        log = await read_log(via_b("admin"), "race")

    # Conflicts (409, tried again) are allowed; a second hand-out of an item is not.
    submitted = check_handouts(log, overlap=1)
    assert sorted(submitted) == items
    assert all(len(who) == 1 for who in submitted.values())
    assert Counter(item for _, item in handed) == Counter(items)  # each handed out once
    assert sum(pages) == len(items) // 3


async def test_a_labelers_events_reach_a_watcher_on_the_other_process(
    cluster: Cluster, sockets: list[Socket]
) -> None:
    a, b = cluster.servers
    async with http_client(a) as on_a, http_client(b) as on_b:
        via_a, via_b = Clients(on_a, cluster.tokens), Clients(on_b, cluster.tokens)
        await make_project(via_a("admin"), "live", items=6, page_size=2)
        watcher = await Socket.open(b, cluster.tokens["audrey"][0], "live")
        labeler = await Socket.open(a, cluster.tokens["ann"][0], "live")
        sockets += [watcher, labeler]
        ann: Api = via_a("ann")

        page = await ann.page("live")
        drawn = await ann.gestures("live", page["items"][0], tag("a"))
        stroke = drawn["recorded"][0]
        seen = await watcher.wait(
            lambda f: f["type"] == "event" and f["data"]["event_id"] == stroke["event_id"]
        )
        assert seen["data"]["seq"] == stroke["seq"]
        assert seen["data"]["actor"] == "ann"

        # And over the websocket, from the labeler's socket on A to the watcher on B.
        ack = await labeler.request(
            {
                "type": "append",
                "item": page["items"][1],
                "events": [{"event_id": "ws-stroke-1", "event": tag("b")}],
            }
        )
        assert ack["type"] == "ack", ack
        await watcher.wait(
            lambda f: f["type"] == "event" and f["data"]["event_id"] == "ws-stroke-1"
        )

        # The watcher saw the project's events in order, once each, its page hand-out included.
        log = await read_log(via_b("admin"), "live")
        watched = watcher.events()
        assert [e["seq"] for e in watched] == sorted({e["seq"] for e in watched})
        assert [e["event_id"] for e in watched] == [e["event_id"] for e in log][-len(watched) :]
        assert {"queue.page_assigned", "annotation.tag_applied"} <= {
            e["event"]["type"] for e in watched
        }


async def test_killing_the_leader_moves_the_reaper_and_leases_still_expire(
    cluster: Cluster,
) -> None:
    first = await cluster.wait_for_leader(cluster.servers)
    [second] = [server for server in cluster.servers if server is not first]
    async with http_client(second) as on_second:
        via = Clients(on_second, cluster.tokens)
        await make_project(via("admin"), "lease", items=4, page_size=2, lease_seconds=LEASE)
        page = await via("ann").page("lease")  # ann then goes silent
        assert page["items"] == ["t000", "t001"]

        first.kill()
        assert await cluster.wait_for_leader([second]) is second

        # The survivor's reaper ends ann's lease, and her items go to the next labeler.
        async with asyncio.timeout(LEASE + 10):
            while True:
                log = await read_log(via("admin"), "lease")
                if any(e["event"]["type"] == "queue.session_expired" for e in log):
                    break
                await asyncio.sleep(0.2)
        assert (await via("bob").page("lease"))["items"] == ["t000", "t001"]
        expired = [e for e in log if e["event"]["type"] == "queue.session_expired"]
        assert len(expired) == 1
        assert expired[0]["actor"] == "system"
