"""Store contract, stream rules: which streams exist, which events each takes, what a stream
name may be; each test runs once per backend (see conftest)."""

import asyncio

import pytest

from events.annotation import TagApplied
from events.assist import ItemsClustered
from events.errors import PayloadError, StreamError, StreamNotFound
from events.project import TagAdded, TagSpec
from events.queue import SessionOpened
from tests.events.conftest import Store, create_project, created, new, tagged

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
