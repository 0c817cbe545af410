"""The contract every EventStore backend keeps, appends and reads; each test runs once per
backend (see conftest). The other parts: test_store_contract_*.py."""

import asyncio
import sqlite3
from pathlib import Path

import pytest

from events.annotation import BoxDrawn, TagApplied
from events.errors import ConcurrencyError
from events.project import ProjectCreated
from events.sqlite_store import SQLiteStore
from tests.events.conftest import ManualClock, Store, create_project, new, read_everything, tagged

# Append and read


async def test_an_empty_log(store: Store) -> None:
    assert await store.last_seq() == 0
    assert await store.read_all() == []
    assert await store.read_stream("item-p-a") == []
    assert await store.stream_version("item-p-a") == 0
    assert await store.seq_at(2e9) == 0


async def test_append_returns_the_recorded_envelopes(store: Store, clock: ManualClock) -> None:
    [first] = await create_project(store)
    assert first.seq == 1
    assert first.stream == "project-p"
    assert first.version == 1
    assert first.event_id == "p-created"
    assert (first.actor, first.session) == ("ann", "s1")
    assert first.at == clock.now
    assert isinstance(first.event, ProjectCreated)

    recorded = await store.append(
        "item-p-a",
        [tagged("e1", "cat"), new("e2", BoxDrawn(region_id="r1", x=1, y=2, w=3, h=4))],
        0,
    )
    assert [(r.seq, r.version, r.event_id) for r in recorded] == [(2, 1, "e1"), (3, 2, "e2")]
    assert recorded[0].event == TagApplied(tag="cat")
    assert recorded[1].event == BoxDrawn(region_id="r1", x=1.0, y=2.0, w=3.0, h=4.0)
    assert await store.last_seq() == 3
    assert await store.stream_version("item-p-a") == 2
    assert await store.stream_version("project-p") == 1
    assert await read_everything(store) == [first, *recorded]


async def test_read_stream_after_a_version_and_with_a_limit(store: Store) -> None:
    await create_project(store)
    for version in range(10):
        await store.append("item-p-a", [tagged(f"a{version}")], version)
        await store.append("item-p-b", [tagged(f"b{version}")], version)

    whole = await store.read_stream("item-p-a")
    assert [r.version for r in whole] == list(range(1, 11))
    assert [r.event_id for r in whole] == [f"a{i}" for i in range(10)]
    assert {r.stream for r in whole} == {"item-p-a"}
    assert await store.read_stream("item-p-a", after_version=7) == whole[7:]
    assert await store.read_stream("item-p-a", after_version=2, limit=3) == whole[2:5]
    assert await store.read_stream("item-p-a", after_version=10) == []
    assert await store.read_stream("item-p-c") == []


