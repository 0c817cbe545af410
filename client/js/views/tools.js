// What the mouse does on the image, per tool: draw, place, move, resize, edit points, paint,
// erase, window/level and pan. Every finished gesture becomes one event through `ed.emit`.
import * as g from "../geometry.js";
import { notify } from "../app.js";
import { newId } from "../outbox.js";

/** Image coordinates sent to the server: multiples of 1/64 px, so sums stay exact. */
export const q = (v) => Math.round(v * 64) / 64;
const qp = (p) => [q(p.x), q(p.y)];
const DRAG_MIN = 3; // screen pixels before a press becomes a drag

export function pointerDown(ed, e) {
  const { view } = ed;
  const sx = e.offsetX, sy = e.offsetY;
  const p = g.toImage(view, sx, sy);
  const W = ed.info.width, H = ed.info.height;
  const tol = 7 / view.scale;
  const start = { sx, sy, p, button: e.button };
  if (e.button === 1 || ed.spaceDown || ed.tool === "pan") {
    ed.drag = { mode: "pan", ...start, view0: { ...view } };
    return;
  }
  if ((e.button === 2 || ed.tool === "wl") && ed.dicom?.window) {
    ed.drag = { mode: "wl", ...start, window0: { ...ed.dicom.window } };
    return;
  }
  if (e.button !== 0) return;
  const regions = [...ed.shown().regions.values()];
  const selected = ed.selectedRegion();
  switch (ed.tool) {
    case "rect":
      ed.drag = { mode: "draw-box", ...start };
      return;
    case "template": {
      const box = g.placeTemplate(p, g.templateSize(ed.lastBox), W, H);
      emitBox(ed, box);
      return;
    }
    case "polygon":
      polygonClick(ed, g.clampPoint(p, W, H), tol);
      return;
    case "points":
      pointsClick(ed, p, tol, regions);
      return;
    case "delete": {
      const r = g.regionAt(p, regions, tol);
      if (!r) return;
      if (r.locked) { lockedNotice(); return; }
      ed.emit({ type: "annotation.region_deleted", region_id: r.region_id });
      ed.select(null);
      return;
    }
    case "brush":
    case "eraser": {
      if (ed.tool === "brush" && !ed.s.currentTag) { notify("Pick a tag to paint with (click it or press its number).", "warn", { id: "need-tag" }); return; }
      const pt = qp(g.clampPoint(p, W, H));
      ed.drag = { mode: "paint", ...start, points: [pt], tag: ed.tool === "brush" ? ed.s.currentTag : null };
      ed.mask?.segment(pt, pt, ed.radius(), ed.drag.tag);
      ed.redraw();
      return;
    }
    default: {
      // "move" (M): handles of the selection first, then any region's inside.
      if (selected && !selected.locked) {
        if (selected.kind === "box") {
          const handle = g.handleAt(p, selected, tol);
          if (handle) { ed.drag = { mode: "resize", handle, region: selected, ...start }; return; }
        } else {
          const vi = g.vertexAt(p, selected.points, tol);
          if (vi >= 0) { ed.drag = { mode: "move-point", index: vi, region: selected, ...start }; return; }
        }
      }
      const r = g.regionAt(p, regions, tol);
      ed.select(r ? r.region_id : null);
      if (r && r.locked) { ed.drag = { mode: "locked", ...start }; return; }
      if (r) ed.drag = { mode: "move", region: r, ...start };
    }
  }
}

export function pointerMove(ed, e) {
  const d = ed.drag;
  const sx = e.offsetX, sy = e.offsetY;
  const p = g.toImage(ed.view, sx, sy);
  ed.cursor = p;
  const W = ed.info.width, H = ed.info.height;
  if (!d) {
    if (ed.tool === "polygon" && ed.polygon.length) ed.preview = { kind: "polygon", points: ed.polygon, cursor: [p.x, p.y], tag: ed.s.currentTag };
    else if (ed.tool === "brush" || ed.tool === "eraser") ed.preview = { kind: "brush", x: p.x, y: p.y, radius: ed.radius(), erase: ed.tool === "eraser", tag: ed.s.currentTag };
    ed.status();
    ed.redraw();
    return;
  }
  const dxs = sx - d.sx, dys = sy - d.sy;
  d.moved = d.moved || Math.hypot(dxs, dys) >= DRAG_MIN;
  const dx = p.x - d.p.x, dy = p.y - d.p.y;
  switch (d.mode) {
    case "pan":
      ed.view = { ...d.view0, tx: d.view0.tx + dxs, ty: d.view0.ty + dys };
      break;
    case "wl":
      ed.dicom.drag(d.window0, dxs, dys);
      ed.status();
      break;
    case "draw-box":
      if (d.moved) ed.preview = { kind: "box", ...g.boxFromCorners(d.p.x, d.p.y, p.x, p.y, W, H), tag: ed.s.currentTag };
      break;
    case "resize":
      ed.ghost = { ...d.region, ...g.resizeBox(d.region, d.handle, dx, dy, W, H) };
      break;
    case "move":
      if (!d.moved) return;
      if (d.region.kind === "box") ed.ghost = { ...d.region, ...g.moveBox(d.region, dx, dy, W, H) };
      else {
        const shift = g.clampPolygonShift(d.region.points, dx, dy, W, H);
        ed.ghost = { ...d.region, points: g.shiftPolygon(d.region.points, shift.dx, shift.dy), shift };
      }
      break;
    case "move-point": {
      const c = g.clampPoint(p, W, H);
      const points = d.region.points.map((pt, i) => (i === d.index ? [c.x, c.y] : pt));
      ed.ghost = { ...d.region, points };
      break;
    }
    case "paint": {
      const pt = qp(g.clampPoint(p, W, H));
      const last = d.points[d.points.length - 1];
      if (Math.hypot(pt[0] - last[0], pt[1] - last[1]) < Math.max(0.5, ed.radius() / 4)) break;
      if (d.points.length >= 9999) { finishPaint(ed, d); ed.drag = d = { ...d, points: [last] }; }
      d.points.push(pt);
      ed.mask?.segment(last, pt, ed.radius(), d.tag);
      ed.preview = { kind: "brush", x: p.x, y: p.y, radius: ed.radius(), erase: d.tag == null, tag: d.tag };
      break;
    }
    default:
  }
  ed.redraw();
}

