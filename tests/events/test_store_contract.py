"""The contract every EventStore backend keeps; each test runs once per backend (see conftest)."""

import asyncio
import sqlite3
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import pytest

from events.annotation import BoxDrawn, PolygonDrawn, TagApplied
from events.assist import ItemsClustered
from events.envelope import Recorded
from events.errors import (
    ConcurrencyError,
    DuplicateEventError,
    PayloadError,
    StoreClosedError,
    StreamError,
    StreamNotFound,
)
from events.project import ProjectCreated, TagAdded, TagSpec
from events.queue import SessionOpened
from events.sqlite_store import SQLiteStore
from tests.events.conftest import (
    Backend,
    ManualClock,
    Store,
    create_project,
    created,
    new,
    read_everything,
    tagged,
)

TIMEOUT = 10


@asynccontextmanager
async def subscription(store: Store, after: int = 0) -> AsyncIterator[AsyncIterator[Recorded]]:
    """A subscription that is closed when the block ends, however it ends."""
    events = cast(AsyncGenerator[Recorded, None], store.subscribe(after))
    try:
        yield events
    finally:
        await events.aclose()


async def take(events: AsyncIterator[Recorded], count: int) -> list[Recorded]:
    out: list[Recorded] = []
    async with asyncio.timeout(TIMEOUT):
        async for recorded in events:
            out.append(recorded)
            if len(out) == count:
                break
    return out


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


# Idempotency


async def test_a_retry_returns_the_original_envelopes_and_writes_nothing(
    store: Store, clock: ManualClock
) -> None:
    await create_project(store)
    batch = [tagged("e1"), new("e2", BoxDrawn(region_id="r", x=1, y=1, w=5, h=5))]
    original = await store.append("item-p-a", batch, 0)
    await store.append("item-p-a", [tagged("e3")], 2)
    before = await read_everything(store)
    clock.now += 60

    # The client did not hear the ack and sends the same append again (its version is stale).
    assert await store.append("item-p-a", batch, 0) == original
    assert await store.append("item-p-a", batch[1:], 1) == original[1:]
    assert await create_project(store) == before[:1]
    assert await read_everything(store) == before
    assert await store.stream_version("item-p-a") == 3


async def test_a_retry_is_recognised_by_value_not_by_python_types(store: Store) -> None:
    """Points given as lists and coordinates as ints are stored as tuples and floats."""
    await create_project(store)
    points: Any = [[1, 1], [5, 1], [5, 5]]
    event = PolygonDrawn(region_id="r", tag="cat", points=points)
    original = await store.append("item-p-a", [new("e1", event)], 0)
    assert original[0].event == PolygonDrawn(
        region_id="r", tag="cat", points=[(1.0, 1.0), (5.0, 1.0), (5.0, 5.0)]
    )
    assert await store.append("item-p-a", [new("e1", event)], 0) == original
    assert await store.last_seq() == 2


async def test_concurrent_retries_are_written_once(store: Store) -> None:
    await create_project(store)
    sends = [store.append("item-p-a", [tagged("once")], 0) for _ in range(5)]
    results = await asyncio.gather(*sends)
    assert all(result == results[0] for result in results)
    assert await store.last_seq() == 2


async def test_an_event_id_reused_with_another_payload_is_refused(store: Store) -> None:
    await create_project(store)
    await store.append("item-p-a", [tagged("e1", "cat")], 0)
    before = await read_everything(store)

    with pytest.raises(DuplicateEventError) as caught:
        await store.append("item-p-a", [tagged("e1", "dog")], 1)
    assert caught.value.event_id == "e1"
    assert "e1" in str(caught.value)

    with pytest.raises(DuplicateEventError, match="e1"):
        await store.append("item-p-b", [tagged("e1", "cat")], 0)

    assert await read_everything(store) == before


async def test_an_append_that_mixes_logged_and_new_ids_is_refused(store: Store) -> None:
    await create_project(store)
    await store.append("item-p-a", [tagged("e1")], 0)
    before = await read_everything(store)

    with pytest.raises(DuplicateEventError, match="e1"):
        await store.append("item-p-a", [tagged("e1"), tagged("e2")], 1)
    with pytest.raises(DuplicateEventError, match="e1"):
        await store.append("item-p-a", [tagged("e0"), tagged("e1")], 1)

    assert await read_everything(store) == before
    assert await store.stream_version("item-p-a") == 1


async def test_an_id_twice_in_one_append_is_refused(store: Store) -> None:
    await create_project(store)
    with pytest.raises(PayloadError) as caught:
        await store.append("item-p-a", [tagged("e1"), tagged("e1", "dog")], 0)
    assert caught.value.path == "$.events[1].event_id"
    assert await store.last_seq() == 1


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


# Subscriptions


async def test_subscribe_catches_up_then_goes_live_without_gap_or_duplicate(store: Store) -> None:
    await create_project(store)
    for i in range(5):
        await store.append("item-p-a", [tagged(f"old{i}")], i)

    async with subscription(store) as events:
        reading = asyncio.create_task(take(events, 26))
        await asyncio.sleep(0)
        for i in range(10):
            await store.append("item-p-b", [tagged(f"live{i}"), tagged(f"live{i}x")], 2 * i)
        got = await reading

    assert [r.seq for r in got] == list(range(1, 27))
    assert got == await read_everything(store)


