"""Queue decisions taken together in one batch: concurrent page requests, submits and the
reaper, on the real write path (Commands over a memory store and the live model)."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from events.annotation import TagApplied
from events.envelope import IncomingEvent
from events.memory_store import MemoryStore
from events.project import ImportedItem, ItemsImported, ProjectCreated, TagsDefined, TagSpec
from events.queue import PageAssigned, PageSubmitted
from server.commands import Commands
from server.errors import LeaseLost, Unprocessable
from server.live import LiveModel

HASH = "ab" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def commands() -> AsyncIterator[Commands]:
    store = await MemoryStore.open()
    live = LiveModel(store, store)
    await live.start()
    made = Commands(store, live, Clock())
    await made.project_events(
        "p",
        "admin",
        "s",
        lambda _: [
            ProjectCreated(project_id="p", name="P", project_type="text_multiclass", overlap=2),
            TagsDefined(tags=[TagSpec(name="a", colour="#112233")]),
            ItemsImported(
                items=[
                    ImportedItem(item_id=f"i{n:03d}", kind="text", content_hash=HASH, size_bytes=1)
                    for n in range(100)
                ]
            ),
        ],
    )
    yield made
    await live.stop()
    await store.close()


def holders(commands: Commands) -> dict[str, list[str]]:
    """Who holds each item now, by session."""
    held: dict[str, list[str]] = {}
    for session_id, session in commands.live.project("p").queue.sessions.items():
        for item in session.page if session.open else []:
            held.setdefault(item, []).append(session_id)
    return held


async def test_concurrent_page_requests_never_exceed_the_overlap(commands: Commands) -> None:
    names = [f"lab{n}" for n in range(20)]

    pages = await asyncio.gather(
        *(commands.next_page("p", name, f"s-{name}", page_size=5) for name in names),
        *(commands.next_page("p", name, f"t-{name}", page_size=5) for name in names[:5]),
    )

    assert all(len(page) == 5 for page in pages[:20])
    assert all(len(held) <= 2 for held in holders(commands).values())
    for name, page, second in zip(names[:5], pages[:5], pages[20:], strict=True):
        assert not set(page) & set(second), f"{name} got an item on two of its pages"
    # Many decisions went into few appends (a commit stamps all of its events alike).
    assigned = [
        r for r in await commands.store.read_all(0, 1000) if isinstance(r.event, PageAssigned)
    ]
    assert len(assigned) == 25
    assert len({r.at for r in assigned}) <= 5


async def test_a_session_asking_twice_at_once_gets_one_page(commands: Commands) -> None:
    first, second = await asyncio.gather(
        commands.next_page("p", "ann", "s1", page_size=3),
        commands.next_page("p", "ann", "s1", page_size=3),
    )

    assert first == second
    assert holders(commands) == {item: ["s1"] for item in first}


async def test_a_refused_submit_leaves_the_rest_of_its_batch_alone(commands: Commands) -> None:
    pages = {
        name: await commands.next_page("p", name, f"s-{name}", page_size=2)
        for name in ("ann", "bob", "cy")
    }
    for name in ("ann", "cy"):
        for item in pages[name]:
            await commands.append_gestures(
                "p",
                item,
                name,
                f"s-{name}",
                [IncomingEvent(event_id=f"{name}-{item}", event=TagApplied(tag="a"))],
            )

    results = await asyncio.gather(
        *(commands.submit("p", name, f"s-{name}", None) for name in ("ann", "bob", "cy")),
        commands.skip("p", "dan", "s-dan", "i000"),
        return_exceptions=True,
    )

    assert isinstance(results[1], Unprocessable)  # bob tagged nothing
    assert isinstance(results[3], LeaseLost)  # dan holds no page
    submitted = {
        r.event.labeler: r.event.items
        for r in await commands.store.read_all(0, 1000)
        if isinstance(r.event, PageSubmitted)
    }
    assert submitted == {"ann": pages["ann"], "cy": pages["cy"]}
    assert holders(commands) == {item: ["s-bob"] for item in pages["bob"]}


async def test_the_reaper_decides_alone_among_page_requests(commands: Commands) -> None:
    clock = commands.clock
    assert isinstance(clock, Clock)
    await commands.next_page("p", "ann", "s-ann", page_size=4)
    clock.now += 10_000  # ann's lease lapses

    pages = await asyncio.gather(
        commands.next_page("p", "bob", "s-bob", page_size=4),
        commands.expire_leases(),
        commands.next_page("p", "cy", "s-cy", page_size=4),
    )

    queue = commands.live.project("p").queue
    assert not queue.sessions["s-ann"].open
    assert queue.sessions["s-bob"].open
    assert queue.sessions["s-cy"].open
    assert len(pages[0]) == len(pages[2]) == 4
    assert all(len(held) <= 2 for held in holders(commands).values())


async def test_no_one_is_told_the_queue_is_empty_while_a_batch_frees_items(
    commands: Commands,
) -> None:
    await commands.project_events(
        "q",
        "admin",
        "s",
        lambda _: [
            ProjectCreated(project_id="q", name="Q", project_type="text_multiclass"),
            TagsDefined(tags=[TagSpec(name="a", colour="#112233")]),
            ItemsImported(
                items=[
                    ImportedItem(item_id=i, kind="text", content_hash=HASH, size_bytes=1)
                    for i in ("x", "y")
                ]
            ),
        ],
    )
    assert await commands.next_page("q", "ann", "s-ann", page_size=2) == ["x", "y"]

    # cy's request leads a batch of its own; the skip and bob's request wait and go together.
    await asyncio.gather(
        commands.next_page("q", "cy", "s-cy", page_size=2),
        commands.skip("q", "ann", "s-ann", "x"),
        commands.next_page("q", "bob", "s-bob", page_size=2),
    )

    queue = commands.live.project("q").queue
    assert queue.page_of("s-bob") == ["x"]
    assert "bob" not in queue.exhausted
