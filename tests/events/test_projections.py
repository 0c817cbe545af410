"""Every project type's gestures fold into the state a labeler would expect."""

import msgspec
import numpy as np
import pytest

from events.annotation import (
    ActionRedone,
    ActionUndone,
    AllRegionsDeleted,
    BoxDrawn,
    BoxMoved,
    BoxResized,
    BrushErased,
    BrushPainted,
    DraftDiscarded,
    PolygonDrawn,
    PolygonMoved,
    PolygonPointAdded,
    PolygonPointMoved,
    PolygonPointRemoved,
    PrelabelApplied,
    RegionDeleted,
    RegionLockToggled,
    RegionRetagged,
    SpansCleared,
    SpansRetagged,
    SpanTagged,
    TagApplied,
    TagCleared,
)
from events.assist import PrelabelProposed, ProposedBox
from events.projections.segmentation import draft_mask, tag_values
from events.projections.workspace import restore, snapshot
from tests.events.folding import Log

MODEL = "cd" * 32


def draft(log: Log, item: str = "a", labeler: str = "ann"):  # type: ignore[no-untyped-def]
    return log.state.annotations[item].draft_of(labeler)


@pytest.mark.parametrize("project_type", ["image_multiclass", "text_multiclass"])
def test_multiclass_tag_replaces_and_submit_counts(project_type: str) -> None:
    log = Log(project_type)
    log.items("a", "b")
    log.on("a", TagApplied(tag="cat"))
    log.on("a", TagApplied(tag="dog"))
    assert draft(log).tags == ["dog"]
    log.on("b", TagApplied(tag="cat"))
    log.on("b", TagCleared(tag="cat"))
    assert draft(log, "b").tags == []
    log.submit("ann", "a")
    work = log.state.annotations["a"].work["ann"]
    assert work.submitted is not None
    assert work.submitted.tags == ["dog"]
    progress = log.state.progress
    assert (progress.items, progress.done, progress.submissions) == (2, 1, 1)
    assert progress.by_tag == {"dog": 1}
    assert progress.by_labeler == {"ann": 1}


@pytest.mark.parametrize("project_type", ["image_multilabel", "text_multilabel"])
def test_multilabel_tags_add_and_clear_one_by_one(project_type: str) -> None:
    log = Log(project_type)
    log.items("a")
    for tag in ["cat", "dog", "cat", "bird"]:
        log.on("a", TagApplied(tag=tag))
    log.on("a", TagCleared(tag="dog"))
    assert draft(log).tags == ["cat", "bird"]


def test_boxes_draw_move_resize_retag_delete_and_lock() -> None:
    log = Log("bounding_boxes")
    log.items("a")
    log.on("a", BoxDrawn(region_id="r1", tag="cat", x=1, y=2, w=3, h=4))
    log.on("a", BoxDrawn(region_id="r2", tag="dog", x=5, y=5, w=2, h=2))
    log.on("a", BoxMoved(region_id="r1", x=10, y=20))
    log.on("a", BoxResized(region_id="r1", x=9, y=19, w=6, h=7))
    log.on("a", RegionRetagged(region_id="r1", tag="bird"))
    r1 = draft(log).regions["r1"]
    assert (r1.x, r1.y, r1.w, r1.h, r1.tag) == (9, 19, 6, 7, "bird")
    log.on("a", RegionLockToggled(region_id="r1", locked=True))
    log.on("a", AllRegionsDeleted())
    assert list(draft(log).regions) == ["r1"], "a locked region survives delete-all"
    log.on("a", RegionLockToggled(region_id="r1", locked=False))
    log.on("a", RegionDeleted(region_id="r1"))
    assert draft(log).regions == {}


def test_gestures_on_missing_regions_change_nothing() -> None:
    log = Log("bounding_boxes")
    log.items("a")
    log.on("a", BoxMoved(region_id="ghost", x=1, y=1))
    log.on("a", PolygonPointAdded(region_id="ghost", index=0, point=(1, 1)))
    assert draft(log).regions == {}


def test_polygon_points_added_removed_moved_and_polygon_moved() -> None:
    log = Log("polygons")
    log.items("a")
    log.on("a", PolygonDrawn(region_id="p", tag="cat", points=[(0, 0), (4, 0), (4, 4)]))
    log.on("a", PolygonPointAdded(region_id="p", index=3, point=(0, 4)))
    log.on("a", PolygonPointMoved(region_id="p", index=1, point=(5, 0)))
    assert draft(log).regions["p"].points == [(0, 0), (5, 0), (4, 4), (0, 4)]
    log.on("a", PolygonPointRemoved(region_id="p", index=2))
    log.on("a", PolygonPointRemoved(region_id="p", index=0))  # would leave 2: refused by the fold
    assert draft(log).regions["p"].points == [(0, 0), (5, 0), (0, 4)]
    log.on("a", PolygonMoved(region_id="p", dx=2, dy=-1))
    assert draft(log).regions["p"].points == [(2, 0), (7, 0), (2, 3)]


