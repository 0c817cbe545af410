// Drawing an item on a canvas: the image, the mask, then regions batched into one path per
// colour and style (2,000 boxes cost a few path calls, not 2,000 strokes), the selection's
// handles, others' work in a ghost style, and whatever is being drawn right now.
import { toScreen } from "../geometry.js";
import { paintStroke, paintSegment, packColour, newMask } from "../raster.js";

const HANDLE = 4;
const LABEL_LIMIT = 300;

/** The canvas holding a draft's mask, kept in step stroke by stroke. */
export class MaskLayer {
  constructor(width, height, tags) {
    this.width = width;
    this.height = height;
    this.mask = newMask(width, height);
    this.canvas = document.createElement("canvas");
    this.canvas.width = width;
    this.canvas.height = height;
    this.ctx = this.canvas.getContext("2d");
    this.image = this.ctx.createImageData(width, height);
    this.out32 = new Uint32Array(this.image.data.buffer);
    this.values = new Map(tags.map((t, i) => [t.name, i + 1]));
    this.palette = new Uint32Array(tags.length + 1);
    tags.forEach((t, i) => { this.palette[i + 1] = packColour(t.colour, 120); });
    this.empty = true;
  }

  /** Repaints from the draft's strokes in order (after an undo or a reload). */
  rebuild(strokes) {
    this.mask.fill(0);
    for (const s of strokes) this.stroke(s.points, s.radius, s.tag, false);
    this.flush();
  }

  stroke(points, radius, tag, flush = true) {
    const value = tag == null ? 0 : this.values.get(tag) ?? 0;
    paintStroke(this.mask, this.width, this.height, points, radius, value);
    if (flush) this.flush();
  }

  segment(a, b, radius, tag) {
    const value = tag == null ? 0 : this.values.get(tag) ?? 0;
    paintSegment(this.mask, this.width, this.height, a, b, radius * radius, radius, value);
    this.flush();
  }

  flush() {
    const { mask, out32, palette } = this;
    let any = false;
    for (let i = 0; i < mask.length; i++) {
      const v = mask[i];
      out32[i] = palette[v];
      if (v) any = true;
    }
    this.empty = !any;
    this.ctx.putImageData(this.image, 0, 0);
  }

  valueAt(x, y) {
    return this.mask[Math.floor(y) * this.width + Math.floor(x)];
  }
}

function hexAlpha(hex, alpha) {
  const v = parseInt(hex.slice(1), 16);
  return `rgba(${(v >> 16) & 255},${(v >> 8) & 255},${v & 255},${alpha})`;
}

function boxPath(path, view, r) {
  const a = toScreen(view, r.x, r.y);
  path.rect(Math.round(a.x) + 0.5, Math.round(a.y) + 0.5, Math.round(r.w * view.scale), Math.round(r.h * view.scale));
}

function polygonPath(path, view, points, close = true) {
  points.forEach(([x, y], i) => {
    const p = toScreen(view, x, y);
    if (i === 0) path.moveTo(p.x, p.y);
    else path.lineTo(p.x, p.y);
  });
  if (close) path.closePath();
}

/**
 * Draws one frame. `scene`: {base (image or canvas), width, height, mask (MaskLayer|null),
 * regions (array), colour(tag), selected, hover, locked icon, others: [{who, draft}], preview}.
 */
export function drawScene(ctx, dpr, view, scene) {
  const canvas = ctx.canvas;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#1d2127";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.imageSmoothingEnabled = view.scale < 2;
  if (scene.base) {
    ctx.save();
    ctx.translate(view.tx, view.ty);
    ctx.scale(view.scale, view.scale);
    ctx.drawImage(scene.base, 0, 0, scene.width, scene.height);
    if (scene.mask && !scene.mask.empty) {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(scene.mask.canvas, 0, 0);
    }
    ctx.restore();
  }
  drawOthers(ctx, view, scene);
  drawRegions(ctx, view, scene);
  drawPreview(ctx, view, scene);
}

/** The regions, grouped by colour and style so that each group sets its style once: boxes as
 * fillRect / strokeRect (Skia's fastest path, also without a GPU), polygons as one path per
 * group. 2,000 boxes redraw in a few milliseconds. */
