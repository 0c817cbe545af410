"""A read model rebuilt from the log equals the one kept up to date event by event."""

import asyncio
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.annotation import (
    ActionRedone,
    ActionUndone,
    BoxDrawn,
    BoxMoved,
    BrushPainted,
    PolygonDrawn,
    PolygonPointAdded,
    RegionDeleted,
    RegionLockToggled,
    SpanTagged,
    TagApplied,
)
from events.codec import encode
from events.envelope import NewEvent
from events.memory_store import MemoryStore
from events.project import ImportedItem, ItemsImported, ProjectCreated, TagsDefined, TagSpec
from events.projections.replay import fold_log, rebuild, workspace_as_of
from events.projections.workspace import Workspace, evolve, snapshot
from events.queue import PageAssigned, PageSubmitted, SessionOpened
from events.sqlite_store import SQLiteStore
from events.store import EventStore
from events.vocabulary import AnyEvent

ITEMS = ["a", "b", "c"]
LABELERS = ["ann", "bob"]
TAGS = ["cat", "dog"]
coord = st.floats(min_value=0, max_value=50, allow_nan=False).map(lambda v: round(v, 2))


def drafts(workspace: Workspace) -> bytes:
    """The derived drafts, which snapshots leave out: a restored model must refold the same."""
    return encode(
        {
            item: {labeler: state.draft_of(labeler) for labeler in state.work}
            for item, state in workspace.projects["p"].annotations.items()
        }
    )


async def setup(store: EventStore, project_type: str) -> None:
    await store.append(
        "project-p",
        [
            NewEvent(
                event_id="c",
                event=ProjectCreated(project_id="p", name="P", project_type=project_type),
            ),  # type: ignore[arg-type]
            NewEvent(
                event_id="t",
                event=TagsDefined(tags=[TagSpec(name=t, colour="#000000") for t in TAGS]),
            ),
            NewEvent(
                event_id="i",
                event=ItemsImported(
                    items=[
                        ImportedItem(
                            item_id=i,
                            kind="image",
                            content_hash="0" * 64,
                            size_bytes=1,
                            width=64,
                            height=64,
                        )
                        for i in ITEMS
                    ]
                ),
            ),
        ],
        0,
    )


def gesture(
    data: st.DataObject, regions: list[str], mine: list[str], undone: list[str], n: int
) -> AnyEvent:
    choice = data.draw(st.integers(0, 9))
    tag = data.draw(st.sampled_from(TAGS))
    if choice == 0 and mine:
        return ActionUndone(target=data.draw(st.sampled_from(mine)))
    if choice == 1 and undone:
        return ActionRedone(target=data.draw(st.sampled_from(undone)))
    if choice == 2 and regions:
        return BoxMoved(
            region_id=data.draw(st.sampled_from(regions)), x=data.draw(coord), y=data.draw(coord)
        )
    if choice == 3 and regions:
        return RegionDeleted(region_id=data.draw(st.sampled_from(regions)))
    if choice == 4 and regions:
        return RegionLockToggled(
            region_id=data.draw(st.sampled_from(regions)), locked=data.draw(st.booleans())
        )
    if choice == 5:
        points = data.draw(st.lists(st.tuples(coord, coord), min_size=3, max_size=5))
        regions.append(f"g{n}")
        return PolygonDrawn(region_id=f"g{n}", tag=tag, points=points)
    if choice == 6 and regions:
        return PolygonPointAdded(
            region_id=data.draw(st.sampled_from(regions)),
            index=data.draw(st.integers(0, 5)),
            point=(1.0, 2.0),
        )
    if choice == 7:
        return BrushPainted(
            stroke_id=f"s{n}", tag=tag, radius=2.5, points=[(data.draw(coord), data.draw(coord))]
        )
    if choice == 8:
        start = data.draw(st.integers(0, 30))
        return SpanTagged(
            span_id=f"t{n}", tag=tag, start=start, end=start + data.draw(st.integers(1, 5))
        )
    if choice == 9:
        return TagApplied(tag=tag)
    regions.append(f"g{n}")
    return BoxDrawn(
        region_id=f"g{n}", tag=tag, x=data.draw(coord), y=data.draw(coord), w=3.0, h=4.0
    )


