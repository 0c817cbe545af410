// A labeler's draft of one item and how each gesture changes it: the client's copy of
// events/projections/drafts.py and items.py (undo, redo, proposals), used for optimistic
// drawing, for others' live strokes and for the auditor's stroke-by-stroke replay.

export const MULTI_LABEL = new Set(["image_multilabel", "text_multilabel"]);
export const CLASSIFICATION = new Set(["image_multiclass", "image_multilabel", "text_multiclass", "text_multilabel"]);
export const REGION_TYPES = new Set(["bounding_boxes", "polygons", "semantic_segmentation"]);

export function emptyDraft() {
  return { tags: [], regions: new Map(), strokes: [], spans: new Map(), prelabel: null };
}

/** A draft from the server's JSON (`drafts[labeler]` of the item state). */
export function draftFromJson(json) {
  const draft = emptyDraft();
  if (!json) return draft;
  draft.tags = [...(json.tags || [])];
  for (const r of Object.values(json.regions || {})) draft.regions.set(r.region_id, normRegion(r));
  draft.strokes = (json.strokes || []).map((s) => ({ ...s, frame: s.frame ?? 0, points: s.points.map((p) => [p[0], p[1]]) }));
  for (const s of Object.values(json.spans || {})) draft.spans.set(s.span_id, { ...s });
  draft.prelabel = json.prelabel ?? null;
  return draft;
}

function normRegion(r) {
  return {
    region_id: r.region_id, kind: r.kind, tag: r.tag ?? null, x: r.x ?? 0, y: r.y ?? 0,
    w: r.w ?? 0, h: r.h ?? 0, points: (r.points || []).map((p) => [p[0], p[1]]), locked: !!r.locked,
    frame: r.frame ?? 0,
  };
}

export function cloneDraft(d) {
  const out = emptyDraft();
  out.tags = [...d.tags];
  for (const [k, r] of d.regions) out.regions.set(k, { ...r, points: r.points.map((p) => [...p]) });
  out.strokes = d.strokes.map((s) => ({ ...s, points: s.points }));
  for (const [k, s] of d.spans) out.spans.set(k, { ...s });
  out.prelabel = d.prelabel;
  return out;
}

const polygonOf = (d, id) => {
  const r = d.regions.get(id);
  return r && r.kind === "polygon" ? r : null;
};
const boxOf = (d, id) => {
  const r = d.regions.get(id);
  return r && r.kind === "box" ? r : null;
};

const HANDLERS = {
  "annotation.tag_applied": (d, e, multi) => {
    if (!multi) d.tags = [e.tag];
    else if (!d.tags.includes(e.tag)) d.tags.push(e.tag);
  },
  "annotation.tag_cleared": (d, e) => { d.tags = d.tags.filter((t) => t !== e.tag); },
  "annotation.box_drawn": (d, e) => {
    d.regions.set(e.region_id, normRegion({ ...e, kind: "box" }));
  },
  "annotation.box_moved": (d, e) => {
    const r = boxOf(d, e.region_id);
    if (r) { r.x = e.x; r.y = e.y; }
  },
  "annotation.box_resized": (d, e) => {
    const r = boxOf(d, e.region_id);
    if (r) Object.assign(r, { x: e.x, y: e.y, w: e.w, h: e.h });
  },
  "annotation.polygon_drawn": (d, e) => {
    d.regions.set(e.region_id, normRegion({ region_id: e.region_id, kind: "polygon", tag: e.tag, points: e.points, frame: e.frame }));
  },
  "annotation.polygon_point_added": (d, e) => {
    const r = polygonOf(d, e.region_id);
    if (r && e.index <= r.points.length) r.points.splice(e.index, 0, [e.point[0], e.point[1]]);
  },
  "annotation.polygon_point_removed": (d, e) => {
    const r = polygonOf(d, e.region_id);
    if (r && e.index < r.points.length && r.points.length > 3) r.points.splice(e.index, 1);
  },
  "annotation.polygon_point_moved": (d, e) => {
    const r = polygonOf(d, e.region_id);
    if (r && e.index < r.points.length) r.points[e.index] = [e.point[0], e.point[1]];
  },
  "annotation.polygon_moved": (d, e) => {
    const r = polygonOf(d, e.region_id);
    if (r) r.points = r.points.map(([x, y]) => [Math.max(0, x + e.dx), Math.max(0, y + e.dy)]);
  },
  "annotation.region_retagged": (d, e) => {
    const r = d.regions.get(e.region_id);
    if (r) r.tag = e.tag;
  },
  "annotation.region_deleted": (d, e) => { d.regions.delete(e.region_id); },
  "annotation.all_regions_deleted": (d) => {
    for (const [k, r] of [...d.regions]) if (!r.locked) d.regions.delete(k);
  },
  "annotation.region_lock_toggled": (d, e) => {
    const r = d.regions.get(e.region_id);
    if (r) r.locked = e.locked;
  },
  "annotation.brush_painted": (d, e) => {
    d.strokes.push({ stroke_id: e.stroke_id, tag: e.tag, radius: e.radius, points: e.points, frame: e.frame ?? 0 });
  },
  "annotation.brush_erased": (d, e) => {
    d.strokes.push({ stroke_id: e.stroke_id, tag: null, radius: e.radius, points: e.points, frame: e.frame ?? 0 });
  },
  "annotation.span_tagged": (d, e) => {
    d.spans.set(e.span_id, { span_id: e.span_id, tag: e.tag, start: e.start, end: e.end });
  },
  "annotation.spans_cleared": (d, e) => { for (const id of e.span_ids) d.spans.delete(id); },
  "annotation.spans_retagged": (d, e) => {
    for (const id of e.span_ids) {
      const s = d.spans.get(id);
      if (s) s.tag = e.tag;
    }
  },
};

