"""Store contract, reading back: subscriptions (catch up, then live, no gap or duplicate),
checkpoints and durability across a reopen; each test runs once per backend (see conftest)."""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import pytest

from events.envelope import Recorded
from events.errors import ConcurrencyError, DuplicateEventError, StoreClosedError, StreamError
from events.queue import SessionOpened
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
