// Window/level of DICOM modality values in the browser (docs/dicom.md): the server's values
// payload, the VOI functions of PS3.3 C.11.2 as server/dicom/windowing.py has them, and a
// lookup table over the frame's sample range applied to an ImageData's pixels.

export const PRESETS = [
  { name: "CT soft tissue", center: 40, width: 400 },
  { name: "CT lung", center: -600, width: 1500 },
  { name: "CT liver", center: 90, width: 150 },
  { name: "CT bone", center: 480, width: 2500 },
  { name: "CT brain", center: 40, width: 80 },
];

const SAMPLE_TYPES = {
  u1: Uint8Array, i1: Int8Array, u2: Uint16Array, i2: Int16Array,
  u4: Uint32Array, i4: Int32Array, f4: Float32Array,
};

/** The 32-byte header of a values payload. */
export function parseHeader(buffer) {
  const v = new DataView(buffer, 0, 32);
  const magic = String.fromCharCode(v.getUint8(0), v.getUint8(1), v.getUint8(2), v.getUint8(3));
  if (magic !== "ALMV" || v.getUint8(4) !== 1) throw new Error("not a version 1 modality values payload");
  return {
    kind: String.fromCharCode(v.getUint8(5)), size: v.getUint8(6),
    rows: v.getUint32(8, true), columns: v.getUint32(12, true),
    slope: v.getFloat64(16, true), intercept: v.getFloat64(24, true),
  };
}

/** Samples from the inflated byte planes (byte 0 of every sample, then byte 1...). */
export function samplesFromPlanes(planes, header) {
  const { kind, size, rows, columns } = header;
  const n = rows * columns;
  const Samples = SAMPLE_TYPES[kind + size];
  if (!Samples) throw new Error(`unsupported sample kind ${kind}${size}`);
  const bytes = new Uint8Array(n * size);
  for (let b = 0; b < size; b++) {
    const plane = planes.subarray(b * n, (b + 1) * n);
    for (let i = 0, j = b; i < n; i++, j += size) bytes[j] = plane[i];
  }
  return new Samples(bytes.buffer);
}

export function sampleRange(samples, padding = null) {
  let lo = Infinity, hi = -Infinity, plo = Infinity, phi = -Infinity;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (s < lo) lo = s;
    if (s > hi) hi = s;
    if (padding !== null && s >= padding.low && s <= padding.high) continue;
    if (s < plo) plo = s;
    if (s > phi) phi = s;
  }
  if (plo === Infinity) { plo = lo; phi = hi; }
  return { min: lo, max: hi, unpaddedMin: plo, unpaddedMax: phi };
}

/** The automatic window: LINEAR_EXACT over min..max of the modality values. */
export function autoWindow(vmin, vmax) {
  const width = vmax > vmin ? vmax - vmin : 1;
  return { center: (vmin + vmax) / 2, width, function: "LINEAR_EXACT", explanation: "AUTO" };
}

/** Grey level 0..255 (unquantised) of modality value x under a window. */
export function greyOf(x, w) {
  const { center, width } = w;
  switch (w.function || "LINEAR") {
    case "LINEAR_EXACT":
      if (x <= center - width / 2) return 0;
      if (x > center + width / 2) return 255;
      return ((x - center) / width + 0.5) * 255;
    case "SIGMOID":
      return 255 / (1 + Math.exp((-4 * (x - center)) / width));
    default: {
      const cw = Math.max(1, width);
      if (x <= center - 0.5 - (cw - 1) / 2) return 0;
      if (x > center - 0.5 + (cw - 1) / 2) return 255;
      return ((x - (center - 0.5)) / (cw - 1) + 0.5) * 255;
    }
  }
}

/** Grey level of modality value x through a VOI LUT Sequence item. */
export function greyOfVoiLut(x, lut) {
  const i = Math.min(lut.data.length - 1, Math.max(0, Math.floor(x - lut.first_mapped)));
  return lut.data[i] * (255 / (2 ** lut.bits - 1));
}

export const quantise = (y) => Math.min(255, Math.max(0, Math.floor(y + 0.5)));

/** A lookup table from sample value (offset by `min`) to an ImageData pixel (little-endian
 * RGBA as one Uint32): rescale, window (or VOI LUT) and MONOCHROME1 inversion folded in. */
export function buildLut(min, max, slope, intercept, voi, invert, lut = null) {
  const n = max - min + 1;
  const out = lut && lut.length >= n ? lut : new Uint32Array(n);
  const grey = voi.lut ? (x) => greyOfVoiLut(x, voi.lut) : (x) => greyOf(x, voi);
  for (let i = 0; i < n; i++) {
    let g = quantise(grey((min + i) * slope + intercept));
    if (invert) g = 255 - g;
    out[i] = (0xff000000 | (g << 16) | (g << 8) | g) >>> 0;
  }
  return out;
}

/** Writes the windowed frame into `out32` (a Uint32Array over an ImageData's buffer). */
export function applyLut(samples, min, lut, out32) {
  for (let i = 0; i < samples.length; i++) out32[i] = lut[samples[i] - min];
}

/** Float samples have no table: window each value. */
export function applyDirect(samples, slope, intercept, voi, invert, out32) {
  for (let i = 0; i < samples.length; i++) {
    let g = quantise(voi.lut ? greyOfVoiLut(samples[i] * slope + intercept, voi.lut) : greyOf(samples[i] * slope + intercept, voi));
    if (invert) g = 255 - g;
    out32[i] = (0xff000000 | (g << 16) | (g << 8) | g) >>> 0;
  }
}

/** The window after dragging (dx, dy) screen pixels from `start`: right widens, down raises
 * the level; the sensitivity follows the value range (range / 1024 per pixel); width >= 1. */
export function dragWindow(start, dx, dy, range) {
  const m = Math.max(range, 1) / 1024;
  return {
    ...start, lut: undefined,
    width: Math.max(1, start.width + dx * m),
    center: start.center + dy * m,
    function: start.function === "SIGMOID" ? "SIGMOID" : start.function || "LINEAR",
    explanation: "",
  };
}

/** The windows a file offers (its own, then its VOI LUTs), for the preset menu. */
export function fileWindows(transform) {
  const out = [];
  (transform?.windows || []).forEach((w, i) => out.push({
    name: w.explanation || `File window ${i + 1}`, center: w.center, width: w.width, function: w.function,
  }));
  (transform?.voi_luts || []).forEach((lut, i) => out.push({
    name: lut.explanation || `File VOI LUT ${i + 1}`, lut, center: 0, width: 1,
  }));
  return out;
}