export const isDrawingGesture = (type) => type in HANDLERS;

/** The gestures that make something on one frame of the item (they carry `frame`). */
export const FRAMED = new Set(["annotation.box_drawn", "annotation.polygon_drawn", "annotation.brush_painted", "annotation.brush_erased"]);

/** The part of a draft on `frame` of a multi-frame item (a single-frame item has frame 0 only):
 * its regions and strokes; `elsewhere` counts the regions on other frames. */
export function draftOnFrame(draft, frame) {
  const regions = new Map();
  let elsewhere = 0;
  for (const [id, r] of draft.regions) {
    if ((r.frame ?? 0) === frame) regions.set(id, r);
    else elsewhere += 1;
  }
  const strokes = draft.strokes.filter((s) => (s.frame ?? 0) === frame);
  return { ...draft, regions, strokes, elsewhere };
}

/** The frames a draft draws on, in order. */
export function draftFrames(draft) {
  const frames = new Set([...draft.regions.values()].map((r) => r.frame ?? 0));
  for (const s of draft.strokes) frames.add(s.frame ?? 0);
  return [...frames].sort((a, b) => a - b);
}

/** Applies one drawing gesture to a draft in place; returns whether it was one. */
export function applyGesture(draft, event, multiLabel) {
  const handler = HANDLERS[event.type];
  if (!handler) return false;
  handler(draft, event, multiLabel);
  return true;
}

/** The draft made by a proposal (assist.prelabel_proposed), as the server builds it (frame 0). */
export function draftFromProposal(proposalId, p, multiLabel) {
  const d = emptyDraft();
  d.tags = multiLabel ? [...new Set(p.tags || [])] : (p.tags || []).slice(0, 1);
  (p.boxes || []).forEach((b, i) => {
    const id = `${proposalId}:b${i}`;
    d.regions.set(id, normRegion({ region_id: id, kind: "box", tag: b.tag, x: b.x, y: b.y, w: b.w, h: b.h }));
  });
  (p.polygons || []).forEach((g, i) => {
    const id = `${proposalId}:p${i}`;
    d.regions.set(id, normRegion({ region_id: id, kind: "polygon", tag: g.tag, points: g.points }));
  });
  (p.spans || []).forEach((s, i) => {
    const id = `${proposalId}:s${i}`;
    d.spans.set(id, { span_id: id, tag: s.tag, start: s.start, end: s.end });
  });
  d.prelabel = proposalId;
  return d;
}

/** Folds an item's history (recorded envelopes, in order) as events/projections/items.py does:
 * per labeler the gestures in effect, those undone, and the draft they make. */
