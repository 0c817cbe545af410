// Pure geometry of regions: boxes, polygons, hit tests, resize handles, the view transform.
// No DOM here: every function takes and returns plain numbers and objects (image pixels).

export const HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];
export const TEMPLATE_DEFAULT = { w: 50, h: 50 };
const MIN_SIZE = 1;

export const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/** The box spanned by two corners, clipped to the image. */
export function boxFromCorners(x0, y0, x1, y1, width, height) {
  const ax = clamp(Math.min(x0, x1), 0, width), bx = clamp(Math.max(x0, x1), 0, width);
  const ay = clamp(Math.min(y0, y1), 0, height), by = clamp(Math.max(y0, y1), 0, height);
  return { x: ax, y: ay, w: bx - ax, h: by - ay };
}

/** A box moved so that it stays inside the image (a box larger than the image is shrunk). */
export function clampBox(box, width, height) {
  const w = Math.min(box.w, width), h = Math.min(box.h, height);
  return { x: clamp(box.x, 0, width - w), y: clamp(box.y, 0, height - h), w, h };
}

export function moveBox(box, dx, dy, width, height) {
  return clampBox({ ...box, x: box.x + dx, y: box.y + dy }, width, height);
}

export function pointInBox(p, box, tol = 0) {
  return p.x >= box.x - tol && p.x <= box.x + box.w + tol &&
    p.y >= box.y - tol && p.y <= box.y + box.h + tol;
}

/** The resize handle of `box` under `p` (corners win over edges), or null. `tol` in pixels. */
export function handleAt(p, box, tol) {
  const { x, y, w, h } = box;
  const near = (a, b) => Math.abs(a - b) <= tol;
  const inX = p.x >= x - tol && p.x <= x + w + tol, inY = p.y >= y - tol && p.y <= y + h + tol;
  if (!inX || !inY) return null;
  const left = near(p.x, x), right = near(p.x, x + w), top = near(p.y, y), bottom = near(p.y, y + h);
  if (top && left) return "nw";
  if (top && right) return "ne";
  if (bottom && right) return "se";
  if (bottom && left) return "sw";
  if (top) return "n";
  if (bottom) return "s";
  if (left) return "w";
  if (right) return "e";
  return null;
}

/** The box after dragging `handle` by (dx, dy): the opposite side stays, the box stays in
 * the image and keeps at least one pixel; dragging past the opposite side flips it. */
export function resizeBox(box, handle, dx, dy, width, height) {
  let x0 = box.x, y0 = box.y, x1 = box.x + box.w, y1 = box.y + box.h;
  if (handle.includes("w")) x0 += dx;
  if (handle.includes("e")) x1 += dx;
  if (handle.includes("n")) y0 += dy;
  if (handle.includes("s")) y1 += dy;
  const out = boxFromCorners(x0, y0, x1, y1, width, height);
  if (out.w < MIN_SIZE) {
    out.w = MIN_SIZE;
    out.x = Math.min(out.x, width - MIN_SIZE);
  }
  if (out.h < MIN_SIZE) {
    out.h = MIN_SIZE;
    out.y = Math.min(out.y, height - MIN_SIZE);
  }
  return out;
}

/** The template box's size: 50×50 until a box was drawn, then the last drawn box's size. */
export function templateSize(lastBox) {
  return lastBox && lastBox.w > 0 && lastBox.h > 0 ? { w: lastBox.w, h: lastBox.h } : { ...TEMPLATE_DEFAULT };
}

/** A template box centred on `p`, kept inside the image. */
export function placeTemplate(p, size, width, height) {
  return clampBox({ x: p.x - size.w / 2, y: p.y - size.h / 2, w: size.w, h: size.h }, width, height);
}

