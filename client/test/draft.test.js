import { test } from "node:test";
import assert from "node:assert/strict";
import * as d from "../js/draft.js";
import { draftMask } from "../js/raster.js";

const ev = (type, fields = {}) => ({ type: `annotation.${type}`, ...fields });

test("gestures change a draft as the server's fold does", () => {
  const draft = d.emptyDraft();
  d.applyGesture(draft, ev("box_drawn", { region_id: "a", tag: "cat", x: 1, y: 2, w: 3, h: 4 }), false);
  d.applyGesture(draft, ev("box_moved", { region_id: "a", x: 5, y: 6 }), false);
  d.applyGesture(draft, ev("polygon_drawn", { region_id: "p", tag: null, points: [[0, 0], [4, 0], [0, 4]] }), false);
  d.applyGesture(draft, ev("polygon_point_added", { region_id: "p", index: 3, point: [1, 1] }), false);
  d.applyGesture(draft, ev("polygon_point_removed", { region_id: "p", index: 0 }), false);
  d.applyGesture(draft, ev("polygon_point_removed", { region_id: "p", index: 0 }), false); // keeps 3
  d.applyGesture(draft, ev("polygon_moved", { region_id: "p", dx: -10, dy: 1 }), false);
  d.applyGesture(draft, ev("region_lock_toggled", { region_id: "a", locked: true }), false);
  d.applyGesture(draft, ev("all_regions_deleted"), false);
  assert.deepEqual([...draft.regions.keys()], ["a"]);
  assert.equal(draft.regions.get("a").x, 5);
  assert.equal(d.incompleteReason("bounding_boxes", draft), null);
});

test("undo refolds without the target, redo puts it back, discard empties", () => {
  const fold = new d.ItemFold(true);
  fold.apply("1", ev("tag_applied", { tag: "a" }), "ann");
  fold.apply("2", ev("tag_applied", { tag: "b" }), "ann");
  fold.apply("3", ev("tag_applied", { tag: "x" }), "bob");
  assert.deepEqual(fold.draftOf("ann").tags, ["a", "b"]);
  fold.apply("4", ev("undone", { target: "2" }), "ann");
  assert.deepEqual(fold.draftOf("ann").tags, ["a"]);
  fold.apply("5", ev("redone", { target: "2" }), "ann");
  assert.deepEqual(fold.draftOf("ann").tags, ["a", "b"]);
  fold.apply("6", ev("draft_discarded", { reason: "layout_switch" }), "ann");
  assert.deepEqual(fold.draftOf("ann").tags, []);
  assert.deepEqual(fold.draftOf("bob").tags, ["x"]);
});

test("a proposal becomes the draft when applied", () => {
  const fold = new d.ItemFold(false);
  fold.apply("p1", { type: "assist.prelabel_proposed", tags: ["cat", "dog"], boxes: [{ tag: "cat", x: 1, y: 1, w: 2, h: 2, score: 0.9 }] }, "assistant");
  fold.apply("7", ev("prelabel_applied", { proposal_event_id: "p1" }), "ann");
  const draft = fold.draftOf("ann");
  assert.deepEqual(draft.tags, ["cat"]);
  assert.deepEqual([...draft.regions.keys()], ["p1:b0"]);
  assert.equal(draft.prelabel, "p1");
});

test("submit rules per type", () => {
  const draft = d.emptyDraft();
  assert.match(d.incompleteReason("image_multiclass", draft), /exactly one/);
  assert.match(d.incompleteReason("text_multilabel", draft), /at least one/);
  draft.tags = ["a", "b"];
  assert.match(d.incompleteReason("text_multiclass", draft), /has 2/);
  assert.equal(d.incompleteReason("image_multilabel", draft), null);
  draft.regions.set("r", { region_id: "r", kind: "box", tag: null, points: [] });
  assert.match(d.incompleteReason("bounding_boxes", draft), /without a tag/);
  assert.equal(d.incompleteReason("ner", d.emptyDraft()), null);
});