export class ItemFold {
  constructor(multiLabel) {
    this.multiLabel = multiLabel;
    this.work = new Map();
    this.proposals = new Map();
    this.latestProposal = null;
  }

  workOf(labeler) {
    let w = this.work.get(labeler);
    if (!w) this.work.set(labeler, (w = { done: [], undone: [], draft: emptyDraft() }));
    return w;
  }

  apply(eventId, event, actor) {
    const t = event.type;
    if (t === "assist.prelabel_proposed") {
      this.proposals.set(eventId, event);
      this.latestProposal = eventId;
      return;
    }
    const w = this.workOf(actor);
    if (isDrawingGesture(t) || t === "annotation.prelabel_applied") {
      w.done.push([eventId, event]);
      w.undone.length = 0;
      this._apply(w, event);
    } else if (t === "annotation.undone") {
      const i = findLast(w.done, event.target);
      if (i >= 0) {
        w.undone.push(w.done.splice(i, 1)[0]);
        this._refold(w);
      }
    } else if (t === "annotation.redone") {
      const i = findLast(w.undone, event.target);
      if (i >= 0) {
        const g = w.undone.splice(i, 1)[0];
        w.done.push(g);
        this._apply(w, g[1]);
      }
    } else if (t === "annotation.draft_discarded") {
      w.draft = emptyDraft();
      w.done.length = 0;
      w.undone.length = 0;
    }
  }

  _apply(w, event) {
    if (event.type === "annotation.prelabel_applied") {
      const p = this.proposals.get(event.proposal_event_id);
      if (p) w.draft = draftFromProposal(event.proposal_event_id, p, this.multiLabel);
    } else {
      applyGesture(w.draft, event, this.multiLabel);
    }
  }

  _refold(w) {
    w.draft = emptyDraft();
    for (const [, e] of w.done) this._apply(w, e);
  }

  draftOf(labeler) {
    const w = this.work.get(labeler);
    return w ? w.draft : emptyDraft();
  }
}

function findLast(list, id) {
  for (let i = list.length - 1; i >= 0; i--) if (list[i][0] === id) return i;
  return -1;
}

/** Why a draft cannot be submitted under the project type's rule, or null (server's rule). */
export function incompleteReason(projectType, draft) {
  if (projectType === "image_multiclass" || projectType === "text_multiclass") {
    if (draft.tags.length !== 1) return `needs exactly one tag (has ${draft.tags.length})`;
  } else if (MULTI_LABEL.has(projectType)) {
    if (!draft.tags.length) return "needs at least one tag";
  } else {
    const untagged = [...draft.regions.values()].filter((r) => r.tag == null);
    if (untagged.length) return `${untagged.length} region${untagged.length > 1 ? "s" : ""} without a tag`;
  }
  return null;
}

/** The gestures that choosing `tag` makes on the selected items of a classification page:
 * when every selected item already carries it, it is cleared from them; otherwise it is
 * applied to those lacking it (multi-class replaces the item's tag, multi-label adds). */
export function classifyGestures(drafts, selected, tag, multiLabel) {
  if (!selected.length) return { error: "Select at least one item first (click it, or Select all).", gestures: [] };
  const carrying = selected.filter((item) => drafts.get(item)?.tags.includes(tag));
  if (carrying.length === selected.length) {
    return { cleared: true, gestures: selected.map((item) => ({ item, event: { type: "annotation.tag_cleared", tag } })) };
  }
  const gestures = [];
  for (const item of selected) {
    const tags = drafts.get(item)?.tags ?? [];
    const done = multiLabel ? tags.includes(tag) : tags.length === 1 && tags[0] === tag;
    if (!done) gestures.push({ item, event: { type: "annotation.tag_applied", tag } });
  }
  return { cleared: false, gestures };
}

/** The tags a draft uses, for the legend: name → count. */
export function tagCounts(draft) {
  const counts = new Map();
  const add = (t) => t != null && counts.set(t, (counts.get(t) || 0) + 1);
  draft.tags.forEach(add);
  for (const r of draft.regions.values()) add(r.tag);
  for (const s of draft.strokes) add(s.tag);
  for (const s of draft.spans.values()) add(s.tag);
  return counts;
}