/** Even-odd point-in-polygon test. */
export function pointInPolygon(p, points) {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i], [xj, yj] = points[j];
    if ((yi > p.y) !== (yj > p.y) && p.x < ((xj - xi) * (p.y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Distance from p to the segment a→b, and the closest point on it. */
export function segmentDistance(p, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((p.x - a[0]) * dx + (p.y - a[1]) * dy) / len2 : 0;
  t = clamp(t, 0, 1);
  const cx = a[0] + t * dx, cy = a[1] + t * dy;
  return { distance: Math.hypot(p.x - cx, p.y - cy), point: [cx, cy], t };
}

/** The index of the polygon's vertex within `tol` of p (the closest), or -1. */
export function vertexAt(p, points, tol) {
  let best = -1, bestD = tol;
  points.forEach(([x, y], i) => {
    const d = Math.hypot(p.x - x, p.y - y);
    if (d <= bestD) { best = i; bestD = d; }
  });
  return best;
}

/** The edge within `tol` of p: `index` is where a new point goes (before point `index`). */
export function edgeAt(p, points, tol) {
  let best = null;
  for (let i = 0; i < points.length; i++) {
    const a = points[i], b = points[(i + 1) % points.length];
    const hit = segmentDistance(p, a, b);
    if (hit.distance <= tol && (!best || hit.distance < best.distance)) {
      best = { index: i + 1, point: hit.point, distance: hit.distance };
    }
  }
  return best;
}

export function polygonBounds(points) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** The shift (dx, dy) limited so that every point stays inside the image. */
export function clampPolygonShift(points, dx, dy, width, height) {
  const b = polygonBounds(points);
  return {
    dx: clamp(dx, -b.x, width - (b.x + b.w)),
    dy: clamp(dy, -b.y, height - (b.y + b.h)),
  };
}

export function shiftPolygon(points, dx, dy) {
  return points.map(([x, y]) => [Math.max(0, x + dx), Math.max(0, y + dy)]);
}

function area(region) {
  if (region.kind === "box") return region.w * region.h;
  const b = polygonBounds(region.points);
  return b.w * b.h;
}

/** Whether p hits a region (inside, or within tol of its outline). */
export function hitsRegion(p, region, tol) {
  if (region.kind === "box") return pointInBox(p, region, tol);
  const pts = region.points;
  return pointInPolygon(p, pts) || edgeAt(p, pts, tol) !== null || vertexAt(p, pts, tol) >= 0;
}

/** The region under p: the smallest one that contains it, so nested regions stay reachable. */
export function regionAt(p, regions, tol) {
  let best = null;
  for (const region of regions) {
    if (!hitsRegion(p, region, tol)) continue;
    if (!best || area(region) < area(best)) best = region;
  }
  return best;
}

/** Closes a polygon being drawn when the click lands on its first point. */
export function closesPolygon(p, points, tol) {
  return points.length >= 3 && Math.hypot(p.x - points[0][0], p.y - points[0][1]) <= tol;
}

// The view: screen = image * scale + (tx, ty).

export function fitView(width, height, canvasW, canvasH, margin = 16) {
  const scale = Math.max(1e-3, Math.min((canvasW - 2 * margin) / width, (canvasH - 2 * margin) / height));
  return { scale, tx: (canvasW - width * scale) / 2, ty: (canvasH - height * scale) / 2 };
}

export const toImage = (view, sx, sy) => ({ x: (sx - view.tx) / view.scale, y: (sy - view.ty) / view.scale });
export const toScreen = (view, x, y) => ({ x: x * view.scale + view.tx, y: y * view.scale + view.ty });

/** Zooms by `factor` keeping the image point under (sx, sy) where it is. */
export function zoomAt(view, factor, sx, sy, min = 0.05, max = 64) {
  const scale = clamp(view.scale * factor, min, max);
  const k = scale / view.scale;
  return { scale, tx: sx - (sx - view.tx) * k, ty: sy - (sy - view.ty) * k };
}

/** Clips a point to the image. */
export const clampPoint = (p, width, height) => ({ x: clamp(p.x, 0, width), y: clamp(p.y, 0, height) });