export function pointerUp(ed, e) {
  const d = ed.drag;
  ed.drag = null;
  if (!d) return;
  const p = g.toImage(ed.view, e.offsetX, e.offsetY);
  const W = ed.info.width, H = ed.info.height;
  const ghost = ed.ghost;
  ed.ghost = null;
  switch (d.mode) {
    case "draw-box": {
      ed.preview = null;
      const box = g.boxFromCorners(d.p.x, d.p.y, p.x, p.y, W, H);
      if (d.moved && box.w * ed.view.scale >= DRAG_MIN && box.h * ed.view.scale >= DRAG_MIN) {
        const drawn = emitBox(ed, box);
        if (drawn) ed.rememberBox(drawn);
      } else {
        const r = g.regionAt(d.p, [...ed.shown().regions.values()], 7 / ed.view.scale);
        ed.select(r ? r.region_id : null);
      }
      break;
    }
    case "resize":
      if (ghost && d.moved) {
        const b = quantBox(ghost, W, H);
        ed.emit({ type: "annotation.box_resized", region_id: d.region.region_id, ...b });
      }
      break;
    case "move":
      if (ghost && d.moved) {
        if (d.region.kind === "box") {
          const b = quantBox(ghost, W, H);
          ed.emit({ type: "annotation.box_moved", region_id: d.region.region_id, x: b.x, y: b.y });
        } else if (ghost.shift.dx || ghost.shift.dy) {
          ed.emit({ type: "annotation.polygon_moved", region_id: d.region.region_id, dx: q(ghost.shift.dx), dy: q(ghost.shift.dy) });
        }
      }
      break;
    case "move-point":
      if (ghost && d.moved) {
        ed.emit({ type: "annotation.polygon_point_moved", region_id: d.region.region_id, index: d.index, point: ghost.points[d.index].map(q) });
      }
      break;
    case "locked":
      if (d.moved) lockedNotice();
      break;
    case "paint":
      finishPaint(ed, d);
      break;
    default:
  }
  ed.redraw();
}

function finishPaint(ed, d) {
  const radius = ed.radius();
  if (d.tag == null) ed.emit({ type: "annotation.brush_erased", stroke_id: newId("s"), radius, points: d.points }, { maskDone: true });
  else ed.emit({ type: "annotation.brush_painted", stroke_id: newId("s"), tag: d.tag, radius, points: d.points }, { maskDone: true });
}

function quantBox(b, W, H) {
  const w = Math.max(1 / 64, Math.min(q(b.w), W)), h = Math.max(1 / 64, Math.min(q(b.h), H));
  const x = Math.max(0, Math.min(q(b.x), W - w)), y = Math.max(0, Math.min(q(b.y), H - h));
  return { x, y, w, h };
}

function emitBox(ed, box) {
  const b = quantBox(box, ed.info.width, ed.info.height);
  const region_id = newId("r");
  ed.emit({ type: "annotation.box_drawn", region_id, tag: ed.s.currentTag, ...b });
  ed.select(region_id);
  return b;
}

export function closePolygon(ed) {
  let pts = ed.polygon;
  // A double-click lands twice on the closing point: drop the repeats.
  pts = pts.filter((pt, i) => i === 0 || Math.hypot(pt[0] - pts[i - 1][0], pt[1] - pts[i - 1][1]) > 0.5);
  if (pts.length < 3) { notify("A polygon needs at least three points.", "warn", { id: "poly" }); return; }
  const region_id = newId("r");
  ed.emit({ type: "annotation.polygon_drawn", region_id, tag: ed.s.currentTag, points: pts.map(([x, y]) => [q(x), q(y)]) });
  ed.polygon = [];
  ed.preview = null;
  ed.select(region_id);
}

function polygonClick(ed, p, tol) {
  if (g.closesPolygon(p, ed.polygon, tol)) { closePolygon(ed); return; }
  ed.polygon.push([p.x, p.y]);
  ed.preview = { kind: "polygon", points: ed.polygon, tag: ed.s.currentTag };
  ed.redraw();
}

function pointsClick(ed, p, tol, regions) {
  const polygons = regions.filter((r) => r.kind === "polygon");
  const sel = ed.selectedRegion();
  const order = sel && sel.kind === "polygon" ? [sel, ...polygons.filter((r) => r !== sel)] : polygons;
  for (const r of order) {
    const vi = g.vertexAt(p, r.points, tol);
    if (vi >= 0) {
      if (r.locked) { lockedNotice(); return; }
      if (r.points.length <= 3) { notify("A polygon keeps at least three points.", "warn", { id: "poly" }); return; }
      ed.emit({ type: "annotation.polygon_point_removed", region_id: r.region_id, index: vi });
      ed.select(r.region_id);
      return;
    }
    const edge = g.edgeAt(p, r.points, tol);
    if (edge) {
      if (r.locked) { lockedNotice(); return; }
      ed.emit({ type: "annotation.polygon_point_added", region_id: r.region_id, index: edge.index, point: edge.point.map(q) });
      ed.select(r.region_id);
      return;
    }
  }
}

export function lockedNotice() {
  notify("This region is locked: press L (or its lock button) to unlock it first.", "warn", { id: "locked" });
}
