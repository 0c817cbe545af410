"""Advisory-lock leadership: one leader per job, and it moves when the leader goes away."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from server.leadership import AdvisoryLeadership, SoleLeader, leadership_for
from tests.pg import schema_dsn

pytestmark = pytest.mark.postgres

RETRY = 0.05
TIMEOUT = 10


@pytest.fixture
async def dsn(tmp_path: Path) -> str:
    return await schema_dsn(str(tmp_path))


@asynccontextmanager
async def candidates(dsn: str, job: str, count: int) -> AsyncIterator[list[AdvisoryLeadership]]:
    async with AsyncExitStack() as stack:
        started = []
        for _ in range(count):
            leadership = AdvisoryLeadership(dsn, job, RETRY)
            await leadership.start()
            stack.push_async_callback(leadership.stop)
            started.append(leadership)
        yield started


async def one_leader(group: list[AdvisoryLeadership]) -> AdvisoryLeadership:
    """Waits until someone leads, then checks, for a few retries, that only one does."""
    async with asyncio.timeout(TIMEOUT):
        await asyncio.wait(
            [asyncio.create_task(c.wait_until_leader()) for c in group],
            return_when=asyncio.FIRST_COMPLETED,
        )
    for _ in range(5):
        assert sum(c.is_leader() for c in group) == 1
        await asyncio.sleep(RETRY)
    [leader] = [c for c in group if c.is_leader()]
    return leader


async def test_one_of_many_leads_and_leadership_moves_when_it_stops(dsn: str) -> None:
    async with candidates(dsn, "reaper", 3) as group:
        first = await one_leader(group)
        await first.stop()
        rest = [c for c in group if c is not first]
        second = await one_leader(rest)
        assert not first.is_leader()
        await second.stop()
        await one_leader([c for c in rest if c is not second])


async def test_a_leader_whose_connection_is_cut_stops_leading(dsn: str) -> None:
    async with candidates(dsn, "reaper", 2) as group:
        first = await one_leader(group)
        conn = await asyncpg.connect(dsn)
        try:
            # What the server does when the leading process dies: its session ends.
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name LIKE 'annolog-leader-reaper-%' AND pid IN"
                " (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)"
            )
        finally:
            await conn.close()
        for _ in range(int(TIMEOUT / RETRY)):
            if not first.is_leader():
                break
            await asyncio.sleep(RETRY)
        assert not first.is_leader()
        await one_leader(group)  # whichever won the lock back, there is one


async def test_jobs_have_leaders_of_their_own(dsn: str) -> None:
    async with candidates(dsn, "reaper", 1) as reapers, candidates(dsn, "assist", 1) as workers:
        await one_leader(reapers)
        await one_leader(workers)


def test_a_single_process_store_always_leads() -> None:
    assert isinstance(leadership_for("annolog.db", "reaper", 1.0), SoleLeader)
    assert isinstance(leadership_for("", "reaper", 1.0), SoleLeader)
    assert leadership_for("annolog.db", "reaper", 1.0).is_leader()
    assert isinstance(leadership_for("postgresql://x/y", "reaper", 1.0), AdvisoryLeadership)