async def scenario(store: EventStore, data: st.DataObject, tmp: Path) -> None:
    project_type = data.draw(
        st.sampled_from(["bounding_boxes", "image_multilabel", "semantic_segmentation"])
    )
    await setup(store, project_type)
    live = Workspace()
    for recorded in await store.read_all(0):
        evolve(live, recorded)
    snapshots: dict[int, bytes] = {live.seq: snapshot(live)}
    regions: dict[str, list[str]] = {i: [] for i in ITEMS}
    done: dict[tuple[str, str], list[str]] = {}
    undone: dict[tuple[str, str], list[str]] = {}
    versions: dict[str, int] = {}
    for n in range(data.draw(st.integers(1, 40))):
        item = data.draw(st.sampled_from(ITEMS))
        labeler = data.draw(st.sampled_from(LABELERS))
        if data.draw(st.integers(0, 12)) == 0:
            stream, session = "queue-p", f"q{n}"
            events: list[AnyEvent] = [
                SessionOpened(session_id=session, user=labeler, lease_until=2e9),
                PageAssigned(session_id=session, labeler=labeler, items=[item], lease_until=2e9),
                PageSubmitted(session_id=session, labeler=labeler, items=[item]),
            ]
        else:
            key = (item, labeler)
            stream = f"item-p-{item}"
            event = gesture(data, regions[item], done.get(key, []), undone.get(key, []), n)
            events = [event]
            if isinstance(event, ActionUndone):
                done[key].remove(event.target)
                undone.setdefault(key, []).append(event.target)
            elif isinstance(event, ActionRedone):
                undone[key].remove(event.target)
                done[key].append(event.target)
            else:
                done.setdefault(key, []).append(f"x{n}-0")
                undone.pop(key, None)
        news = [
            NewEvent(event_id=f"x{n}-{k}", event=e, actor=labeler) for k, e in enumerate(events)
        ]
        recorded = await store.append(stream, news, versions.get(stream, 0))
        versions[stream] = recorded[-1].version
        for r in recorded:
            evolve(live, r)
        snapshots[live.seq] = snapshot(live)

    rebuilt = await rebuild(store, store, fresh=True)  # type: ignore[arg-type]
    assert snapshot(rebuilt) == snapshots[live.seq]

    # An interrupted rebuild resumes from its checkpoint and ends in the same bytes.
    stop = data.draw(st.sampled_from(sorted(snapshots)))
    partial = await fold_log(store, until=stop)
    assert snapshot(partial) == snapshots[stop]
    await store.save_checkpoint("workspace", partial.seq, snapshot(partial))  # type: ignore[attr-defined]
    resumed = await rebuild(store, store)  # type: ignore[arg-type]
    assert snapshot(resumed) == snapshots[live.seq]
    assert drafts(resumed) == drafts(live) == drafts(rebuilt)

    # Time travel gives the state as it was.
    past = data.draw(st.sampled_from(sorted(snapshots)))
    assert snapshot(await workspace_as_of(store, past)) == snapshots[past]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_rebuild_equals_incremental_on_memory(data: st.DataObject, tmp_path: Path) -> None:
    async def run() -> None:
        store = await MemoryStore.open()
        try:
            await scenario(store, data, tmp_path)
        finally:
            await store.close()

    asyncio.run(run())


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_rebuild_equals_incremental_on_sqlite(data: st.DataObject, tmp_path: Path) -> None:
    path = tmp_path / f"log-{id(data)}.db"

    async def run() -> None:
        store = await SQLiteStore.open(path)
        try:
            await scenario(store, data, tmp_path)
        finally:
            await store.close()

    asyncio.run(run())
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
