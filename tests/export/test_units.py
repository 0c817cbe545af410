"""The parts of an export on their own: the streaming zip, majority votes, the live source's
fall-back to a replay for items that moved on, and the sink's chunking."""

import io
import zipfile

import numpy as np

from events.annotation import BoxDrawn
from events.envelope import NewEvent
from events.memory_store import MemoryStore
from events.project import ImportedItem, ItemsImported, ProjectCreated, TagsDefined, TagSpec
from events.projections.drafts import Draft, Region, Span, Stroke
from events.projections.replay import fold_log
from events.projections.workspace import ProjectState
from events.queue import PageAssigned, PageSubmitted
from server.export.model import ExportOptions, Label
from server.export.overlap import majority
from server.export.run import export_chunks, pick_format
from server.export.sink import Sink
from server.export.source import LiveSource, open_source
from server.export.zipstream import ZipStream


def read_zip(data: bytes) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    return archive


def test_zip_stream_is_read_by_zipfile() -> None:
    sink = Sink(chunk=1 << 30)
    stream = ZipStream(sink, moment=1_700_000_000.0)
    stream.add("a/Zoë café.txt", "héllo".encode())
    stream.add("b.bin", bytes(range(256)) * 100)
    stream.add("empty", b"")
    assert stream.taken("b.bin")
    assert not stream.taken("c.bin")
    for _ in stream.close():
        pass
    archive = read_zip(sink.take())
    assert archive.namelist() == ["a/Zoë café.txt", "b.bin", "empty"]
    assert archive.read("a/Zoë café.txt") == "héllo".encode()
    assert archive.read("b.bin") == bytes(range(256)) * 100
    assert archive.getinfo("b.bin").compress_type == zipfile.ZIP_DEFLATED
    assert archive.getinfo("a/Zoë café.txt").date_time == (2023, 11, 14, 22, 13, 20)


def test_zip_stream_of_more_than_65535_members_uses_zip64() -> None:
    sink = Sink()
    stream = ZipStream(sink)
    chunks: list[bytes] = []
    for n in range(70_000):
        stream.add(f"labels/{n}.txt", b"0 0.5 0.5 0.1 0.1\n")
        chunks.extend(sink.ready())
    for _ in stream.close():
        chunks.extend(sink.ready())
    chunks.append(sink.take())
    archive = read_zip(b"".join(chunks))
    assert len(archive.namelist()) == 70_000
    assert archive.read("labels/69999.txt") == b"0 0.5 0.5 0.1 0.1\n"


def voters(*drafts: Draft) -> list[Label]:
    """Submitted labels by a, b, c... in that order."""
    return [
        Label("submitted", ("abcdef"[i],), draft, seq=i, at=float(i))
        for i, draft in enumerate(drafts)
    ]


def test_majority_of_spans_tags_and_masks() -> None:
    spans = [
        Draft(spans={"a": Span(span_id="a", tag="PER", start=0, end=3)}),
        Draft(
            spans={
                "x": Span(span_id="x", tag="PER", start=0, end=3),
                "y": Span(span_id="y", tag="LOC", start=5, end=9),
            }
        ),
        Draft(spans={"z": Span(span_id="z", tag="LOC", start=5, end=8)}),
    ]
    merged = majority(voters(*spans), "ner", (0, 0), {})
    assert merged is not None
    assert [(s.tag, s.start, s.end) for s in merged.draft.spans.values()] == [("PER", 0, 3)]
    assert merged.labelers == ("a", "b", "c")
    assert merged.seq == 2

    tags = [Draft(tags=["cat", "dog"]), Draft(tags=["dog"]), Draft(tags=["cat"])]
    merged = majority(
        voters(*tags),
        "image_multilabel",
        (0, 0),
        {},
    )
    assert merged is not None
    assert merged.draft.tags == ["cat", "dog"]
    split = [Draft(tags=["cat"]), Draft(tags=["dog"])]
    assert (
        majority(
            voters(*split),
            "image_multiclass",
            (0, 0),
            {},
        )
        is None
    )

    values = {"cat": 1, "dog": 2}
    paint = [
        Draft(
            strokes=[Stroke(stroke_id="s", tag="cat", radius=0.5, points=[(0.5, 0.5), (2.5, 0.5)])]
        ),
        Draft(
            strokes=[Stroke(stroke_id="s", tag="cat", radius=0.5, points=[(1.5, 0.5), (3.5, 0.5)])]
        ),
        Draft(
            regions={
                "p": Region(
                    region_id="p",
                    kind="polygon",
                    tag="dog",
                    points=[(0, 0), (4, 0), (4, 1), (0, 1)],
                )
            }
        ),
    ]
    merged = majority(
        voters(*paint),
        "semantic_segmentation",
        (4, 2),
        values,
    )
    assert merged is not None
    assert merged.mask is not None
    # Columns 1 and 2 of row 0 are cat for two of three; 0 and 3 have no majority.
    assert merged.mask.tolist() == [[0, 1, 1, 0], [0, 0, 0, 0]]
    assert np.array_equal(merged.mask, merged.mask.astype(np.uint16))