export function drawRegions(ctx, view, scene) {
  const groups = new Map();
  for (const r of scene.regions) {
    const colour = r.tag ? scene.colour(r.tag) : "#ffffff";
    const dashed = r.locked || !r.tag;
    const key = `${colour}|${dashed}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { colour, dashed, boxes: [], polygons: null }));
    if (r.kind === "box") g.boxes.push(r);
    else polygonPath((g.polygons ??= new Path2D()), view, r.points);
  }
  const { scale, tx, ty } = view;
  ctx.lineWidth = 2;
  for (const g of groups.values()) {
    ctx.fillStyle = hexAlpha(g.colour, 0.16);
    ctx.strokeStyle = g.colour;
    ctx.setLineDash(g.dashed ? [6, 4] : []);
    for (const r of g.boxes) {
      const x = Math.round(r.x * scale + tx) + 0.5, y = Math.round(r.y * scale + ty) + 0.5;
      const w = Math.round(r.w * scale), h = Math.round(r.h * scale);
      ctx.fillRect(x, y, w, h);
      ctx.strokeRect(x, y, w, h);
    }
    if (g.polygons) {
      ctx.fill(g.polygons, "evenodd");
      ctx.stroke(g.polygons);
    }
  }
  ctx.setLineDash([]);
  if (scene.regions.length <= LABEL_LIMIT) drawLabels(ctx, view, scene);
  const sel = scene.regions.find((r) => r.region_id === scene.selected);
  if (sel) drawSelection(ctx, view, sel, scene);
}

function drawLabels(ctx, view, scene) {
  ctx.font = "600 12px system-ui, sans-serif";
  ctx.textBaseline = "bottom";
  for (const r of scene.regions) {
    const anchor = r.kind === "box" ? [r.x, r.y] : r.points.reduce((a, p) => (p[1] < a[1] ? p : a), r.points[0]);
    const p = toScreen(view, anchor[0], anchor[1]);
    const text = r.tag ?? "untagged";
    const lock = r.locked ? 12 : 0;
    const w = ctx.measureText(text).width + 8 + lock;
    ctx.fillStyle = r.tag ? scene.colour(r.tag) : "#5f6368";
    ctx.fillRect(p.x, p.y - 17, w, 17);
    ctx.fillStyle = scene.ink(r.tag);
    ctx.strokeStyle = scene.ink(r.tag);
    if (lock) padlock(ctx, p.x + 4, p.y - 14);
    ctx.fillText(text, p.x + 4 + lock, p.y - 3);
  }
}

/** A small padlock (no emoji font is needed): body 8×6 under a shackle. */
function padlock(ctx, x, y) {
  ctx.fillRect(x, y + 5, 8, 6);
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.arc(x + 4, y + 5, 2.6, Math.PI, 0);
  ctx.stroke();
}

function drawSelection(ctx, view, r, scene) {
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "#fff";
  ctx.setLineDash([4, 3]);
  const path = new Path2D();
  if (r.kind === "box") boxPath(path, view, r);
  else polygonPath(path, view, r.points);
  ctx.stroke(path);
  ctx.setLineDash([]);
  if (r.locked) return;
  const points = r.kind === "box"
    ? [[r.x, r.y], [r.x + r.w / 2, r.y], [r.x + r.w, r.y], [r.x + r.w, r.y + r.h / 2], [r.x + r.w, r.y + r.h], [r.x + r.w / 2, r.y + r.h], [r.x, r.y + r.h], [r.x, r.y + r.h / 2]]
    : r.points;
  ctx.fillStyle = "#fff";
  ctx.strokeStyle = r.tag ? scene.colour(r.tag) : "#333";
  for (const [x, y] of points) {
    const p = toScreen(view, x, y);
    ctx.fillRect(p.x - HANDLE, p.y - HANDLE, 2 * HANDLE, 2 * HANDLE);
    ctx.strokeRect(p.x - HANDLE, p.y - HANDLE, 2 * HANDLE, 2 * HANDLE);
  }
}

/** Others' regions and strokes on the same item, thin and translucent, named. */
function drawOthers(ctx, view, scene) {
  for (const { who, draft } of scene.others || []) {
    ctx.save();
    ctx.globalAlpha = 0.55;
    ctx.setLineDash([2, 3]);
    ctx.lineWidth = 1.5;
    for (const r of draft.regions.values()) {
      const path = new Path2D();
      if (r.kind === "box") boxPath(path, view, r);
      else polygonPath(path, view, r.points);
      ctx.strokeStyle = r.tag ? scene.colour(r.tag) : "#fff";
      ctx.stroke(path);
    }
    ctx.setLineDash([]);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const s of draft.strokes) {
      const path = new Path2D();
      polygonPath(path, view, s.points.length === 1 ? [s.points[0], s.points[0]] : s.points, false);
      ctx.lineWidth = Math.max(1, 2 * s.radius * view.scale);
      ctx.strokeStyle = s.tag ? scene.colour(s.tag) : "rgba(0,0,0,0.6)";
      ctx.globalAlpha = 0.35;
      ctx.stroke(path);
    }
    const first = draft.regions.values().next().value;
    if (first) {
      const at = first.kind === "box" ? [first.x, first.y + first.h] : first.points[0];
      const p = toScreen(view, at[0], at[1]);
      ctx.globalAlpha = 0.9;
      ctx.font = "italic 12px system-ui, sans-serif";
      ctx.fillStyle = "#fff";
      ctx.fillText(who, p.x + 2, p.y + 14);
    }
    ctx.restore();
  }
}

function drawPreview(ctx, view, scene) {
  const pv = scene.preview;
  if (!pv) return;
  const colour = pv.tag ? scene.colour(pv.tag) : "#ffffff";
  ctx.lineWidth = 2;
  ctx.strokeStyle = colour;
  ctx.fillStyle = hexAlpha(colour, 0.15);
  if (pv.kind === "box") {
    const path = new Path2D();
    boxPath(path, view, pv);
    ctx.setLineDash([5, 3]);
    ctx.fill(path);
    ctx.stroke(path);
    ctx.setLineDash([]);
  } else if (pv.kind === "polygon") {
    const path = new Path2D();
    polygonPath(path, view, pv.cursor ? [...pv.points, pv.cursor] : pv.points, false);
    ctx.stroke(path);
    ctx.fillStyle = "#fff";
    pv.points.forEach(([x, y], i) => {
      const p = toScreen(view, x, y);
      ctx.beginPath();
      ctx.arc(p.x, p.y, i === 0 ? 5 : 3, 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
    });
  } else if (pv.kind === "brush") {
    const p = toScreen(view, pv.x, pv.y);
    ctx.beginPath();
    ctx.arc(p.x, p.y, Math.max(1, pv.radius * view.scale), 0, Math.PI * 2);
    ctx.strokeStyle = pv.erase ? "#fff" : colour;
    ctx.setLineDash(pv.erase ? [3, 3] : []);
    ctx.stroke();
    ctx.setLineDash([]);
  }
}
