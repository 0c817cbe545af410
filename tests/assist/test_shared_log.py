"""Two processes on one SQLite file: the web server and the assistant worker both append.

Two stores opened on one file behave as two processes do (each its own connections, caches
and writer task): versions and seqs must come from the file, not from a stale cache, and
each side's subscribers must see what the other appended.
"""

import asyncio
import sqlite3
from pathlib import Path

import pytest

from events.annotation import TagApplied
from events.envelope import NewEvent, Recorded
from events.errors import ConcurrencyError
from events.project import ProjectCreated
from events.sqlite_store import SQLiteStore

ITEM = "item-p-a"


def new(event_id: str, tag: str = "cat") -> NewEvent:
    return NewEvent(event_id=event_id, event=TagApplied(tag=tag), actor="ann")


async def _pair(path: Path) -> tuple[SQLiteStore, SQLiteStore]:
    first = await SQLiteStore.open(path, watch_interval=0.02)
    second = await SQLiteStore.open(path, lambda: 1_000.0, watch_interval=0.02)
    created = ProjectCreated(project_id="p", name="P", project_type="image_multiclass")
    await first.append("project-p", [NewEvent(event_id="c", event=created)], 0)
    return first, second


async def test_each_writer_reads_versions_and_seqs_from_the_file(tmp_path: Path) -> None:
    first, second = await _pair(tmp_path / "log.db")
    try:
        await first.append(ITEM, [new("a1")], 0)
        # The second store has never seen the stream, then sees it move under it.
        assert [r.version for r in await second.append(ITEM, [new("b1")], 1)] == [2]
        assert [r.seq for r in await first.append(ITEM, [new("a2")], 2)] == [4]
        with pytest.raises(ConcurrencyError) as caught:
            await second.append(ITEM, [new("b2")], 2)
        assert (caught.value.expected, caught.value.actual) == (2, 3)
        assert await second.last_seq() == 4, "a lost race shows the newer end of the log"
        # A retry from the other process is recognised by its id.
        again = await second.append(ITEM, [new("a2")], 2)
        assert [r.seq for r in again] == [4]
    finally:
        await first.close()
        await second.close()


async def test_concurrent_writers_interleave_without_gaps_or_clashes(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    first, second = await _pair(path)

    async def write(store: SQLiteStore, name: str) -> None:
        for i in range(30):
            stream = f"item-p-{name}{i % 3}"
            for _ in range(5):
                try:
                    await store.append(
                        stream, [new(f"{name}-{i}")], await store.stream_version(stream)
                    )
                    break
                except ConcurrencyError:
                    continue

    try:
        await asyncio.gather(write(first, "x"), write(second, "y"))
    finally:
        await first.close()
        await second.close()
    with sqlite3.connect(path) as conn:
        seqs = [s for (s,) in conn.execute("SELECT seq FROM events ORDER BY seq")]
        stamps = [a for (a,) in conn.execute("SELECT at FROM events ORDER BY seq")]
        streams = conn.execute(
            "SELECT stream, count(*), max(version) FROM events GROUP BY stream"
        ).fetchall()
    assert seqs == list(range(1, 62))
    assert stamps == sorted(stamps), "stamps never go backwards, whichever process wrote"
    assert all(count == top for _, count, top in streams)


async def test_subscribers_see_what_the_other_process_appended(tmp_path: Path) -> None:
    first, second = await _pair(tmp_path / "log.db")
    seen: list[Recorded] = []

    async def follow() -> None:
        async for recorded in first.subscribe(0):
            seen.append(recorded)
            if len(seen) == 5:
                return

    try:
        follower = asyncio.create_task(follow())
        await first.append(ITEM, [new("a1")], 0)
        await second.append(ITEM, [new("b1"), new("b2", "dog")], 1)
        await first.append(ITEM, [new("a2")], 3)
        async with asyncio.timeout(5):
            await follower
    finally:
        await first.close()
        await second.close()
    assert [r.seq for r in seen] == [1, 2, 3, 4, 5]
    assert [r.event_id for r in seen] == ["c", "a1", "b1", "b2", "a2"]