async def test_subscribe_from_the_middle(store: Store) -> None:
    await create_project(store)
    await store.append("item-p-a", [tagged(f"e{i}") for i in range(9)], 0)
    async with subscription(store, after=4) as events:
        got = await take(events, 6)
    assert [r.seq for r in got] == list(range(5, 11))
    assert got == (await read_everything(store))[4:]


async def test_subscribe_sees_events_appended_while_it_iterates(store: Store) -> None:
    await create_project(store)
    await store.append("item-p-a", [tagged(f"e{i}") for i in range(3)], 0)

    got: list[Recorded] = []
    async with subscription(store) as events, asyncio.timeout(TIMEOUT):
        async for recorded in events:
            got.append(recorded)
            if len(got) < 30:
                # A reaction to each event is itself appended, sometimes several at once.
                writes = [store.append(f"item-p-r{len(got)}", [tagged(f"r{len(got)}")], 0)]
                if len(got) % 4 == 0:
                    writes += [
                        store.append(f"item-p-x{len(got)}-{i}", [tagged(f"x{len(got)}-{i}")], 0)
                        for i in range(3)
                    ]
                await asyncio.gather(*writes)
            if len(got) == await store.last_seq() and len(got) >= 30:
                break

    everything = await read_everything(store)
    assert [r.seq for r in got] == list(range(1, len(everything) + 1))
    assert got == everything


async def test_subscribers_catch_up_across_many_pages(store: Store) -> None:
    await create_project(store)
    for chunk in range(3):
        events = [tagged(f"e{chunk}-{i}") for i in range(900)]
        await store.append(f"item-p-{chunk}", events, 0)
    async with subscription(store) as first, subscription(store, after=1234) as second:
        got_first, got_second = await asyncio.gather(take(first, 2701), take(second, 2701 - 1234))
    everything = await read_everything(store)
    assert got_first == everything
    assert got_second == everything[1234:]


async def test_close_ends_subscribers_and_answers_queued_appends(store: Store) -> None:
    await create_project(store)

    async def follow() -> list[Recorded]:
        got = []
        async for recorded in store.subscribe():
            got.append(recorded)
        return got

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.01)
    queued = [
        asyncio.create_task(store.append(f"item-p-{i}", [tagged(f"q{i}")], 0)) for i in range(50)
    ]
    await asyncio.sleep(0)  # every append is queued, none answered yet
    await store.close()

    async with asyncio.timeout(TIMEOUT):
        answers = await asyncio.gather(*queued, return_exceptions=True)
        seen = await follower
    for answer in answers:
        assert isinstance(answer, list | StoreClosedError), answer
    committed = [a for a in answers if isinstance(a, list)]
    assert len(committed) == 50  # queued before close: each was promised an answer
    assert [r.seq for r in seen] == list(range(1, len(seen) + 1))

    with pytest.raises(StoreClosedError):
        await store.append("item-p-late", [tagged("late")], 0)
    await store.close()  # closing twice is harmless


# Checkpoints


async def test_checkpoints_save_load_and_drop(store: Store) -> None:
    assert await store.load_checkpoint("annotations") is None
    await store.save_checkpoint("annotations", 10, b"state-at-10")
    await store.save_checkpoint("queue", 3, b"")
    assert await store.load_checkpoint("annotations") == (10, b"state-at-10")
    await store.save_checkpoint("annotations", 25, b"\x00\xff state-at-25")
    assert await store.load_checkpoint("annotations") == (25, b"\x00\xff state-at-25")
    assert await store.load_checkpoint("queue") == (3, b"")

    await store.drop_checkpoint("annotations")
    assert await store.load_checkpoint("annotations") is None
    await store.drop_checkpoint("annotations")  # dropping what is gone is harmless
    assert await store.load_checkpoint("queue") == (3, b"")


# Durability


async def test_the_log_survives_a_reopen(durable_backend: Backend, clock: ManualClock) -> None:
    store = await durable_backend.open()
    await create_project(store)
    await store.append("item-p-a", [tagged("a1"), tagged("a2")], 0)
    await store.append(
        "queue-p", [new("q1", SessionOpened(session_id="s1", user="ann", lease_until=1.7e9))], 0
    )
    await store.save_checkpoint("progress", 4, b"four")
    clock.now += 100
    last_at = clock.now
    await store.append("item-p-a", [tagged("a3")], 2)
    before = await read_everything(store)
    await store.close()

    clock.now -= 1000  # the clock stepped back across the restart
    store = await durable_backend.open()
    try:
        assert await store.last_seq() == 5
        assert await read_everything(store) == before
        assert await store.stream_version("item-p-a") == 3
        assert await store.read_stream("item-p-a") == [r for r in before if r.stream == "item-p-a"]
        assert await store.load_checkpoint("progress") == (4, b"four")

        # Idempotency and versions still hold across the restart.
        assert await store.append("item-p-a", [tagged("a1"), tagged("a2")], 0) == before[1:3]
        with pytest.raises(DuplicateEventError):
            await store.append("item-p-a", [tagged("a3", "dog")], 3)
        with pytest.raises(ConcurrencyError) as caught:
            await store.append("item-p-a", [tagged("a4")], 2)
        assert caught.value.actual == 3
        with pytest.raises(StreamError):
            await store.append("project-p", [new("again", created("p").event)], 1)

        [after] = await store.append("item-p-a", [tagged("a4")], 3)
        assert (after.seq, after.version) == (6, 4)
        assert after.at >= last_at

        async with subscription(store, after=2) as events:
            assert await take(events, 4) == [*before[2:], after]
    finally:
        await store.close()


