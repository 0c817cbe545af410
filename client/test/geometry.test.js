import { test } from "node:test";
import assert from "node:assert/strict";
import * as g from "../js/geometry.js";

test("boxFromCorners normalises and clips to the image", () => {
  assert.deepEqual(g.boxFromCorners(50, 40, 10, 5, 100, 100), { x: 10, y: 5, w: 40, h: 35 });
  assert.deepEqual(g.boxFromCorners(-5, -5, 120, 20, 100, 100), { x: 0, y: 0, w: 100, h: 20 });
});

test("handleAt finds corners before edges and nothing far away", () => {
  const box = { x: 10, y: 10, w: 100, h: 50 };
  assert.equal(g.handleAt({ x: 10, y: 10 }, box, 4), "nw");
  assert.equal(g.handleAt({ x: 112, y: 61 }, box, 4), "se");
  assert.equal(g.handleAt({ x: 60, y: 8 }, box, 4), "n");
  assert.equal(g.handleAt({ x: 109, y: 30 }, box, 4), "e");
  assert.equal(g.handleAt({ x: 60, y: 30 }, box, 4), null);
  assert.equal(g.handleAt({ x: 200, y: 10 }, box, 4), null);
});

test("resizeBox keeps the opposite side, flips past it, stays in the image", () => {
  const box = { x: 10, y: 10, w: 20, h: 20 };
  assert.deepEqual(g.resizeBox(box, "se", 5, 10, 100, 100), { x: 10, y: 10, w: 25, h: 30 });
  assert.deepEqual(g.resizeBox(box, "w", 30, 0, 100, 100), { x: 30, y: 10, w: 10, h: 20 });
  assert.deepEqual(g.resizeBox(box, "n", 0, -50, 100, 100), { x: 10, y: 0, w: 20, h: 30 });
  assert.deepEqual(g.resizeBox(box, "e", 500, 0, 100, 100), { x: 10, y: 10, w: 90, h: 20 });
  const flat = g.resizeBox(box, "s", 0, -20, 100, 100);
  assert.equal(flat.h, 1);
});

test("moveBox stays inside the image", () => {
  assert.deepEqual(g.moveBox({ x: 10, y: 10, w: 20, h: 20 }, 200, -50, 100, 80), { x: 80, y: 0, w: 20, h: 20 });
});

test("template size: 50×50 first, then the last drawn box's", () => {
  assert.deepEqual(g.templateSize(null), { w: 50, h: 50 });
  assert.deepEqual(g.templateSize({ x: 0, y: 0, w: 12, h: 30 }), { w: 12, h: 30 });
  assert.deepEqual(g.placeTemplate({ x: 5, y: 5 }, { w: 50, h: 50 }, 320, 240), { x: 0, y: 0, w: 50, h: 50 });
  assert.deepEqual(g.placeTemplate({ x: 100, y: 100 }, { w: 50, h: 50 }, 320, 240), { x: 75, y: 75, w: 50, h: 50 });
  assert.deepEqual(g.placeTemplate({ x: 10, y: 10 }, { w: 500, h: 50 }, 320, 240), { x: 0, y: 0, w: 320, h: 50 });
});

test("point in polygon, vertices and edges", () => {
  const tri = [[0, 0], [10, 0], [0, 10]];
  assert.ok(g.pointInPolygon({ x: 2, y: 2 }, tri));
  assert.ok(!g.pointInPolygon({ x: 8, y: 8 }, tri));
  assert.equal(g.vertexAt({ x: 9.5, y: 0.4 }, tri, 1), 1);
  assert.equal(g.vertexAt({ x: 5, y: 5 }, tri, 1), -1);
  const edge = g.edgeAt({ x: 5, y: 0.5 }, tri, 1);
  assert.equal(edge.index, 1);
  assert.deepEqual(edge.point, [5, 0]);
  const hyp = g.edgeAt({ x: 5.2, y: 5.2 }, tri, 1);
  assert.equal(hyp.index, 2);
  assert.equal(g.edgeAt({ x: 3, y: 3 }, tri, 1), null);
});

test("regionAt picks the smallest region containing the point", () => {
  const big = { region_id: "big", kind: "box", x: 0, y: 0, w: 100, h: 100 };
  const small = { region_id: "small", kind: "box", x: 40, y: 40, w: 10, h: 10 };
  const poly = { region_id: "poly", kind: "polygon", points: [[60, 60], [70, 60], [65, 70]] };
  assert.equal(g.regionAt({ x: 45, y: 45 }, [big, small, poly], 1).region_id, "small");
  assert.equal(g.regionAt({ x: 10, y: 10 }, [big, small, poly], 1).region_id, "big");
  assert.equal(g.regionAt({ x: 65, y: 63 }, [big, small, poly], 1).region_id, "poly");
  assert.equal(g.regionAt({ x: 500, y: 10 }, [big, small], 1), null);
});

test("polygon shift is limited to the image", () => {
  const pts = [[10, 10], [30, 10], [20, 40]];
  assert.deepEqual(g.clampPolygonShift(pts, -50, 5, 100, 100), { dx: -10, dy: 5 });
  assert.deepEqual(g.clampPolygonShift(pts, 100, 100, 100, 100), { dx: 70, dy: 60 });
  assert.ok(g.closesPolygon({ x: 10.5, y: 10 }, pts, 2));
  assert.ok(!g.closesPolygon({ x: 10.5, y: 10 }, pts.slice(0, 2), 2));
});

test("the view maps screen to image and zooms about the cursor", () => {
  const view = g.fitView(200, 100, 432, 232, 16);
  assert.equal(view.scale, 2);
  const p = g.toImage(view, 216, 116);
  assert.deepEqual(p, { x: 100, y: 50 });
  const zoomed = g.zoomAt(view, 2, 216, 116);
  assert.deepEqual(g.toImage(zoomed, 216, 116), { x: 100, y: 50 });
  const s = g.toScreen(zoomed, 100, 50);
  assert.deepEqual(s, { x: 216, y: 116 });
});