def test_undo_and_redo_are_history() -> None:
    log = Log("bounding_boxes")
    log.items("a")
    log.on("a", BoxDrawn(region_id="r", tag="cat", x=1, y=1, w=2, h=2))
    moved = log.on("a", BoxMoved(region_id="r", x=5, y=5))
    log.on("a", ActionUndone(target=moved))
    assert (draft(log).regions["r"].x, draft(log).regions["r"].y) == (1, 1)
    log.on("a", ActionRedone(target=moved))
    assert draft(log).regions["r"].x == 5
    undone = log.on("a", ActionUndone(target=moved))
    assert undone
    log.on("a", BoxResized(region_id="r", x=0, y=0, w=9, h=9))
    log.on("a", ActionRedone(target=moved))  # a new gesture cleared the redo stack
    region = draft(log).regions["r"]
    assert (region.x, region.w) == (0, 9)


def test_undo_is_per_labeler() -> None:
    log = Log("bounding_boxes", overlap=2)
    log.items("a")
    mine = log.on("a", BoxDrawn(region_id="r", tag="cat", x=1, y=1, w=2, h=2), labeler="ann")
    log.on("a", BoxDrawn(region_id="r", tag="dog", x=3, y=3, w=2, h=2), labeler="bob")
    log.on("a", ActionUndone(target=mine), labeler="bob")  # not bob's gesture: nothing happens
    assert draft(log, labeler="ann").regions["r"].tag == "cat"
    assert draft(log, labeler="bob").regions["r"].tag == "dog"


def test_draft_discarded_empties_the_draft_but_not_the_history() -> None:
    log = Log("image_multiclass")
    log.items("a")
    log.on("a", TagApplied(tag="cat"))
    log.on("a", DraftDiscarded(reason="layout_switch"))
    assert draft(log).is_empty()
    assert len(log.events) == 5


def test_semantic_mask_from_strokes_erasures_and_polygons() -> None:
    log = Log("semantic_segmentation")
    log.items("a")
    log.on(
        "a", BrushPainted(stroke_id="s1", tag="cat", radius=1.0, points=[(1.5, 1.5), (5.5, 1.5)])
    )
    log.on("a", BrushErased(stroke_id="s2", radius=0.5, points=[(3.5, 1.5)]))
    log.on("a", PolygonDrawn(region_id="p", tag="dog", points=[(6, 6), (9, 6), (9, 9), (6, 9)]))
    log.on("a", BrushPainted(stroke_id="s3", tag="bird", radius=0.5, points=[(0.5, 9.5)]))
    mask = draft_mask(draft(log), 10, 10, tag_values(log.state.tags))
    expected = np.array(
        [
            [int(c) for c in row]
            for row in [
                "0111110000",
                "1110111000",
                "0111110000",
                "0000000000",
                "0000000000",
                "0000000000",
                "0000002220",
                "0000002220",
                "0000002220",
                "3000000000",
            ]
        ],
        dtype=np.uint16,
    )
    assert mask.tolist() == expected.tolist()


def test_ner_spans_tagged_retagged_and_cleared() -> None:
    log = Log("ner")
    log.items("a", kind="text", text="Ada Lovelace met Charles Babbage in London")
    log.on("a", SpanTagged(span_id="s1", tag="cat", start=0, end=12))
    log.on("a", SpanTagged(span_id="s2", tag="cat", start=17, end=32))
    log.on("a", SpanTagged(span_id="s3", tag="dog", start=36, end=42))
    log.on("a", SpansRetagged(span_ids=["s1", "s2"], tag="bird"))
    log.on("a", SpansCleared(span_ids=["s3"]))
    spans = draft(log).spans
    assert [(s.start, s.end, s.tag) for s in spans.values()] == [(0, 12, "bird"), (17, 32, "bird")]
    log.submit("ann", "a")
    assert log.state.progress.by_tag == {"bird": 2}


def proposal() -> PrelabelProposed:
    return PrelabelProposed(
        round=1,
        model_hash=MODEL,
        confidence=0.97,
        boxes=[ProposedBox(tag="cat", x=1, y=1, w=3, h=3, score=0.97)],
    )