async def test_read_all_pages_through_the_whole_log_in_order(store: Store) -> None:
    await create_project(store)
    appended = []
    for index in range(40):
        stream = f"item-p-{index % 3}"
        appended += await store.append(stream, [tagged(f"e{index}")], index // 3)
    everything = await store.read_all(0, 1000)
    assert [r.seq for r in everything] == list(range(1, 42))
    assert everything[1:] == appended

    for page in (1, 7, 41, 100):
        assert await read_everything(store, page) == everything
    assert await store.read_all(after=10, limit=5) == everything[10:15]
    assert await store.read_all(after=41) == []


async def test_seq_at_finds_the_newest_event_stamped_at_or_before(
    store: Store, clock: ManualClock
) -> None:
    clock.now = 1000.0
    await create_project(store)  # seq 1 at 1000
    clock.now = 2000.0
    await store.append("item-p-a", [tagged("a"), tagged("b")], 0)  # seq 2, 3 at 2000
    clock.now = 3000.0
    await store.append("item-p-a", [tagged("c")], 2)  # seq 4 at 3000

    assert await store.seq_at(999.9) == 0
    assert await store.seq_at(1000.0) == 1
    assert await store.seq_at(1999.0) == 1
    assert await store.seq_at(2000.0) == 3
    assert await store.seq_at(2999.0) == 3
    assert await store.seq_at(3000.0) == 4
    assert await store.seq_at(1e10) == 4


async def test_stamps_never_go_backwards(store: Store, clock: ManualClock) -> None:
    clock.now = 5000.0
    await create_project(store)
    clock.now = 4000.0  # the machine's clock stepped back
    [late] = await store.append("item-p-a", [tagged("a")], 0)
    assert late.at == 5000.0
    assert await store.seq_at(4500.0) == 0


# Optimistic concurrency


async def test_a_stale_expected_version_is_a_conflict_naming_both_versions(store: Store) -> None:
    await create_project(store)
    await store.append("item-p-a", [tagged("a"), tagged("b")], 0)
    before = await read_everything(store)

    for expected in (0, 1, 3):
        with pytest.raises(ConcurrencyError) as caught:
            await store.append("item-p-a", [tagged(f"late{expected}")], expected)
        error = caught.value
        assert (error.stream, error.expected, error.actual) == ("item-p-a", expected, 2)
        assert "item-p-a" in str(error)
        assert f"expected version {expected}" in str(error)
        assert "version 2" in str(error)

    assert await read_everything(store) == before
    assert await store.stream_version("item-p-a") == 2


async def test_concurrent_writers_of_one_stream_one_wins_the_rest_of_the_batch_commits(
    store: Store,
) -> None:
    await create_project(store)
    await store.append("item-p-hot", [tagged("first")], 0)

    racers = [store.append("item-p-hot", [tagged(f"racer{i}")], 1) for i in range(20)]
    bystanders = [store.append(f"item-p-b{i}", [tagged(f"by{i}")], 0) for i in range(20)]
    results = await asyncio.gather(*racers, *bystanders, return_exceptions=True)

    raced, stood = results[:20], results[20:]
    winners = [r for r in raced if isinstance(r, list)]
    losers = [r for r in raced if not isinstance(r, list)]
    assert len(winners) == 1
    assert len(losers) == 19
    for loser in losers:
        assert isinstance(loser, ConcurrencyError)
        assert (loser.stream, loser.expected, loser.actual) == ("item-p-hot", 1, 2)
    for index, outcome in enumerate(stood):
        assert isinstance(outcome, list), outcome
        assert [(r.stream, r.version, r.event_id) for r in outcome] == [
            (f"item-p-b{index}", 1, f"by{index}")
        ]

    assert await store.stream_version("item-p-hot") == 2
    assert await store.last_seq() == 2 + 1 + 20
    everything = await read_everything(store)
    assert [r.seq for r in everything] == list(range(1, 24))


async def test_appends_to_one_stream_in_one_batch_chain_their_versions(store: Store) -> None:
    await create_project(store)
    results = await asyncio.gather(
        *(store.append("item-p-a", [tagged(f"e{v}")], v) for v in range(30))
    )
    assert [r.version for [r] in results] == list(range(1, 31))
    assert await store.stream_version("item-p-a") == 30


# Group commit


async def test_concurrent_appends_are_committed_together_and_each_acknowledged(
    store: Store, clock: ManualClock
) -> None:
    await create_project(store)
    clock.step = 1.0  # every transaction reads the clock once: one stamp per group commit

    results = await asyncio.gather(
        *(store.append(f"item-p-{i}", [tagged(f"e{i}"), tagged(f"f{i}")], 0) for i in range(300))
    )

    for index, recorded in enumerate(results):
        assert [(r.stream, r.version, r.event_id) for r in recorded] == [
            (f"item-p-{index}", 1, f"e{index}"),
            (f"item-p-{index}", 2, f"f{index}"),
        ]
        assert recorded[1].seq == recorded[0].seq + 1
    seqs = sorted(r.seq for recorded in results for r in recorded)
    assert seqs == list(range(2, 602))
    transactions = {r.at for recorded in results for r in recorded}
    assert len(transactions) <= 5, f"{len(transactions)} transactions for 300 concurrent appends"
    everything = await read_everything(store)
    assert everything[1:] == sorted((r for rs in results for r in rs), key=lambda r: r.seq)


async def test_sqlite_acknowledges_only_committed_appends(tmp_path: Path) -> None:
    path = tmp_path / "acks.sqlite3"
    store = await SQLiteStore.open(path)
    try:
        await create_project(store)

        def committed(event_id: str) -> bool:
            # A connection of its own sees only what was committed.
            with sqlite3.connect(path) as conn:
                row = conn.execute("SELECT 1 FROM events WHERE event_id = ?", (event_id,))
                found = row.fetchone() is not None
            conn.close()
            return found

        async def append_and_check(index: int) -> bool:
            await store.append(f"item-p-{index}", [tagged(f"e{index}")], 0)
            return committed(f"e{index}")

        seen = await asyncio.gather(*(append_and_check(i) for i in range(100)))
        assert all(seen)
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT count(*) FROM events").fetchone() == (101,)
        conn.close()
    finally:
        await store.close()
