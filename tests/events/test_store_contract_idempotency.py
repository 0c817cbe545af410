"""Store contract, idempotency: a retried append returns what the first one wrote and writes
nothing; each test runs once per backend (see conftest)."""

import asyncio
from typing import Any

import pytest

from events.annotation import BoxDrawn, PolygonDrawn
from events.errors import DuplicateEventError, PayloadError
from tests.events.conftest import ManualClock, Store, create_project, new, read_everything, tagged

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