# Stream rules


@pytest.mark.parametrize(
    ("stream", "event"),
    [
        ("item-p-a", TagApplied(tag="cat")),
        ("queue-p", SessionOpened(session_id="s1", user="ann", lease_until=1.0)),
        ("assist-p", ItemsClustered(round=1, clusters=[["a", "b"]])),
    ],
)
async def test_a_stream_of_a_project_that_does_not_exist_is_refused(
    store: Store, stream: str, event: TagApplied | SessionOpened | ItemsClustered
) -> None:
    await create_project(store, "other")
    with pytest.raises(StreamNotFound) as caught:
        await store.append(stream, [new("e1", event)], 0)
    assert caught.value.stream == stream
    assert "project p does not exist" in str(caught.value)
    assert await store.last_seq() == 1

    await create_project(store, "p")
    [recorded] = await store.append(stream, [new("e1", event)], 0)
    assert (recorded.seq, recorded.version) == (3, 1)


async def test_a_project_and_its_first_item_events_may_share_a_group_commit(store: Store) -> None:
    made, marked = await asyncio.gather(
        create_project(store), store.append("item-p-a", [tagged("e1")], 0)
    )
    assert (made[0].seq, marked[0].seq) == (1, 2)


async def test_a_project_stream_begins_with_project_created(store: Store) -> None:
    tag = new("t1", TagAdded(tag=TagSpec(name="cat", colour="#ff0000", key=1)))
    with pytest.raises(StreamNotFound, match=r"project\.created"):
        await store.append("project-p", [tag], 0)
    assert await store.last_seq() == 0

    [made, added] = await store.append("project-p", [created("p"), tag], 0)
    assert (made.version, added.version) == (1, 2)

    with pytest.raises(StreamError, match="first event"):
        await store.append("project-p", [new("again", created("p").event)], 2)
    with pytest.raises(StreamError, match="first event"):
        await store.append("project-q", [tag, new("q", created("q").event)], 0)
    assert await store.last_seq() == 2


async def test_project_created_must_name_its_stream(store: Store) -> None:
    with pytest.raises(PayloadError) as caught:
        await store.append("project-p", [created("q")], 0)
    assert caught.value.path == "$.events[0].event.project_id"
    assert await store.last_seq() == 0


@pytest.mark.parametrize(
    ("stream", "event"),
    [
        ("queue-p", TagApplied(tag="cat")),
        ("project-p", TagApplied(tag="cat")),
        ("assist-p", TagApplied(tag="cat")),
        ("item-p-a", SessionOpened(session_id="s", user="ann", lease_until=1.0)),
        ("item-p-a", TagAdded(tag=TagSpec(name="cat", colour="#ff0000"))),
    ],
)
async def test_an_event_on_a_stream_that_does_not_take_it_is_refused(
    store: Store, stream: str, event: TagApplied | SessionOpened | TagAdded
) -> None:
    await create_project(store)
    with pytest.raises(StreamError) as caught:
        await store.append(stream, [new("e1", event)], 0)
    assert not isinstance(caught.value, StreamNotFound)
    assert caught.value.stream == stream
    assert "events[0]" in str(caught.value)
    assert await store.last_seq() == 1


@pytest.mark.parametrize(
    "stream",
    [
        "",
        "p",
        "item-p",
        "item-p-",
        "item--a",
        "project-",
        "project-P",
        "Project-p",
        "project-p-x",
        "project-p ",
        "labels-p",
        "item-p-a/b",
        "item-p-" + "a" * 65,
        "project-" + "p" * 41,
    ],
)
async def test_a_malformed_stream_name_is_refused(store: Store, stream: str) -> None:
    await create_project(store)
    with pytest.raises(StreamError) as caught:
        await store.append(stream, [tagged("e1")], 0)
    assert caught.value.stream == stream
    assert "stream must be" in str(caught.value)
    assert await store.last_seq() == 1


async def test_an_append_needs_events_and_a_non_negative_version(store: Store) -> None:
    await create_project(store)
    with pytest.raises(PayloadError) as caught:
        await store.append("item-p-a", [], 0)
    assert caught.value.path == "$.events"
    with pytest.raises(PayloadError) as caught:
        await store.append("item-p-a", [tagged("e1")], -1)
    assert caught.value.path == "$.expected_version"
    assert await store.last_seq() == 1