def test_prelabel_taken_unchanged_is_accepted() -> None:
    log = Log("bounding_boxes")
    log.items("a")
    proposed = log.add("item-p-a", proposal(), actor="assistant")
    log.on("a", PrelabelApplied(proposal_event_id=proposed))
    assert [r.tag for r in draft(log).regions.values()] == ["cat"]
    log.submit("ann", "a")
    assert log.state.annotations["a"].work["ann"].prelabel_outcome == "accepted"
    assert log.state.progress.prelabels_accepted == 1


def test_prelabel_corrected_is_counted_as_corrected() -> None:
    log = Log("bounding_boxes")
    log.items("a")
    proposed = log.add("item-p-a", proposal(), actor="assistant")
    log.on("a", PrelabelApplied(proposal_event_id=proposed))
    region_id = next(iter(draft(log).regions))
    log.on("a", RegionRetagged(region_id=region_id, tag="dog"))
    log.submit("ann", "a")
    assert log.state.progress.prelabels_corrected == 1


def test_overlap_item_is_done_after_k_different_submits() -> None:
    log = Log("image_multiclass", overlap=2)
    log.items("a")
    log.on("a", TagApplied(tag="cat"), labeler="ann")
    log.submit("ann", "a")
    assert log.state.progress.done == 0
    assert log.state.queue.available_for("ann", 2, 9) == []
    assert log.state.queue.available_for("bob", 2, 9) == ["a"]
    log.on("a", TagApplied(tag="dog"), labeler="bob")
    log.submit("bob", "a")
    assert log.state.progress.done == 1
    assert log.state.queue.available_for("cy", 2, 9) == []
    assert log.state.progress.by_tag == {"cat": 1, "dog": 1}


def test_snapshot_restores_to_the_same_bytes_and_drafts() -> None:
    log = Log("bounding_boxes")
    log.items("a")
    log.on("a", BoxDrawn(region_id="r", tag="cat", x=1, y=1, w=2, h=2))
    moved = log.on("a", BoxMoved(region_id="r", x=4, y=4))
    log.on("a", ActionUndone(target=moved))
    data = snapshot(log.workspace)
    copy = restore(data)
    assert snapshot(copy) == data
    assert copy.projects["p"].annotations["a"].draft_of("ann").regions["r"].x == 1


def test_each_frame_has_its_own_regions_strokes_and_mask() -> None:
    log = Log("semantic_segmentation")
    log.items("a")
    log.on("a", BrushPainted(stroke_id="s1", tag="cat", radius=0.5, points=[(0.5, 0.5)]))
    log.on("a", BrushPainted(stroke_id="s2", tag="dog", radius=0.5, points=[(2.5, 0.5)], frame=6))
    log.on("a", BrushErased(stroke_id="s3", radius=0.5, points=[(0.5, 0.5)], frame=6))
    square = [(0.0, 2.0), (2.0, 2.0), (2.0, 4.0), (0.0, 4.0)]
    log.on("a", PolygonDrawn(region_id="p", tag="bird", points=square, frame=6))
    drawn = log.on("a", BoxDrawn(region_id="b", tag="cat", x=1, y=1, w=1, h=1, frame=2))
    d = draft(log)
    assert d.frames() == [0, 2, 6]
    assert {r.region_id: r.frame for r in d.regions.values()} == {"p": 6, "b": 2}
    assert [s.frame for s in d.strokes] == [0, 6, 6]
    values = tag_values(log.state.tags)
    # The frame-6 eraser leaves frame 0's stroke alone; frame 6 gets its stroke and polygon.
    assert draft_mask(d, 4, 4, values).tolist() == [[1, 0, 0, 0]] + [[0] * 4] * 3
    assert draft_mask(d, 4, 4, values, frame=6).tolist() == [
        [0, 0, 2, 0],
        [0, 0, 0, 0],
        [3, 3, 0, 0],
        [3, 3, 0, 0],
    ]
    assert not draft_mask(d, 4, 4, values, frame=2).any()
    log.on("a", ActionUndone(target=drawn))
    assert draft(log).frames() == [0, 6]


def test_a_checkpoint_written_before_frames_restores_to_frame_0() -> None:
    log = Log("semantic_segmentation")
    log.items("a")
    log.on("a", BrushPainted(stroke_id="s1", tag="cat", radius=0.5, points=[(0.5, 0.5)]))
    log.on("a", PolygonDrawn(region_id="p", tag="dog", points=[(0, 0), (2, 0), (2, 2)]))
    log.submit("ann", "a")
    today = snapshot(log.workspace)

    def without_frames(value: object) -> object:
        if isinstance(value, dict):
            return {k: without_frames(v) for k, v in value.items() if k != "frame"}
        if isinstance(value, list):
            return [without_frames(v) for v in value]
        return value

    older = msgspec.msgpack.encode(without_frames(msgspec.msgpack.decode(today)))
    assert older != today
    assert snapshot(restore(older)) == today
