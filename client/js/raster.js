// The semantic mask rasterizer, bit for bit the server's (events/projections/masks.py).
// Pixel (x, y) is mask[y * width + x] with centre (x + 0.5, y + 0.5); IEEE doubles, in the
// server's order of operations, and comparisons made on the centres themselves so that no
// rounding of a derived bound can differ from numpy's.

/** A mask of `width` × `height` tag values (0 = none). */
export const newMask = (width, height) => new Uint16Array(width * height);

/** Sets to `value` every pixel whose centre lies within `radius` of the stroke's polyline. */
export function paintStroke(mask, width, height, points, radius, value) {
  const r2 = radius * radius;
  const pts = points.map(([x, y]) => [+x, +y]);
  const segments = pts.length > 1 ? pts.length - 1 : 1;
  for (let s = 0; s < segments; s++) {
    const a = pts[s], b = pts.length > 1 ? pts[s + 1] : pts[s];
    paintSegment(mask, width, height, a, b, r2, radius, value);
  }
}

/** One capsule a→b (the server paints each segment of a stroke this way). */
export function paintSegment(mask, width, height, a, b, r2, radius, value) {
  const x0 = Math.max(0, Math.floor(Math.min(a[0], b[0]) - radius) - 1);
  const x1 = Math.min(width, Math.ceil(Math.max(a[0], b[0]) + radius) + 1);
  const y0 = Math.max(0, Math.floor(Math.min(a[1], b[1]) - radius) - 1);
  const y1 = Math.min(height, Math.ceil(Math.max(a[1], b[1]) + radius) + 1);
  if (x0 >= x1 || y0 >= y1) return;
  const [ax, ay] = a, [bx, by] = b;
  const dx = bx - ax, dy = by - ay;
  const length2 = dx * dx + dy * dy;
  for (let y = y0; y < y1; y++) {
    const cy = y + 0.5;
    const wy = cy - ay, vy = cy - by;
    const row = y * width;
    for (let x = x0; x < x1; x++) {
      const cx = x + 0.5;
      const wx = cx - ax, vx = cx - bx;
      let hit = wx * wx + wy * wy <= r2 || vx * vx + vy * vy <= r2;
      if (!hit && length2 > 0) {
        const t = wx * dx + wy * dy;
        const k = dx * wy - dy * wx;
        hit = t >= 0 && t <= length2 && k * k <= r2 * length2;
      }
      if (hit) mask[row + x] = value;
    }
  }
}

/** Sets to `value` every pixel whose centre lies inside the polygon (even-odd rule). */
export function fillPolygon(mask, width, height, points, value) {
  if (points.length < 3 || width === 0 || height === 0) return;
  const rows = new Map();
  const n = points.length;
  for (let i = 0; i < n; i++) {
    const p = points[i], q = points[(i + 1) % n];
    // Taken from its lower end, as the server does, so a bridge edge walked both ways cancels.
    const up = +p[1] <= +q[1];
    const [xl, yl] = up ? [+p[0], +p[1]] : [+q[0], +q[1]];
    const [xh, yh] = up ? [+q[0], +q[1]] : [+p[0], +p[1]];
    // Rows whose centre cy satisfies yl <= cy < yh, clipped to the mask.
    let r = Math.max(0, Math.floor(yl) - 1);
    while (r < height && r + 0.5 < yl) r++;
    for (; r < height && r + 0.5 < yh; r++) {
      const x = xl + (((r + 0.5) - yl) * (xh - xl)) / (yh - yl);
      let list = rows.get(r);
      if (!list) rows.set(r, (list = []));
      list.push(x);
    }
  }
  for (const [r, xs] of rows) {
    xs.sort((a, b) => a - b);
    const row = r * width;
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = firstCentreAtOrAfter(xs[k], width), to = firstCentreAtOrAfter(xs[k + 1], width);
      for (let c = from; c < to; c++) mask[row + c] = value;
    }
  }
}

/** The first column whose centre is >= x (numpy's searchsorted 'left' over the centres). */
function firstCentreAtOrAfter(x, width) {
  let c = Math.min(width, Math.max(0, Math.ceil(x - 0.5)));
  while (c > 0 && c - 1 + 0.5 >= x) c--;
  while (c < width && c + 0.5 < x) c++;
  return c;
}

/** Mask value of each tag: its position in the project's tag set plus one. */
export function tagValues(tags) {
  const values = new Map();
  tags.forEach((tag, index) => values.set(tag.name, index + 1));
  return values;
}

/** A draft's mask of one frame as the server makes it: that frame's strokes in order, then
 * its tagged polygons on top. */
export function draftMask(draft, width, height, values, { polygons = true, frame = 0 } = {}) {
  const mask = newMask(width, height);
  for (const stroke of draft.strokes) {
    if ((stroke.frame ?? 0) !== frame) continue;
    const value = stroke.tag == null ? 0 : values.get(stroke.tag) ?? 0;
    paintStroke(mask, width, height, stroke.points, stroke.radius, value);
  }
  if (polygons) {
    for (const region of draft.regions.values()) {
      if ((region.frame ?? 0) !== frame) continue;
      if (region.kind === "polygon" && region.tag != null && values.has(region.tag)) {
        fillPolygon(mask, width, height, region.points, values.get(region.tag));
      }
    }
  }
  return mask;
}

/** Paints a mask into RGBA pixels (a Uint32Array over an ImageData), one colour per value. */
export function maskToPixels(mask, out32, palette32) {
  for (let i = 0; i < mask.length; i++) out32[i] = palette32[mask[i]];
}

/** Packs "#rrggbb" and an alpha 0..255 into the little-endian Uint32 of an ImageData pixel. */
export function packColour(hex, alpha) {
  const v = parseInt(hex.slice(1), 16);
  const r = (v >> 16) & 255, g = (v >> 8) & 255, b = v & 255;
  return ((alpha << 24) | (b << 16) | (g << 8) | r) >>> 0;
}
