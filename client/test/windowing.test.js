import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import * as w from "../js/windowing.js";

function payload(samples, rows, columns, slope = 1, intercept = -1024) {
  const header = Buffer.alloc(32);
  header.write("ALMV", 0, "latin1");
  header.writeUInt8(1, 4);
  header.write("i", 5, "latin1");
  header.writeUInt8(2, 6);
  header.writeUInt32LE(rows, 8);
  header.writeUInt32LE(columns, 12);
  header.writeDoubleLE(slope, 16);
  header.writeDoubleLE(intercept, 24);
  const raw = new Uint8Array(new Int16Array(samples).buffer);
  const n = samples.length, planes = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) { planes[i] = raw[2 * i]; planes[n + i] = raw[2 * i + 1]; }
  return { header, planes };
}

test("the values payload decodes to the samples", () => {
  const samples = [-2000, -1, 0, 1, 300, 4095];
  const { header, planes } = payload(samples, 2, 3);
  const h = w.parseHeader(header.buffer.slice(header.byteOffset, header.byteOffset + 32));
  assert.deepEqual({ rows: h.rows, columns: h.columns, kind: h.kind, size: h.size }, { rows: 2, columns: 3, kind: "i", size: 2 });
  assert.equal(h.intercept, -1024);
  assert.deepEqual([...w.samplesFromPlanes(planes, h)], samples);
  assert.ok(deflateSync(planes).length > 0);
});

test("LINEAR, LINEAR_EXACT and SIGMOID follow the standard", () => {
  const win = { center: 40, width: 400, function: "LINEAR" };
  assert.equal(w.greyOf(-160, win), 0);
  assert.equal(w.greyOf(240, win), 255);
  assert.equal(w.quantise(w.greyOf(39.5, win)), 128);
  assert.equal(w.greyOf(40, { ...win, function: "LINEAR_EXACT" }), 127.5);
  assert.equal(w.greyOf(40, { ...win, function: "SIGMOID" }), 127.5);
  assert.equal(w.greyOfVoiLut(5, { first_mapped: 0, bits: 8, data: [0, 10, 20, 30, 40, 255] }), 255);
});

test("the lookup table folds rescale, window and MONOCHROME1 inversion", () => {
  const win = { center: 40, width: 400, function: "LINEAR" };
  const lut = w.buildLut(-2000, 4095, 1, -1024, win, false);
  const samples = new Int16Array([-2000, 1064, 4095]);
  const out = new Uint32Array(3);
  w.applyLut(samples, -2000, lut, out);
  assert.deepEqual([...out].map((p) => p & 255), [0, 128, 255]);
  assert.equal(out[0] >>> 24, 255);
  const inverted = w.buildLut(-2000, 4095, 1, -1024, win, true);
  w.applyLut(samples, -2000, inverted, out);
  assert.deepEqual([...out].map((p) => p & 255), [255, 127, 0]);
  const direct = new Uint32Array(3);
  w.applyDirect(samples, 1, -1024, win, true, direct);
  assert.deepEqual(direct, out);
});

test("dragging: right widens, down raises the level, width never below 1", () => {
  const start = { center: 40, width: 400, function: "LINEAR" };
  const moved = w.dragWindow(start, 100, 50, 4096);
  assert.equal(moved.width, 800);
  assert.equal(moved.center, 240);
  assert.equal(w.dragWindow(start, -10000, 0, 4096).width, 1);
  assert.deepEqual(w.autoWindow(-1000, 3000), { center: 1000, width: 4000, function: "LINEAR_EXACT", explanation: "AUTO" });
  const r = w.sampleRange(new Int16Array([-2000, 5, 7, -2000]), { low: -2000, high: -2000 });
  assert.deepEqual(r, { min: -2000, max: 7, unpaddedMin: 5, unpaddedMax: 7 });
  assert.equal(w.PRESETS.find((p) => p.name === "CT lung").center, -600);
});