test("classification: apply to the selection, clear when all carry it, none selected is an error", () => {
  const drafts = new Map([["a", d.emptyDraft()], ["b", d.emptyDraft()]]);
  drafts.get("a").tags = ["cat"];
  assert.match(d.classifyGestures(drafts, [], "cat", true).error, /Select/);
  const some = d.classifyGestures(drafts, ["a", "b"], "cat", true);
  assert.equal(some.cleared, false);
  assert.deepEqual(some.gestures.map((g) => g.item), ["b"]);
  drafts.get("b").tags = ["cat"];
  const all = d.classifyGestures(drafts, ["a", "b"], "cat", true);
  assert.equal(all.cleared, true);
  assert.deepEqual(all.gestures.map((g) => g.event.type), ["annotation.tag_cleared", "annotation.tag_cleared"]);
  drafts.get("b").tags = ["cat", "dog"];
  const multiclass = d.classifyGestures(drafts, ["a", "b"], "dog", false);
  assert.deepEqual(multiclass.gestures.map((g) => g.item), ["a", "b"]);
});

test("drafts from the server's JSON keep order and types", () => {
  const draft = d.draftFromJson({
    tags: ["x"], regions: { r2: { region_id: "r2", kind: "box", tag: "t", x: 1, y: 1, w: 1, h: 1, points: [], locked: true } },
    strokes: [{ stroke_id: "s", tag: null, radius: 2, points: [[1, 2]] }], spans: { s1: { span_id: "s1", tag: "P", start: 0, end: 2 } },
  });
  assert.equal(draft.regions.get("r2").locked, true);
  assert.equal(draft.spans.get("s1").end, 2);
  assert.equal(d.tagCounts(draft).get("t"), 1);
  const copy = d.cloneDraft(draft);
  copy.regions.get("r2").x = 99;
  assert.equal(draft.regions.get("r2").x, 1);
});

test("regions and strokes keep their frame; a frame's part of the draft and its mask", () => {
  const fold = new d.ItemFold(false);
  fold.apply("1", ev("box_drawn", { region_id: "a", tag: "cat", x: 0, y: 0, w: 1, h: 1 }), "ann");
  fold.apply("2", ev("box_drawn", { region_id: "b", tag: "cat", x: 1, y: 1, w: 1, h: 1, frame: 6 }), "ann");
  fold.apply("3", ev("polygon_drawn", { region_id: "p", tag: "dog", points: [[0, 2], [2, 2], [2, 4], [0, 4]], frame: 6 }), "ann");
  fold.apply("4", ev("brush_painted", { stroke_id: "s", tag: "cat", radius: 0.5, points: [[0.5, 0.5]] }), "ann");
  fold.apply("5", ev("brush_painted", { stroke_id: "t", tag: "cat", radius: 0.5, points: [[2.5, 0.5]], frame: 6 }), "ann");
  fold.apply("6", ev("brush_erased", { stroke_id: "u", radius: 0.5, points: [[0.5, 0.5]], frame: 6 }), "ann");
  const draft = fold.draftOf("ann");
  assert.deepEqual(d.draftFrames(draft), [0, 6]);
  const zero = d.draftOnFrame(draft, 0);
  assert.deepEqual([...zero.regions.keys()], ["a"]);
  assert.deepEqual(zero.strokes.map((s) => s.stroke_id), ["s"]);
  assert.equal(zero.elsewhere, 2);
  const six = d.draftOnFrame(draft, 6);
  assert.deepEqual([...six.regions.keys()], ["b", "p"]);
  assert.deepEqual(six.strokes.map((s) => s.stroke_id), ["t", "u"]);
  assert.equal(six.elsewhere, 1);
  assert.equal(d.draftOnFrame(draft, 3).regions.size, 0);
  const values = new Map([["cat", 1], ["dog", 2]]);
  assert.deepEqual([...draftMask(draft, 4, 4, values)], [1, 0, 0, 0, ...Array(12).fill(0)]);
  assert.deepEqual([...draftMask(draft, 4, 4, values, { frame: 6 })], [0, 0, 1, 0, 0, 0, 0, 0, 2, 2, 0, 0, 2, 2, 0, 0]);
  // The server's JSON of a draft written before frames has none: frame 0.
  const old = d.draftFromJson({ regions: { a: { region_id: "a", kind: "box", x: 0, y: 0, w: 1, h: 1 } }, strokes: [{ stroke_id: "s", tag: null, radius: 1, points: [[1, 1]] }] });
  assert.equal(old.regions.get("a").frame, 0);
  assert.equal(old.strokes[0].frame, 0);
  assert.equal(d.draftOnFrame(old, 0).regions.size, 1);
});