async def test_live_source_replays_items_that_moved_past_its_seq() -> None:
    store = await MemoryStore.open()
    count = 0

    def new(event: object, actor: str = "ann") -> NewEvent:
        nonlocal count
        count += 1
        return NewEvent(event_id=f"e{count}", event=event, actor=actor, session="s")  # type: ignore[arg-type]

    item = ImportedItem(
        item_id="i1",
        kind="image",
        content_hash="a" * 64,
        size_bytes=1,
        name="x.png",
        width=10,
        height=10,
    )
    await store.append(
        "project-p",
        [
            new(ProjectCreated(project_id="p", name="P", project_type="bounding_boxes")),
            new(TagsDefined(tags=[TagSpec(name="cat", colour="#112233")])),
            new(ItemsImported(items=[item])),
        ],
        0,
    )
    await store.append(
        "queue-p",
        [new(PageAssigned(session_id="s", labeler="ann", items=["i1"], lease_until=1e10))],
        0,
    )
    await store.append(
        "item-p-i1", [new(BoxDrawn(region_id="r", tag="cat", x=1, y=1, w=2, h=2))], 0
    )
    await store.append(
        "queue-p", [new(PageSubmitted(session_id="s", labeler="ann", items=["i1"]))], 1
    )
    then = await store.last_seq()
    await store.append(
        "item-p-i1", [new(BoxDrawn(region_id="q", tag="cat", x=5, y=5, w=2, h=2))], 1
    )
    await store.append(
        "queue-p", [new(PageSubmitted(session_id="s", labeler="ann", items=["i1"]))], 2
    )
    workspace = await fold_log(store)
    fmt = pick_format("jsonl", "bounding_boxes")
    project = workspace.projects["p"]
    # As if the export had started at `then` and the model had moved on since.
    live = LiveSource(store, "p", project, then, None, ExportOptions())
    at_then = b"".join([c async for c in export_chunks(live, fmt)])
    replayed = await open_source(store, "p", ExportOptions(), live=workspace, as_of=then)
    assert at_then == b"".join([c async for c in export_chunks(replayed, fmt)])
    assert at_then.count(b'"tag":"cat"') == 1
    now = await open_source(store, "p", ExportOptions(), live=workspace)
    assert b"".join([c async for c in export_chunks(now, fmt)]).count(b'"tag":"cat"') == 2
    await store.close()


def test_sink_hands_out_chunks_of_at_least_its_size() -> None:
    sink = Sink(chunk=10)
    sink.write(b"12345")
    assert list(sink.ready()) == []
    sink.write(b"678901")
    assert list(sink.ready()) == [b"12345678901"]
    assert sink.take() == b""
    assert sink.written == 11


async def test_live_source_goes_on_when_items_are_imported_while_it_streams() -> None:
    store = await MemoryStore.open()
    project = ProjectState(
        settings=ProjectCreated(project_id="p", name="P", project_type="image_multiclass")
    )

    def image(n: int) -> ImportedItem:
        return ImportedItem(
            item_id=f"i{n}", kind="image", content_hash=f"{n:064x}", size_bytes=1, width=1, height=1
        )

    for n in range(3):
        project.items[f"i{n}"] = image(n)
    source = LiveSource(store, "p", project, 0, None, ExportOptions())
    seen = []
    async for item, _ in source.items():
        seen.append(item.item_id)
        if item.item_id == "i0":
            project.items["i3"] = image(3)  # folded in while the export streams
    assert seen == ["i0", "i1", "i2"]
    await store.close()
